import { EngineError } from '../../lib/errors.ts';
import type {
  CommandForm, Dockerfile, HealthcheckOptions, Heredoc, Instruction, InstructionFlags, Stage,
} from './ast.ts';
import { parseGoDuration } from '../../lib/go-duration.ts';
import { heredocsFromLine, parseHeredocWord } from './heredoc-words.ts';

/**
 * The Dockerfile parser: text → the AST of ast.ts, with Docker's (BuildKit's dockerfile frontend)
 * line rules and error wording. It works in the same two passes as Docker, so errors come in the
 * same order: first the whole file is cut into logical lines (directives, comments, continuations,
 * here-documents, per-instruction argument shapes), then each line becomes a typed instruction
 * (argument counts, flags, stage names).
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

type Escape = Dockerfile['escape'];

/** One logical line after the first pass (Docker's parser.Node). */
interface RawNode {
  /** The instruction word as written (case kept, for error messages). */
  cmd: string;
  /** Raw builder flags, `--name[=value]`, quotes already removed. */
  flags: string[];
  /** Arguments as the per-instruction line parser shaped them. */
  args: string[];
  /** For ENV/LABEL: key, value, and "=" or "" (legacy `KEY value` form), like Docker's triples. */
  kv?: Array<{ key: string; value: string }>;
  /** The arguments were a JSON array. */
  json: boolean;
  /** ONBUILD's trigger instruction. */
  sub?: RawNode;
  original: string;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

const WHITESPACE = /[\t\v\f\r ]+/;
const isSpace = (ch: string) => /\s/.test(ch);
const trimLeft = (s: string) => s.replace(/^\s+/, '');
const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
/** Go's %q for the strings these messages quote (printable text): close enough to JSON. */
const goQuote = (s: string) => JSON.stringify(s);

const INSTRUCTIONS = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'] as const;

class LineError extends Error {}

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
  // Lines keep their endings, as heredoc bodies are copied verbatim.
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  if (lines.length > 0 && lines[0]!.startsWith('\uFEFF')) lines[0] = lines[0]!.slice(1);
  let escape: Escape = initialEscape;
  let continuation = continuationRegex(escape);
  const warnings: string[] = [];
  const directives: DirectiveState = { done: false, seen: new Set() };
  const nodes: RawNode[] = [];
  let i = 0;
  let currentLine = 0;

