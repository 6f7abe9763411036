import { EngineError } from '../../lib/errors.ts';
import type { Heredoc } from './ast.ts';

/**
 * Docker's word processing for Dockerfile arguments (BuildKit's shell lexer, which the classic
 * builder uses too): variable substitution and quote removal in one pass. It is NOT a shell: no
 * command substitution, globbing or arithmetic; RUN/CMD/ENTRYPOINT text is left to the real shell.
 *
 * Where the builder applies it (moby's classic builder, daemon/builder/dockerfile, which berth follows):
 *
 * | Instruction | What is expanded | With which variables |
 * | --- | --- | --- |
 * | FROM | the image word and `--platform` | meta ARGs only (ARGs before the first FROM, with --build-arg overrides) |
 * | ENV, LABEL | each key and each value (`expand`) | the stage's env + its declared ARGs |
 * | ARG | each name and each default value | the same |
 * | ADD, COPY | each source, the destination, `--chown`, `--chmod`, ADD's `--checksum` (not `--from`) | the same |
 * | WORKDIR, USER, STOPSIGNAL | the argument | the same |
 * | VOLUME | each path (one word each, also in the word form) | the same |
 * | EXPOSE | each port word, SPLIT into words (`expandWords`): `EXPOSE $P` with P="80 443" → two ports | the same |
 * | RUN | only the `--mount` values; the command itself is for the shell | the same |
 * | CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ONBUILD | nothing | — |
 *
 * "The stage's env + its declared ARGs" is Docker's `runConfig.Env` plus every ARG declared so far
 * in the stage (value from --build-arg, else its default) whose name is not already in the env: ENV
 * wins over ARG. Unknown variables expand to "".
 *
 * Here-documents: COPY/ADD heredoc bodies are expanded with `expandHeredoc` unless the delimiter was
 * quoted. RUN heredocs are not expanded by the builder at all: the shell that runs the script does it.
 */

/** Looks up a variable; undefined when it is not set (as opposed to set to ""). */
export type EnvLookup = (name: string) => string | undefined;

export interface ExpandOptions {
  /** The Dockerfile's escape character (`Dockerfile.escape`); default backslash. */
  escape?: '\\' | '`';
  /** Leave unset variables as written (`$X`, `${X:-d}`) instead of expanding them to "". */
  skipUnset?: boolean;
  /** Keep quote characters in the result (they still group words and stop expansion in '…'). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (used for heredoc bodies). */
  skipQuotes?: boolean;
}

export interface ExpandResult {
  /** The word with variables substituted and quotes removed. */
  value: string;
  /** The same, split into words outside quotes (after substitution, like a shell). */
  words: string[];
  /** Variables that were referenced and set. */
  matched: Set<string>;
  /** Variables that were referenced but unset. */
  unmatched: Set<string>;
}

/**
 * Expand one word (`ENV` value, `COPY` source, …): substitutes `$VAR`, `${VAR}`, `${VAR:-x}`,
 * `${VAR-x}`, `${VAR:+x}`, `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`,
 * `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`, and removes quotes and escapes.
 * Blanks are kept: the result is one string. Throws EngineError InvalidParameter with Docker's wording
 * (`failed to process "${X:?}": X: is not allowed to be empty`).
 */
export function expand(word: string, env: EnvLookup, opts: ExpandOptions = {}): string {
  return expandWithMatches(word, env, opts).value;
}

/**
 * Expand and split into words, as Docker does for EXPOSE (`EXPOSE $PORTS`) and for heredoc
 * detection: blanks outside quotes separate words, including blanks that came from a variable.
 * Empty words are dropped (`""` alone gives no word, as in Docker).
 */
export function expandWords(text: string, env: EnvLookup, opts: ExpandOptions = {}): string[] {
  return expandWithMatches(text, env, opts).words;
}

