import { EngineError } from '../../lib/errors.ts';
import type { Dockerfile, Heredoc, Instruction, Stage } from './ast.ts';
import { heredocsFromLine } from './heredoc-words.ts';
import { toInstruction } from './instructions.ts';
import { canContainHeredoc, LineError, nodeFromLine, trimLeft, trimNewline, type Escape, type RawNode } from './line-parsers.ts';

/**
 * The Dockerfile parser: text → the AST of ast.ts, with Docker's (BuildKit's dockerfile frontend)
 * line rules and error wording. It works in the same two passes as Docker, so errors come in the
 * same order: first the whole file is cut into logical lines (directives, comments, continuations,
 * here-documents, per-instruction argument shapes), then each line becomes a typed instruction
 * (argument counts, flags, stage names). The line parsers are in line-parsers.ts, the second pass in
 * instructions.ts.
 *
 * Errors point at the instruction's first line: `dockerfile parse error on line 3: unknown
 * instruction: FOOBAR`. Docker reports the first-pass errors (`unterminated heredoc`, `ENV must have
 * two arguments`) with a location but no prefix; berth prefixes them too, so every message names its
 * line. The exceptions keep Docker's bare text: `no build stage in current context` and `file with
 * no instructions`.
 */

/** A Dockerfile syntax error; `line` is 1-based (0 when the file as a whole is at fault). */
export class DockerfileParseError extends EngineError {
  override name = 'DockerfileParseError';
  constructor(message: string, readonly line: number) {
    super('InvalidParameter', message);
  }
}

/**
 * Parse a Dockerfile. Throws DockerfileParseError (kind InvalidParameter) with Docker's wording;
 * the returned tree is plain data owned by the caller. Variables are not expanded (see ast.ts).
 */
