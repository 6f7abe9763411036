/**
 * Executes a parsed Go template against a JS value, following Go's text/template exec rules:
 * field chains on maps (missing key → no value), methods (JS functions on the data are called
 * with the arguments, as Go calls methods), pipelines passing the previous result as the last
 * argument, lazy and/or, variable scoping, range over arrays, maps (sorted keys) and integers.
 */
import { formatValue, goTypeName, isObject, MISSING } from './go-fmt.ts';
import { ArgTypeError, FuncError, isTrue, type FuncMap, type TemplateFunction } from './funcs.ts';
import { nodeString, type Command, type ControlNode, type Operand, type Pipeline, type TemplateNode } from './parser.ts';

/** An execution failure at source offset `pos`; `context` is Go's `<...>` node text. */
export class TemplateExecError extends Error {
  constructor(readonly pos: number, readonly context: string, readonly reason: string) { super(reason); }
}

/** Options: `headerMode` renders docker table headers (missing fields print their upper-cased name, arguments are ignored). */
export interface ExecOptions { funcs: FuncMap; headerMode?: boolean }

const NO_FINAL: unique symbol = Symbol('no final');
type Final = unknown;
class BreakSignal {}
class ContinueSignal {}

type At = Operand | Command | Pipeline;

/**
 * Run `nodes` with `data` as dot and `$`, appending output to `out` (so a caller can keep the
 * partial output of a failed run, as docker does for table headers).
 * @throws TemplateExecError
 */
export function executeTemplate(nodes: TemplateNode[], data: unknown, opts: ExecOptions, out: string[]): void {
  new Executor(opts, data, out).walkList(data, nodes);
}

class Executor {
  #vars: Array<[string, unknown]>;
  constructor(private readonly opts: ExecOptions, root: unknown, private readonly out: string[]) {
    this.#vars = [['$', root]];
  }

