/**
 * The Dockerfile parser's line parsers (BuildKit's dockerfile/parser/line_parsers.go): one logical
 * line → a RawNode, its arguments shaped per instruction (JSON arrays, words, name=value pairs,
 * builder flags). Used by the first pass of parse.ts.
 */
import type { Dockerfile, Heredoc } from './ast.ts';

export type Escape = Dockerfile['escape'];

/** An error in one instruction; parse.ts adds the line number. */
export class LineError extends Error {}

/** One logical line after the first pass (Docker's parser.Node). */
export interface RawNode {
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

export const WHITESPACE = /[\t\v\f\r ]+/;
const isSpace = (ch: string) => /\s/.test(ch);
export const trimLeft = (s: string) => s.replace(/^\s+/, '');
export const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
/** Go's %q for the strings these messages quote (printable text): close enough to JSON. */
export const goQuote = (s: string) => JSON.stringify(s);

/** Docker's splitCommand + dispatch to the per-instruction line parsers. */
export function nodeFromLine(line: string, escape: Escape): RawNode {
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

export function canContainHeredoc(node: RawNode): boolean {
  const target = node.cmd.toLowerCase() === 'onbuild' && node.sub ? node.sub : node;
  return ['add', 'copy', 'run'].includes(target.cmd.toLowerCase()) && !target.json;
}