/** `expand` and `expandWords` in one, plus which variables were used (for unused-ARG notes). */
export function expandWithMatches(word: string, env: EnvLookup, opts: ExpandOptions = {}): ExpandResult {
  const lexer = new Lexer(word, env, opts);
  try {
    const { value, words } = lexer.processUntil(undefined, opts.rawEscapes ?? false);
    return { value, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (err) {
    if (err instanceof LexError) {
      throw new EngineError('InvalidParameter', `failed to process ${JSON.stringify(word)}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * The content of a COPY/ADD here-document as the file will hold it: variables expanded (quotes are
 * ordinary characters there; the escape is always backslash) unless the delimiter was quoted.
 */
export function expandHeredoc(doc: Heredoc, env: EnvLookup): string {
  if (doc.quoted) return doc.content;
  return expand(doc.content, env, { escape: '\\', skipQuotes: true });
}

/**
 * An EnvLookup over Docker's `KEY=value` list (an image config's Env): later entries win, an entry
 * without "=" sets the variable to "".
 */
export function envFromList(list: readonly string[]): EnvLookup {
  const map = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) map.set(entry, '');
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return (name) => map.get(name);
}

class LexError extends Error {}

const isSpace = (ch: string) => /\s/.test(ch);
const isNameChar = (ch: string) => /[\p{L}\p{Nd}_]/u.test(ch);
const isDigit = (ch: string) => /\p{Nd}/u.test(ch);
const SPECIAL_PARAMS = '@*#?-$!0';

/** Collects words: blanks split unless the text was added raw (quoted or escaped). */
class Words {
  readonly words: string[] = [];
  private buf = '';
  private inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void { this.buf += ch; this.inWord = true; }
  addString(s: string): void { for (const ch of s) this.addChar(ch); }
  addRawString(s: string): void { this.buf += s; this.inWord = true; }
  finish(): string[] {
    if (this.buf.length > 0) { this.words.push(this.buf); this.buf = ''; this.inWord = false; }
    return this.words;
  }
}

class Lexer {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private pos = 0;
  private readonly escape: string;

  constructor(private readonly src: string, private readonly env: EnvLookup, private readonly opts: ExpandOptions) {
    this.escape = opts.escape ?? '\\';
  }

  private peek(): string | undefined { return this.src[this.pos]; }
  private next(): string | undefined { return this.src[this.pos++]; }

  /** Docker's processStopOn: up to `stop` (consumed) or the end when `stop` is undefined. */
  processUntil(stop: string | undefined, rawEscapes: boolean): { value: string; words: string[] } {
    let value = '';
    const words = new Words();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return { value, words: words.finish() };
      }
      if (ch === '$') {
        const v = this.dollar();
        value += v;
        words.addString(v);
        continue;
      }
      if (ch === '<') {
        const v = this.possibleHeredoc();
        value += v;
        words.addRawString(v);
        continue;
      }
      if (!this.opts.skipQuotes && (ch === '\'' || ch === '"')) {
        const v = ch === '\'' ? this.singleQuote() : this.doubleQuote(rawEscapes);
        value += v;
        words.addRawString(v);
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        if (rawEscapes) { words.addRawChar(ch); value += ch; }
        const escaped = this.next();
        if (escaped === undefined) break;
        words.addRawChar(escaped);
        value += escaped;
        continue;
      }
      words.addChar(ch);
      value += ch;
    }
    if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
    return { value, words: words.finish() };
  }

  private singleQuote(): string {
    const raw = this.opts.rawQuotes ?? false;
    let out = raw ? this.next()! : (this.next(), '');
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === '\'') return raw ? out + ch : out;
      out += ch;
    }
  }

  private doubleQuote(rawEscapes: boolean): string {
    const raw = this.opts.rawQuotes ?? false;
    let out = raw ? this.next()! : (this.next(), '');
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') { this.pos++; return raw ? out + ch : out; }
      if (ch === '$') { out += this.dollar(); continue; }
      this.pos++;
      if (ch === this.escape) {
        if (rawEscapes) out += ch;
        const after = this.peek();
        if (after === undefined) continue; // a lone escape at the end is dropped
        if (after === '"' || after === '$' || after === this.escape) { out += after; this.pos++; continue; }
        // Before any other character the escape stays literal (twice with rawEscapes, as in Docker).
        out += ch;
        continue;
      }
      out += ch;
    }
  }

  /** `<<` keeps the blanks after it so `<< EOF` stays one word (heredoc detection). */
  private possibleHeredoc(): string {
    this.pos++;
    if (this.peek() !== '<') return '<';
    this.pos++;
    let out = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) { out += ch; this.pos++; }
    return out;
  }

  private lookup(name: string): string | undefined {
    const v = this.env(name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }

  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.includes(ch)) { this.pos++; return ch; }
      if (!isNameChar(ch)) break;
      name += ch;
      this.pos++;
    }
    return name;
  }

  private dollar(): string {
    this.pos++; // $
    const skipUnset = this.opts.skipUnset ?? false;
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && skipUnset) return `$${name}`;
      return v ?? '';
    }
    this.pos++; // {
    const first = this.peek();
    if (first === undefined) throw new LexError('syntax error: missing \'}\'');
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    if (ch === undefined) throw new LexError('syntax error: missing \'}\'');
    let mod = ch;
    if (ch === '}') {
      const v = this.lookup(name);
      if (v === undefined && skipUnset) return `\${${name}}`;
      return v ?? '';
    }
    if (ch === '/') return this.replace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      mod += ch ?? '';
    } else if (!'+-?#%'.includes(ch)) {
      throw new LexError(`unsupported modifier (${mod}) in substitution`);
    }
    const patternLike = ch === '#' || ch === '%';
    if (nullIsUnset && patternLike) throw new LexError(`unsupported modifier (${mod}) in substitution`);
    let word: string;
    try {
      word = this.processUntil('}', patternLike).value;
    } catch (err) {
      if (err instanceof LexError && this.peek() === undefined) throw new LexError('syntax error: missing \'}\'');
      throw err;
    }
    const v = this.lookup(name);
    if (v === undefined && skipUnset) return `\${${name}${mod}${word}}`;
    const unset = v === undefined || (nullIsUnset && v === '');
    switch (ch) {
      case '-': return unset ? word : v!;
      case '+': return unset ? '' : word;
      case '?':
        if (v === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && v === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return v;
      case '#': case '%': {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === '%' ? trimSuffix(pattern, v ?? '', greedy) : trimPrefix(pattern, v ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${mod}) in substitution`);
    }
  }

  /** `${VAR/pattern/replacement}` and `${VAR//pattern/replacement}` (first or every match). */
  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.pos++;
    const part = (stop: string, missing: string): string => {
      try {
        return this.processUntil(stop, true).value;
      } catch (err) {
        if (err instanceof LexError && this.peek() === undefined) throw new LexError(missing);
        throw err;
      }
    };
    const pattern = part('/', 'syntax error: missing \'/\' in ${}');
    const replacement = part('}', 'syntax error: missing \'}\'');
    const v = this.lookup(name);
    if (v === undefined && (this.opts.skipUnset ?? false)) return `\${${name}/${pattern}/${replacement}}`;
    const re = patternRegex(pattern, true, false, all);
    // A function replacement: `$&` and friends in the replacement are literal, as in Go.
    return (v ?? '').replace(re, () => replacement);
  }
}

/** Shell pattern (`*` `?`, backslash escapes) → RegExp, as Docker's convertShellPatternToRegex. */
function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? '^' : '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') { out += greedy ? '.*' : '.*?'; continue; }
    if (ch === '?') { out += '.'; continue; }
    if (ch === '\\') {
      const after = pattern[i + 1];
      // `}` and `/` are escaped only to get them through ${…}; the escape is not part of the pattern.
      if (after === '}' || after === '/') continue;
      if (after !== '*' && after !== '?' && after !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ''}'`);
      }
      out += `\\${after}`;
      i++;
      continue;
    }
    out += /[[\]{}.+()|^$]/.test(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(out, global ? 'g' : '');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Shortest/longest suffix: reverse value and pattern (keeping escapes before their character). */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = [...pattern];
  const reversed: string[] = [];
  for (let i = 0; i < chars.length;) {
    if (chars[i] === '\\' && i !== chars.length - 1) { reversed.unshift('\\' + chars[i + 1]!); i += 2; } else { reversed.unshift(chars[i]!); i++; }
  }
  const rev = (s: string) => [...s].reverse().join('');
  return rev(trimPrefix(reversed.join(''), rev(value), greedy));
}
