/**
 * Parser for Go text/template: builds the node tree the executor walks. Follows Go's parse
 * package (pipelines, commands, operands, field chains, variable scoping, if/else if/range/with)
 * and its error wording. `{{define}}`, `{{template}}` and `{{block}}` are not supported.
 */
import { lex, TemplateSyntaxError, type Token } from './lexer.ts';

/** An argument of a command: Go's parse node kinds that can appear in a pipeline. */
export type Operand =
  | { type: 'field'; pos: number; ident: string[] }
  | { type: 'variable'; pos: number; ident: string[] } // ident[0] is the name, e.g. "$x"
  | { type: 'chain'; pos: number; node: Operand; fields: string[] }
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number'; pos: number; value: number; text: string }
  | { type: 'string'; pos: number; value: string; text: string }
  | { type: 'pipe'; pos: number; pipe: Pipeline };

/** Operands separated by spaces; the first is the function, method, field or value. */
export interface Command { pos: number; args: Operand[] }
/** Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables. */
export interface Pipeline { pos: number; decl: string[]; isAssign: boolean; cmds: Command[] }

/** {{if}}, {{with}} or {{range}}: the pipeline, the body, and the {{else}} body if any. */
export interface ControlNode {
  type: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipeline;
  list: TemplateNode[];
  elseList: TemplateNode[] | undefined;
}

/** A node of the template body. */
export type TemplateNode =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipeline }
  | ControlNode
  | { type: 'break' | 'continue'; pos: number };

/**
 * Parse `src`. `hasFunction` decides which identifiers are functions (Go checks this at parse
 * time: `function "foo" not defined`).
 * @throws TemplateSyntaxError (message without the "template: :LINE:" prefix; see lineOf).
 */
export function parseTemplate(src: string, hasFunction: (name: string) => boolean): TemplateNode[] {
  return new Parser(lex(src), hasFunction).parseAll();
}