  const fail = (message: string, line: number): never => {
    throw new DockerfileParseError(`dockerfile parse error on line ${line}: ${message}`, line);
  };
  /** Docker's processLine: strip the newline (and leading space), note a directive, drop comments. */
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeft(token);
    const lineNo = currentLine + 1;
    let directive: { name: string; value: string } | undefined;
    try {
      directive = parseDirective(directives, token);
    } catch (err) {
      return fail((err as Error).message, lineNo);
    }
    if (directive?.name === 'escape') {
      if (directive.value !== '`' && directive.value !== '\\') {
        fail(`invalid escape token '${directive.value}' does not match \` or \\`, lineNo);
      }
      escape = directive.value as Escape;
      continuation = continuationRegex(escape);
    } else if (directive?.name === 'syntax') {
      warnings.push(`the "# syntax=${directive.value}" parser directive is ignored: berth builds with its built-in Dockerfile frontend`);
    }
    return isComment(token) ? '' : token;
  };
  const trimContinuation = (line: string): [string, boolean] =>
    continuation.test(line) ? [line.replace(continuation, '$1'), false] : [line, true];

  while (i < lines.length) {
    let token = processLine(lines[i++]!, true);
    currentLine++;
    const startLine = currentLine;
    let endOfLine: boolean;
    [token, endOfLine] = trimContinuation(token);
    if (endOfLine && token.length === 0) continue;
    let buf = token;
    let hasEmptyContinuation = false;
    while (!endOfLine && i < lines.length) {
      const raw = lines[i++]!;
      const t = processLine(raw, false);
      currentLine++;
      if (isComment(raw)) continue;
      if (trimLeft(trimNewline(t)).length === 0) { hasEmptyContinuation = true; continue; }
      let part: string;
      [part, endOfLine] = trimContinuation(t);
      buf += part;
    }
    if (hasEmptyContinuation) warnings.push(`Empty continuation line found in: ${buf}`);

    let node: RawNode;
    try {
      node = nodeFromLine(buf, escape);
    } catch (err) {
      if (err instanceof LineError) return fail(err.message, startLine);
      throw err;
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      const heads = heredocsFromLine(buf);
      const docs: Heredoc[] = [];
      for (const head of heads) {
        let terminated = false;
        let content = '';
        while (i < lines.length) {
          const raw = lines[i++]!;
          currentLine++;
          let candidate = trimNewline(raw);
          if (head.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === head.name) { terminated = true; break; }
          content += raw;
        }
        if (!terminated) fail('unterminated heredoc', startLine);
        if (head.chomp) content = content.replace(/^\t+/gm, '');
        docs.push({ ...head, content });
      }
      (node.sub ?? node).heredocs = docs;
      node.heredocs = docs;
    }
    node.startLine = startLine;
    node.endLine = currentLine;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new DockerfileParseError('file with no instructions', 0);
  return { nodes, escape, warnings };
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

/** Docker's splitCommand + dispatch to the per-instruction line parsers. */
function nodeFromLine(line: string, escape: Escape): RawNode {
  const trimmed = line.trim();
  const cut = WHITESPACE.exec(trimmed);
  const cmd = cut ? trimmed.slice(0, cut.index) : trimmed;
  let rest = cut ? trimmed.slice(cut.index + cut[0].length) : '';
  let flags: string[] = [];
  if (cut) [rest, flags] = extractFlags(rest, escape);
  rest = rest.trim();
  const node: RawNode = { cmd, flags, args: [], json: false, original: line, heredocs: [], startLine: 0, endLine: 0 };
  switch (cmd.toLowerCase()) {
    case 'add': case 'copy': case 'volume':
      maybeJsonToList(node, rest);
      break;
    case 'run': case 'cmd': case 'entrypoint': case 'shell':
      maybeJson(node, rest);
      break;
    case 'arg':
      node.args = parseWords(rest, escape);
      break;
    case 'env': case 'label':
      node.kv = parseNameVal(rest, cmd.toLowerCase() === 'env' ? 'ENV' : 'LABEL', escape);
      break;
    case 'expose': case 'from':
      node.args = splitWhitespace(rest);
      break;
    case 'healthcheck': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (m) {
        maybeJson(node, m[2]!);
        node.args.unshift(m[1]!);
      }
      break;
    }
    case 'maintainer': case 'stopsignal': case 'user': case 'workdir':
      if (rest !== '') node.args = [rest];
      break;
    case 'onbuild':
      if (rest !== '') {
        node.sub = nodeFromLine(rest, escape);
        node.args = [node.sub.cmd, ...node.sub.args];
      }
      break;
    default:
      // Unknown instructions fail in the second pass, as in Docker.
      break;
  }
  return node;
}

function splitWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(WHITESPACE);
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Docker's parseJSON: an array of strings, or undefined when the text is not a JSON array. */
function parseJson(rest: string): string[] | undefined {
  const text = trimLeft(rest);
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) throw new LineError(NOT_STRINGS);
  return value;
}

function maybeJson(node: RawNode, rest: string): void {
  if (rest === '') return;
  const json = parseJson(rest);
  if (json) { node.args = json; node.json = true; } else node.args = [rest];
}

function maybeJsonToList(node: RawNode, rest: string): void {
  const json = parseJson(rest);
  if (json) { node.args = json; node.json = true; } else node.args = splitWhitespace(rest);
}

/**
 * Docker's extractBuilderFlags: leading `--words` (quotes and escapes removed) up to the first word
 * that does not start with `--`, or a bare `--`. Returns the rest of the line and the flags.
 */