export function parseDockerfile(text: string): Dockerfile {
  const { nodes, escape, warnings } = splitLines(text);
  const metaArgs: Dockerfile['metaArgs'] = [];
  const stages: Stage[] = [];
  for (const node of nodes) {
    const inst = typed(node);
    if (inst.kind === 'FROM') {
      stages.push({ index: stages.length, ...(inst.stageName !== undefined ? { name: inst.stageName } : {}), from: inst, instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (inst.kind === 'ARG') { metaArgs.push(inst); continue; }
      throw new DockerfileParseError('no build stage in current context', node.startLine);
    }
    current.instructions.push(inst);
  }
  return { metaArgs, stages, escape, warnings };
}

/**
 * Parse instructions without stage structure: ONBUILD triggers of a base image (one text each) and
 * `docker commit/import --change` lines. Same rules and errors as parseDockerfile, but no FROM is
 * needed; the caller decides which instructions it allows (Docker: "<X> is not a valid change
 * command", ONBUILD's own limits were checked when the trigger was recorded).
 */
export function parseInstructions(text: string, escape: Dockerfile['escape'] = '\\'): Instruction[] {
  return splitLines(text, escape).nodes.map(typed);
}

function typed(node: RawNode): Instruction {
  try {
    return toInstruction(node);
  } catch (err) {
    if (err instanceof LineError) {
      throw new DockerfileParseError(`dockerfile parse error on line ${node.startLine}: ${err.message}`, node.startLine);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// First pass: logical lines.

interface DirectiveState { done: boolean; seen: Set<string> }

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

function splitLines(text: string, initialEscape: Escape = '\\'): { nodes: RawNode[]; escape: Escape; warnings: string[] } {
  const splitter = new LineSplitter(text, initialEscape);
  const nodes: RawNode[] = [];
  for (let node = splitter.next(); node; node = splitter.next()) nodes.push(node);
  if (nodes.length === 0) throw new DockerfileParseError('file with no instructions', 0);
  return { nodes, escape: splitter.escape, warnings: splitter.warnings };
}

/**
 * Docker's parser.Parse as a cursor over the file's physical lines: each next() reads one logical
 * line (continuations joined, comments and directives taken out, here-documents read after it).
 */
class LineSplitter {
  readonly warnings: string[] = [];
  escape: Escape;
  #continuation: RegExp;
  readonly #lines: string[];
  readonly #directives: DirectiveState = { done: false, seen: new Set() };
  #i = 0;
  #currentLine = 0;

  constructor(text: string, escape: Escape) {
    // Lines keep their endings, as heredoc bodies are copied verbatim.
    this.#lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    if (this.#lines.length > 0 && this.#lines[0]!.startsWith('\uFEFF')) this.#lines[0] = this.#lines[0]!.slice(1);
    this.escape = escape;
    this.#continuation = continuationRegex(escape);
  }

  /** The next logical line as a RawNode; undefined at the end of the file. */
  next(): RawNode | undefined {
    const lines = this.#lines;
    while (this.#i < lines.length) {
      let token = this.#processLine(lines[this.#i++]!, true);
      this.#currentLine++;
      const startLine = this.#currentLine;
      let endOfLine: boolean;
      [token, endOfLine] = this.#trimContinuation(token);
      if (endOfLine && token.length === 0) continue;
      let buf = token;
      let hasEmptyContinuation = false;
      while (!endOfLine && this.#i < lines.length) {
        const raw = lines[this.#i++]!;
        const t = this.#processLine(raw, false);
        this.#currentLine++;
        if (isComment(raw)) continue;
        if (trimLeft(trimNewline(t)).length === 0) { hasEmptyContinuation = true; continue; }
        let part: string;
        [part, endOfLine] = this.#trimContinuation(t);
        buf += part;
      }
      if (hasEmptyContinuation) this.warnings.push(`Empty continuation line found in: ${buf}`);
      return this.#node(buf, startLine);
    }
    return undefined;
  }

  #node(buf: string, startLine: number): RawNode {
    let node: RawNode;
    try {
      node = nodeFromLine(buf, this.escape);
    } catch (err) {
      if (err instanceof LineError) return fail(err.message, startLine);
      throw err;
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      const docs = this.#heredocs(buf, startLine);
      (node.sub ?? node).heredocs = docs;
      node.heredocs = docs;
    }
    node.startLine = startLine;
    node.endLine = this.#currentLine;
    return node;
  }

  /** The bodies of the here-documents the line opens, read from the lines after it. */
  #heredocs(buf: string, startLine: number): Heredoc[] {
    const docs: Heredoc[] = [];
    for (const head of heredocsFromLine(buf)) {
      let terminated = false;
      let content = '';
      while (this.#i < this.#lines.length) {
        const raw = this.#lines[this.#i++]!;
        this.#currentLine++;
        let candidate = trimNewline(raw);
        if (head.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === head.name) { terminated = true; break; }
        content += raw;
      }
      if (!terminated) fail('unterminated heredoc', startLine);
      if (head.chomp) content = content.replace(/^\t+/gm, '');
      docs.push({ ...head, content });
    }
    return docs;
  }

  /** Docker's processLine: strip the newline (and leading space), note a directive, drop comments. */
  #processLine(raw: string, stripLeft: boolean): string {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeft(token);
    const lineNo = this.#currentLine + 1;
    let directive: { name: string; value: string } | undefined;
    try {
      directive = parseDirective(this.#directives, token);
    } catch (err) {
      return fail((err as Error).message, lineNo);
    }
    if (directive?.name === 'escape') {
      if (directive.value !== '`' && directive.value !== '\\') {
        fail(`invalid escape token '${directive.value}' does not match \` or \\`, lineNo);
      }
      this.escape = directive.value as Escape;
      this.#continuation = continuationRegex(this.escape);
    } else if (directive?.name === 'syntax') {
      this.warnings.push(`the "# syntax=${directive.value}" parser directive is ignored: berth builds with its built-in Dockerfile frontend`);
    }
    return isComment(token) ? '' : token;
  }

  #trimContinuation(line: string): [string, boolean] {
    return this.#continuation.test(line) ? [line.replace(this.#continuation, '$1'), false] : [line, true];
  }
}

function fail(message: string, line: number): never {
  throw new DockerfileParseError(`dockerfile parse error on line ${line}: ${message}`, line);
}

/** BuildKit's DirectiveParser: directives only in the leading `# key=value` lines, each once. */
function parseDirective(state: DirectiveState, line: string): { name: string; value: string } | undefined {
  if (state.done) return undefined;
  if (!line.startsWith('#')) { state.done = true; return undefined; }
  const m = DIRECTIVE.exec(trimLeft(line.slice(1)));
  const name = m?.[1]?.toLowerCase();
  if (!m || (name !== 'syntax' && name !== 'escape' && name !== 'check')) { state.done = true; return undefined; }
  if (state.seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
  state.seen.add(name);
  return { name, value: m[2]! };
}

/**
 * The escape character ends a line when it is the last non-blank character (blanks after it are
 * allowed, as in Docker), unless it is itself escaped; a line holding only the escape also continues.
 */
function continuationRegex(escape: Escape): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}