/** Canonical text of an operand/command/pipeline, as Go's String() methods print them in errors. */
export function nodeString(n: Operand | Command | Pipeline): string {
  if ('cmds' in n) {
    const decl = n.decl.length ? `${n.decl.join(', ')} ${n.isAssign ? '=' : ':='} ` : '';
    return decl + n.cmds.map(nodeString).join(' | ');
  }
  if ('args' in n) return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a.pipe)})` : nodeString(a))).join(' ');
  switch (n.type) {
    case 'field': return n.ident.map((f) => '.' + f).join('');
    case 'variable': return n.ident[0] + n.ident.slice(1).map((f) => '.' + f).join('');
    case 'chain': return (n.node.type === 'pipe' ? `(${nodeString(n.node.pipe)})` : nodeString(n.node)) + n.fields.map((f) => '.' + f).join('');
    case 'identifier': return n.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': case 'string': return n.text;
    case 'pipe': return `(${nodeString(n.pipe)})`;
  }
}

type ListEnd = 'eof' | 'end' | 'else';

class Parser {
  #i = 0;
  #vars: string[] = ['$'];
  #rangeDepth = 0;
  constructor(private readonly toks: Token[], private readonly hasFunction: (name: string) => boolean) {}

  parseAll(): TemplateNode[] {
    const { list, end } = this.#itemList();
    if (end.kind !== 'eof') throw this.#err(`unexpected {{${end.kind}}}`, end.pos);
    return list;
  }

  #peek(): Token { return this.toks[this.#i]!; }
  #next(): Token { return this.toks[this.#i++]!; }
  #backup(): void { this.#i--; }
  #peekNonSpace(): Token { while (this.#peek().type === 'space') this.#i++; return this.#peek(); }
  #nextNonSpace(): Token { this.#peekNonSpace(); return this.#next(); }
  #err(msg: string, pos: number): TemplateSyntaxError { return new TemplateSyntaxError(msg, pos); }
  #unexpected(t: Token, context: string): TemplateSyntaxError {
    if (t.type === 'eof') return this.#err(`unexpected EOF in ${context}`, t.pos);
    if (t.type === 'rightDelim') return this.#err(`unexpected "}}" in ${context}`, t.pos);
    return this.#err(`unexpected ${JSON.stringify(t.value)} in ${context}`, t.pos);
  }

  /** Text and actions up to EOF, {{end}} or {{else}} (the terminator is consumed). */
  #itemList(): { list: TemplateNode[]; end: { kind: ListEnd; pos: number } } {
    const list: TemplateNode[] = [];
    for (;;) {
      const t = this.#next();
      if (t.type === 'eof') return { list, end: { kind: 'eof', pos: t.pos } };
      if (t.type === 'text') { list.push({ type: 'text', text: t.value }); continue; }
      // leftDelim
      const k = this.#nextNonSpace();
      if (k.type === 'keyword') {
        switch (k.value) {
          case 'end': this.#expectRightDelim('end'); return { list, end: { kind: 'end', pos: k.pos } };
          case 'else': return { list, end: { kind: 'else', pos: k.pos } }; // caller reads the rest
          case 'if': case 'range': case 'with': list.push(this.#control(k.value, k.pos)); continue;
          case 'break': case 'continue':
            if (this.#rangeDepth === 0) throw this.#err(`{{${k.value}}} outside {{range}}`, k.pos);
            this.#expectRightDelim(k.value);
            list.push({ type: k.value, pos: k.pos });
            continue;
          default: throw this.#err(`{{${k.value}}} is not supported`, k.pos);
        }
      }
      this.#backup();
      list.push({ type: 'action', pos: k.pos, pipe: this.#pipeline('command', 'rightDelim') });
    }
  }

  #expectRightDelim(context: string): void {
    const t = this.#nextNonSpace();
    if (t.type !== 'rightDelim') throw this.#unexpected(t, context);
  }

  #control(kind: 'if' | 'range' | 'with', pos: number): TemplateNode {
    const mark = this.#vars.length;
    const pipe = this.#pipeline(kind, 'rightDelim');
    if (kind === 'range') this.#rangeDepth++;
    const { list, end } = this.#itemList();
    if (kind === 'range') this.#rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    if (end.kind === 'eof') throw this.#err('unexpected EOF', end.pos);
    if (end.kind === 'else') {
      const after = this.#peekNonSpace();
      if ((kind === 'if' && after.type === 'keyword' && after.value === 'if') || (kind === 'with' && after.type === 'keyword' && after.value === 'with')) {
        // {{else if ...}} / {{else with ...}}: a nested control that consumes the single {{end}}.
        this.#next();
        elseList = [this.#control(kind, after.pos)];
      } else {
        this.#expectRightDelim('else');
        const rest = this.#itemList();
        if (rest.end.kind !== 'end') throw this.#err(rest.end.kind === 'eof' ? 'unexpected EOF' : `expected end; found {{${rest.end.kind}}}`, rest.end.pos);
        elseList = rest.list;
      }
    }
    this.#vars.length = mark;
    return { type: kind, pos, pipe, list, elseList };
  }

  #pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipeline {
    const start = this.#peekNonSpace();
    const pipe: Pipeline = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: $x := ..., $x = ..., and in range: $i, $e := ...
    if (start.type === 'variable') {
      const save = this.#i;
      this.#next();
      const op = this.#peekNonSpace();
      if (op.type === 'declare' || op.type === 'assign') {
        this.#next();
        pipe.decl.push(start.value);
        pipe.isAssign = op.type === 'assign';
        if (op.type === 'declare') this.#vars.push(start.value); else this.#useVar(start.value, start.pos);
      } else if (op.type === 'comma' && context === 'range') {
        this.#next();
        const v2 = this.#nextNonSpace();
        const op2 = this.#nextNonSpace();
        if (v2.type !== 'variable' || (op2.type !== 'declare' && op2.type !== 'assign')) throw this.#err(`range can only initialize variables`, v2.pos);
        pipe.decl.push(start.value, v2.value);
        pipe.isAssign = op2.type === 'assign';
        if (!pipe.isAssign) this.#vars.push(start.value, v2.value);
      } else if (op.type === 'comma') {
        throw this.#err(`too many declarations in ${context}`, op.pos);
      } else {
        this.#i = save;
      }
    }
    for (;;) {
      const t = this.#nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) throw this.#err(`missing value for ${context}`, t.pos);
        pipe.cmds.forEach((c, i) => {
          const first = c.args[0]!;
          if (i > 0 && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.type)) {
            throw this.#err(`non executable command in pipeline stage ${i + 1}`, first.pos);
          }
        });
        return pipe;
      }
      if (['bool', 'char', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'].includes(t.type)) {
        this.#backup();
        pipe.cmds.push(this.#command());
        continue;
      }
      throw this.#unexpected(t, context);
    }
  }

  #command(): Command {
    const cmd: Command = { pos: this.#peekNonSpace().pos, args: [] };
    for (;;) {
      this.#peekNonSpace();
      const operand = this.#operand();
      if (operand) cmd.args.push(operand);
      const t = this.#next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.#backup();
      else if (t.type !== 'pipe') throw this.#unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) throw this.#err('empty command', cmd.pos);
    return cmd;
  }

  #operand(): Operand | undefined {
    const node = this.#term();
    if (!node || this.#peek().type !== 'field') return node;
    // Like Go, a chained node takes the position of its first chained field (errors point there).
    const pos = this.#peek().pos;
    const fields: string[] = [];
    while (this.#peek().type === 'field') fields.push(this.#next().value.slice(1));
    switch (node.type) {
      case 'field': return { type: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable': return { type: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        throw this.#err(`unexpected . after term ${JSON.stringify(nodeString(node))}`, node.pos);
      default: return { type: 'chain', pos, node, fields };
    }
  }

  #term(): Operand | undefined {
    const t = this.#nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.hasFunction(t.value)) throw this.#err(`function ${JSON.stringify(t.value)} not defined`, t.pos);
        return { type: 'identifier', pos: t.pos, name: t.value };
      case 'dot': return { type: 'dot', pos: t.pos };
      case 'nil': return { type: 'nil', pos: t.pos };
      case 'variable': this.#useVar(t.value, t.pos); return { type: 'variable', pos: t.pos, ident: [t.value] };
      case 'field': return { type: 'field', pos: t.pos, ident: [t.value.slice(1)] };
      case 'bool': return { type: 'bool', pos: t.pos, value: t.value === 'true' };
      case 'number': return { type: 'number', pos: t.pos, value: parseNumber(t.value, t.pos), text: t.value };
      case 'char': {
        const s = unquote(t.value, t.pos);
        return { type: 'number', pos: t.pos, value: s.codePointAt(0) ?? 0, text: t.value };
      }
      case 'leftParen': return { type: 'pipe', pos: t.pos, pipe: this.#pipeline('parenthesized pipeline', 'rightParen') };
      case 'string': case 'rawString': return { type: 'string', pos: t.pos, value: unquote(t.value, t.pos), text: t.value };
      default: this.#backup(); return undefined;
    }
  }

  #useVar(name: string, pos: number): void {
    if (!this.#vars.includes(name)) throw this.#err(`undefined variable ${JSON.stringify(name)}`, pos);
  }
}

function parseNumber(text: string, pos: number): number {
  const t = text.replace(/_/g, '');
  if (t.endsWith('i')) throw new TemplateSyntaxError(`complex numbers are not supported: ${text}`, pos);
  const sign = t.startsWith('-') ? -1 : 1;
  const body = t.replace(/^[+-]/, '');
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) v = parseInt(body.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(body)) v = parseInt(body.slice(2), 8);
  else if (/^0[bB][01]+$/.test(body)) v = parseInt(body.slice(2), 2);
  else if (/^0[0-7]+$/.test(body)) v = parseInt(body.slice(1), 8); // Go: leading 0 is octal
  else v = Number(body);
  if (Number.isNaN(v) || body === '' || body === '.') throw new TemplateSyntaxError(`illegal number syntax: ${JSON.stringify(text)}`, pos);
  return sign * v;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
};

/** Go's strconv.Unquote for "...", `...` and '.' literals. */
export function unquote(lit: string, pos = 0): string {
  const q = lit[0];
  const body = lit.slice(1, -1);
  if (q === '`') return body.replace(/\r/g, '');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { out += c; continue; }
    const e = body[++i] ?? '';
    if (e in SIMPLE_ESCAPES && (e !== "'" || q === "'") && (e !== '"' || q === '"')) { out += SIMPLE_ESCAPES[e]; continue; }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const h = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(h)) throw new TemplateSyntaxError('invalid syntax', pos);
      out += e === 'x' ? String.fromCharCode(parseInt(h, 16)) : String.fromCodePoint(parseInt(h, 16));
      i += hexLen;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) throw new TemplateSyntaxError('invalid syntax', pos);
      out += String.fromCharCode(parseInt(o, 8));
      i += 2;
      continue;
    }
    throw new TemplateSyntaxError('invalid syntax', pos);
  }
  if (q === "'" && [...out].length !== 1) throw new TemplateSyntaxError(`malformed character constant: ${lit}`, pos);
  return out;
}