function extractFlags(line: string, escape: Escape): [string, string[]] {
  const words: string[] = [];
  let pos = 0;
  const n = line.length;
  for (;;) {
    while (pos < n && isSpace(line[pos]!)) pos++;
    if (pos >= n) return ['', words];
    if (!line.startsWith('--', pos)) return [line.slice(pos), words];
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < n; pos++) {
      const ch = line[pos]!;
      if (quote) {
        if (ch === quote) { quote = ''; continue; }
        if (ch === escape) {
          if (pos + 1 === n) { quote = ''; continue; }
          word += line[++pos];
          continue;
        }
        word += ch;
        continue;
      }
      if (isSpace(ch)) break;
      if (ch === '\'' || ch === '"') { quote = ch; blankOk = true; continue; }
      if (ch === escape) {
        if (pos + 1 === n) continue;
        word += line[++pos];
        continue;
      }
      word += ch;
    }
    if (word === '--') return [pos >= n ? '' : line.slice(pos), words];
    if (blankOk || word.length > 0) words.push(word);
  }
}

/**
 * Docker's parseWords: split on blanks outside quotes, keeping quotes and escapes in the words
 * (they are removed later, when the word is expanded).
 */
export function parseWords(rest: string, escape: Escape): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let blankOk = false;
  let quote = '';
  const n = rest.length;
  for (let pos = 0; pos < n; pos++) {
    const ch = rest[pos]!;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      if (ch === escape && quote !== '\'' && ch !== quote) {
        if (pos + 1 === n) { quote = ''; continue; }
        word += ch + rest[++pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    if (isSpace(ch)) {
      if (blankOk || word.length > 0) words.push(word);
      word = ''; inWord = false; blankOk = false;
      continue;
    }
    if (ch === '\'' || ch === '"') { quote = ch; blankOk = true; }
    if (ch === escape) {
      if (pos + 1 === n) continue;
      word += ch + rest[++pos]!;
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

/** Docker's parseNameVal for ENV and LABEL: `KEY value words` (legacy) or `a=1 b="x y"`. */
function parseNameVal(rest: string, instruction: 'ENV' | 'LABEL', escape: Escape): Array<{ key: string; value: string }> {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const cut = WHITESPACE.exec(rest);
    if (!cut) throw new LineError(`${instruction} must have two arguments`);
    return [{ key: rest.slice(0, cut.index), value: rest.slice(cut.index + cut[0].length) }];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) throw new LineError(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function canContainHeredoc(node: RawNode): boolean {
  const target = node.cmd.toLowerCase() === 'onbuild' && node.sub ? node.sub : node;
  return ['add', 'copy', 'run'].includes(target.cmd.toLowerCase()) && !target.json;
}

// ---------------------------------------------------------------------------------------------
// Second pass: typed instructions.

type FlagType = 'bool' | 'string' | 'strings';

/**
 * Docker's BFlags.Parse: each flag once (list flags repeat), string flags need `=value`, booleans
 * take nothing or true/false. Returns the flags as written (name without dashes).
 */
function parseFlags(raw: readonly string[], allowed: Readonly<Record<string, FlagType>>): InstructionFlags {
  const out: Array<{ name: string; value: string | undefined }> = [];
  const used = new Set<string>();
  for (const a of raw) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new LineError(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const name = flagName.slice(2);
    const type = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (!type) throw new LineError(`unknown flag: ${flagName}${suggestion(name, Object.keys(allowed), true)}`);
    if (used.has(name) && type !== 'strings') throw new LineError(`duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === 'bool') {
      if (value === '') throw new LineError(`missing a value on flag: ${flagName}`);
      const v = (value ?? '').toLowerCase();
      if (v !== '' && v !== 'true' && v !== 'false') throw new LineError(`expecting boolean value for flag ${flagName}, not: ${value}`);
      out.push({ name, value: v === 'false' ? 'false' : 'true' });
    } else {
      if (value === undefined) throw new LineError(`missing a value on flag: ${flagName}`);
      out.push({ name, value });
    }
  }
  return out;
}

const NO_FLAGS: Record<string, FlagType> = {};
const FLAGS = {
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  COPY: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
} as const satisfies Record<string, Record<string, FlagType>>;

/** Docker's " (did you mean X?)" hint: the closest candidate within edit distance 2. */
function suggestion(value: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let match = '';
  let best = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return '';
    const d = levenshtein(v, o);
    if (d < best) { best = d; match = o; }
  }
  if (!match) return '';
  if (!caseSensitive) {
    if (value === value.toLowerCase()) match = match.toLowerCase();
    else if (value === value.toUpperCase()) match = match.toUpperCase();
  }
  return ` (did you mean ${match}?)`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const atLeastOne = (c: string) => new LineError(`${c} requires at least one argument`);
const exactlyOne = (c: string) => new LineError(`${c} requires exactly one argument`);
const noDestination = (c: string) =>
  new LineError(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function commandForm(node: RawNode): CommandForm {
  return node.json ? { kind: 'exec', args: [...node.args] } : { kind: 'shell', command: node.args.join(' ') };
}

function toInstruction(node: RawNode): Instruction {
  const base = (flags: InstructionFlags) => ({
    loc: { line: node.startLine, endLine: node.endLine }, flags, original: node.original.trim(),
  });
  const { args } = node;
  const kind = node.cmd.toUpperCase();
  switch (kind) {
    case 'FROM': {
      let stageName: string | undefined;
      if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
        stageName = args[2]!.toLowerCase();
        if (!VALID_STAGE_NAME.test(stageName)) {
          throw new LineError(`invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new LineError('FROM requires either one or three arguments');
      }
      const flags = parseFlags(node.flags, FLAGS.FROM);
      return { ...base(flags), kind, image: args[0]!, ...(stageName !== undefined ? { stageName } : {}) };
    }
    case 'ENV': case 'LABEL': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      const pairs = node.kv ?? [];
      if (pairs.length === 0) throw atLeastOne(kind);
      if (pairs.some((p) => p.key === '')) throw new LineError(`${kind} names can not be blank`);
      return { ...base(flags), kind, pairs: pairs.map((p) => ({ ...p })) };
    }
    case 'MAINTAINER': {
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, name: args[0]! };
    }
    case 'ADD': case 'COPY': {
      if (args.length < 2) throw noDestination(kind);
      const flags = parseFlags(node.flags, FLAGS[kind]);
      const dest = args[args.length - 1]!;
      if (parseHeredocWord(dest)) throw new LineError(`${kind} cannot accept a heredoc as a destination`);
      const sources = args.slice(0, -1).map((s) => (node.heredocs.length > 0 ? parseHeredocWord(s)?.name : undefined) ?? s);
      return { ...base(flags), kind, sources, dest, heredocs: node.heredocs };
    }
    case 'ONBUILD': {
      if (args.length === 0) throw atLeastOne(kind);
      const flags = parseFlags(node.flags, NO_FLAGS);
      const trigger = args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new LineError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new LineError(`${trigger} isn't allowed as an ONBUILD trigger`);
      let text = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const doc of node.heredocs) text += `\n${doc.content}${doc.name}`;
      return { ...base(flags), kind, trigger: text };
    }
    case 'WORKDIR': {
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, path: args[0]! };
    }
    case 'RUN': {
      const flags = parseFlags(node.flags, FLAGS.RUN);
      for (const f of flags) {
        if (f.name === 'network' && !['default', 'none', 'host'].includes(f.value ?? '')) {
          throw new LineError(`invalid network mode ${goQuote(f.value ?? '')}`);
        }
        if (f.name === 'security' && !['sandbox', 'insecure'].includes(f.value ?? '')) {
          throw new LineError(`security ${goQuote(f.value ?? '')} is not valid`);
        }
      }
      return { ...base(flags), kind, command: commandForm(node), heredocs: node.heredocs };
    }
    case 'CMD':
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, command: commandForm(node) };
    case 'ENTRYPOINT': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      // Docker: an ENTRYPOINT without arguments (either form) resets it.
      const command: CommandForm = args.length === 0 ? { kind: 'exec', args: [] } : commandForm(node);
      return { ...base(flags), kind, command };
    }
    case 'HEALTHCHECK':
      return healthcheck(node, base);
    case 'EXPOSE': {
      if (args.length === 0) throw atLeastOne(kind);
      const flags = parseFlags(node.flags, NO_FLAGS);
      return { ...base(flags), kind, ports: [...args].sort() };
    }
    case 'USER': {
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(parseFlags(node.flags, NO_FLAGS)), kind, user: args[0]! };
    }
    case 'VOLUME': {
      if (args.length === 0) throw atLeastOne(kind);
      const flags = parseFlags(node.flags, NO_FLAGS);
      const paths = args.map((v) => v.trim());
      if (paths.some((p) => p === '')) throw new LineError('VOLUME specified can not be an empty string');
      return { ...base(flags), kind, paths };
    }
    case 'STOPSIGNAL': {
      // Docker never parses STOPSIGNAL's (or ARG's) flags: they are accepted and ignored.
      if (args.length !== 1) throw exactlyOne(kind);
      return { ...base(rawFlags(node.flags)), kind, signal: args[0]! };
    }
    case 'ARG': {
      if (args.length === 0) throw atLeastOne(kind);
      const parsed = args.map((arg) => {
        const eq = arg.indexOf('=');
        if (eq < 0) return { name: arg };
        if (eq === 0) throw new LineError('ARG names can not be blank');
        return { name: arg.slice(0, eq), defaultValue: arg.slice(eq + 1) };
      });
      return { ...base(rawFlags(node.flags)), kind, args: parsed };
    }
    case 'SHELL': {
      const flags = parseFlags(node.flags, NO_FLAGS);
      if (args.length === 0) throw atLeastOne(kind);
      if (!node.json) throw new LineError('SHELL requires the arguments to be in JSON form');
      return { ...base(flags), kind, args: [...args] };
    }
    default: {
      const upper = INSTRUCTIONS.map((i) => i.toUpperCase());
      throw new LineError(`unknown instruction: ${node.cmd}${suggestion(node.cmd, upper, false)}`);
    }
  }
}