  #fail(at: At, reason: string): never {
    let ctx = nodeString(at);
    if (Buffer.byteLength(ctx) > 20) ctx = Buffer.from(ctx).subarray(0, 20).toString() + '...';
    throw new TemplateExecError(at.pos, ctx, reason);
  }

  walkList(dot: unknown, nodes: TemplateNode[]): void {
    for (const n of nodes) this.#walk(dot, n);
  }

  #walk(dot: unknown, n: TemplateNode): void {
    switch (n.type) {
      case 'text': this.out.push(n.text); return;
      case 'action': {
        const v = this.#evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out.push(v === MISSING ? '<no value>' : formatValue(v));
        return;
      }
      case 'if': case 'with': {
        const mark = this.#vars.length;
        const v = this.#evalPipeline(dot, n.pipe);
        if (isTrue(v)) this.walkList(n.type === 'with' ? v : dot, n.list);
        else if (n.elseList) this.walkList(dot, n.elseList);
        this.#vars.length = mark;
        return;
      }
      case 'range': this.#walkRange(dot, n); return;
      case 'break': throw new BreakSignal();
      case 'continue': throw new ContinueSignal();
    }
  }

  #walkRange(dot: unknown, n: ControlNode): void {
    const outer = this.#vars.length;
    const val = this.#evalPipeline(dot, n.pipe);
    const mark = this.#vars.length;
    const decl = n.pipe.decl;
    const one = (key: unknown, elem: unknown): boolean => {
      if (decl.length > 0) {
        if (n.pipe.isAssign) {
          if (decl.length > 1) { this.#setVar(decl[0]!, key); this.#setVar(decl[1]!, elem); } else this.#setVar(decl[0]!, elem);
        } else {
          this.#vars[this.#vars.length - 1]![1] = elem;
          if (decl.length > 1) this.#vars[this.#vars.length - 2]![1] = key;
        }
      }
      try {
        this.walkList(elem, n.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.#vars.length = mark;
      }
      return true;
    };
    let ran = false;
    if (Array.isArray(val)) {
      for (let i = 0; i < val.length; i++) { ran = true; if (!one(i, val[i] === undefined ? null : val[i])) break; }
    } else if (isObject(val)) {
      for (const k of Object.keys(val).sort()) { ran = true; if (!one(k, val[k])) break; }
    } else if (typeof val === 'number' && Number.isInteger(val)) {
      if (decl.length > 1) this.#fail(n.pipe, `can't use ${val} to iterate over more than one variable`);
      for (let i = 0; i < val; i++) { ran = true; if (!one(i, i)) break; }
    } else if (!(val === null || val === MISSING || val === undefined)) {
      this.#fail(n.pipe, `range can't iterate over ${formatValue(val)}`);
    }
    if (!ran && n.elseList) this.walkList(dot, n.elseList);
    this.#vars.length = outer;
  }

  #evalPipeline(dot: unknown, pipe: Pipeline): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.#evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.#setVar(name, value); else this.#vars.push([name, value]);
    }
    return value;
  }

  #evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field': return this.#evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain': return this.#evalChain(dot, first, cmd.args, final);
      case 'identifier': return this.#evalFunction(dot, first, cmd, cmd.args, final);
      case 'variable': return this.#evalVariable(dot, first, cmd.args, final);
      case 'pipe': this.#notAFunction(cmd.args, final); return this.#evalPipeline(dot, first.pipe);
      default: break;
    }
    this.#notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': case 'number': case 'string': return first.value;
      case 'dot': return dot;
      default: return this.#fail(first, 'nil is not a command');
    }
  }

  #notAFunction(args: Operand[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) this.#fail(args[0]!, `can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  #evalVariable(dot: unknown, v: Extract<Operand, { type: 'variable' }>, args: Operand[], final: Final): unknown {
    const value = this.#varValue(v);
    if (v.ident.length === 1) { this.#notAFunction(args, final); return value; }
    return this.#evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  #evalChain(dot: unknown, c: Extract<Operand, { type: 'chain' }>, args: Operand[], final: Final): unknown {
    if (c.node.type === 'nil') this.#fail(c, `indirection through explicit nil in ${nodeString(c)}`);
    return this.#evalFieldChain(dot, this.#evalArg(dot, c.node), c, c.fields, args, final);
  }

  #evalFieldChain(dot: unknown, receiver: unknown, at: Operand, ident: string[], args: Operand[], final: Final): unknown {
    for (let i = 0; i < ident.length - 1; i++) receiver = this.#evalField(dot, ident[i]!, at, [], NO_FINAL, receiver);
    return this.#evalField(dot, ident[ident.length - 1]!, at, args, final, receiver);
  }

  #evalField(dot: unknown, name: string, at: Operand, args: Operand[], final: Final, receiver: unknown): unknown {
    if (receiver === MISSING || receiver === undefined) return MISSING;
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    if (this.opts.headerMode) {
      // docker renders headers from a map of field → title; unknown fields get their name upper-cased.
      if (typeof receiver === 'string') return receiver;
      if (isObject(receiver)) return Object.hasOwn(receiver, name) ? receiver[name] : name.toUpperCase();
    }
    if (isObject(receiver)) {
      const own = Object.hasOwn(receiver, name);
      const v = own || !(name in Object.prototype) ? receiver[name] : undefined;
      if (typeof v === 'function') {
        const argv = args.slice(1).map((a) => this.#arg(dot, a));
        if (final !== NO_FINAL) argv.push(final === MISSING ? null : final);
        try {
          const r: unknown = (v as (...a: unknown[]) => unknown).apply(receiver, argv);
          return r === undefined ? MISSING : r;
        } catch (e) {
          return this.#fail(at, `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (hasArgs) this.#fail(at, `${name} is not a method but has arguments`);
      return v === undefined ? MISSING : v;
    }
    if (receiver === null) return this.#fail(at, `nil pointer evaluating interface {}.${name}`);
    return this.#fail(at, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  #evalFunction(dot: unknown, id: Extract<Operand, { type: 'identifier' }>, cmd: At, args: Operand[], final: Final): unknown {
    const f = this.opts.funcs[id.name];
    if (!f) return this.#fail(id, `"${id.name}" is not a defined function`);
    const argNodes = args.slice(1);
    const nargs = argNodes.length + (final === NO_FINAL ? 0 : 1);
    this.#checkArity(id, f, nargs);
    if (id.name === 'and' || id.name === 'or') {
      // Go 1.18+: evaluation stops at the first argument that decides the result.
      let v: unknown = null;
      for (let i = 0; i < nargs; i++) {
        v = i < argNodes.length ? this.#arg(dot, argNodes[i]!) : final;
        if (isTrue(v) === (id.name === 'or')) return v;
      }
      return v;
    }
    const argv = argNodes.map((a) => this.#arg(dot, a));
    if (final !== NO_FINAL) argv.push(final === MISSING ? null : final);
    try {
      const r = f.fn(argv);
      return r === undefined ? MISSING : r;
    } catch (e) {
      if (e instanceof ArgTypeError) {
        const node = argNodes[e.argIndex];
        const literal = node && ['bool', 'number', 'string', 'nil'].includes(node.type);
        return this.#fail(node ?? id, literal ? e.literalMessage(nodeString(node)) : e.message);
      }
      if (e instanceof FuncError) return this.#fail(cmd, `error calling ${id.name}: ${e.message}`);
      throw e;
    }
  }

  #checkArity(id: Operand, f: TemplateFunction, n: number): void {
    const name = (id as { name: string }).name;
    if (typeof f.arity === 'number') {
      if (n !== f.arity) this.#fail(id, `wrong number of args for ${name}: want ${f.arity} got ${n}`);
    } else if (n < f.arity.min) {
      this.#fail(id, `wrong number of args for ${name}: want at least ${f.arity.min} got ${n}`);
    }
  }

  /** An argument value as a function receives it: Go passes "no value" as nil. */
  #arg(dot: unknown, n: Operand): unknown {
    const v = this.#evalArg(dot, n);
    return v === MISSING ? null : v;
  }

  #evalArg(dot: unknown, n: Operand): unknown {
    switch (n.type) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': case 'number': case 'string': return n.value;
      case 'field': return this.#evalFieldChain(dot, dot, n, n.ident, [n], NO_FINAL);
      case 'variable': return this.#evalVariable(dot, n, [n], NO_FINAL);
      case 'chain': return this.#evalChain(dot, n, [n], NO_FINAL);
      case 'pipe': return this.#evalPipeline(dot, n.pipe);
      case 'identifier': return this.#evalFunction(dot, n, n, [n], NO_FINAL);
    }
  }

  #varValue(v: Extract<Operand, { type: 'variable' }>): unknown {
    const name = v.ident[0]!;
    for (let i = this.#vars.length - 1; i >= 0; i--) if (this.#vars[i]![0] === name) return this.#vars[i]![1];
    return this.#fail(v, `undefined variable: ${name}`);
  }

  #setVar(name: string, value: unknown): void {
    for (let i = this.#vars.length - 1; i >= 0; i--) if (this.#vars[i]![0] === name) { this.#vars[i]![1] = value; return; }
  }
}