function rawFlags(raw: readonly string[]): InstructionFlags {
  return raw.map((a) => {
    const body = a.replace(/^--/, '');
    const eq = body.indexOf('=');
    return eq < 0 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
  });
}

function healthcheck(
  node: RawNode,
  base: (flags: InstructionFlags) => Pick<Instruction, 'loc' | 'flags' | 'original'>,
): Instruction {
  const [type, ...rest] = node.args;
  if (type === undefined) throw atLeastOne('HEALTHCHECK');
  const upper = type.toUpperCase();
  if (upper === 'NONE') {
    if (rest.length !== 0) throw new LineError('HEALTHCHECK NONE takes no arguments');
    return { ...base(rawFlags(node.flags)), kind: 'HEALTHCHECK', test: { kind: 'none' }, options: {} };
  }
  const flags = parseFlags(node.flags, FLAGS.HEALTHCHECK);
  if (upper !== 'CMD') throw new LineError(`Unknown type ${goQuote(upper)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0) throw new LineError('Missing command after HEALTHCHECK CMD');
  const command: CommandForm = node.json ? { kind: 'exec', args: rest } : { kind: 'shell', command: rest.join(' ') };
  const options: HealthcheckOptions = {};
  const value = (name: string) => flags.find((f) => f.name === name)?.value;
  const interval = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined || v === '') return undefined;
    let ns: number;
    try {
      ns = parseGoDuration(v);
    } catch (err) {
      throw new LineError((err as Error).message);
    }
    if (ns === 0) return undefined;
    if (ns < 1_000_000) throw new LineError(`Interval ${goQuote(name)} cannot be less than 1ms`);
    return ns;
  };
  const set = (key: keyof HealthcheckOptions, v: number | undefined) => { if (v !== undefined) options[key] = v; };
  set('intervalNs', interval('interval'));
  set('timeoutNs', interval('timeout'));
  set('startPeriodNs', interval('start-period'));
  set('startIntervalNs', interval('start-interval'));
  const retries = value('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      const why = /^[+-]?\d+$/.test(retries) ? 'value out of range' : 'invalid syntax';
      throw new LineError(`strconv.ParseInt: parsing ${goQuote(retries)}: ${why}`);
    }
    const n = Number(retries);
    if (n < 0) throw new LineError(`--retries cannot be negative (${n})`);
    options.retries = n;
  }
  return { ...base(flags), kind: 'HEALTHCHECK', test: { kind: 'cmd', command }, options };
}
