/**
 * Lexer for Go text/template source, following Go's lexer token by token (including space
 * tokens, which the parser needs to tell `.A.B` from `.A .B`). Delimiters are `{{` `}}`;
 * `{{- ` and ` -}}` trim the surrounding whitespace; comments (slash-star inside an action) produce nothing.
 */

/** Token kinds, as Go's lexer items (space tokens are kept: `.A .B` is not `.A.B`). */
export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'field' | 'dot' | 'variable' | 'identifier'
  | 'keyword' | 'bool' | 'nil' | 'number' | 'char' | 'string' | 'rawString' | 'pipe' | 'leftParen'
  | 'rightParen' | 'declare' | 'assign' | 'comma' | 'other' | 'eof';

/** A token: its kind, source text and byte offset. */
export interface Token { type: TokenType; value: string; pos: number }

/** A lexing or parsing failure; `pos` is the byte offset where it was found. */
export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly pos: number) { super(message); }
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

/** Tokenize `src`. @throws TemplateSyntaxError with Go's wording ("unclosed action", ...). */
export function lex(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let trimNext = false; // the previous action ended with " -}}"
  while (pos < src.length) {
    let start = src.indexOf('{{', pos);
    if (start === -1) start = src.length;
    let text = src.slice(pos, start);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    const leftTrim = src[start + 2] === '-' && isSpace(src[start + 3]);
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) out.push({ type: 'text', value: text, pos });
    if (start >= src.length) break;
    pos = start + 2 + (leftTrim ? 2 : 0);
    const r = lexAction(src, pos, start, out);
    pos = r.pos;
    trimNext = r.trim;
  }
  out.push({ type: 'eof', value: '', pos: src.length });
  return out;
}

/** Is there a right delimiter (optionally trim-marked) at i? Returns its length and trim flag. */
function rightDelimAt(src: string, i: number): { len: number; trim: boolean } | undefined {
  if (isSpace(src[i]) && src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { len: 4, trim: true };
  if (src.startsWith('}}', i)) return { len: 2, trim: false };
  return undefined;
}

function lexAction(src: string, pos: number, delimPos: number, out: Token[]): { pos: number; trim: boolean } {
  // Comments: {{/* ... */}}, only directly after the delimiter (and its trim marker).
  if (src.startsWith('/*', pos)) {
    const end = src.indexOf('*/', pos + 2);
    if (end === -1) throw new TemplateSyntaxError('unclosed comment', pos);
    const rd = rightDelimAt(src, end + 2);
    if (!rd) throw new TemplateSyntaxError('comment ends before closing delimiter', end);
    return { pos: end + 2 + rd.len, trim: rd.trim };
  }
  out.push({ type: 'leftDelim', value: '{{', pos: delimPos });
  let depth = 0;
  for (;;) {
    const rd = rightDelimAt(src, pos);
    if (rd) {
      if (depth > 0) throw new TemplateSyntaxError('unclosed left paren', pos);
      out.push({ type: 'rightDelim', value: '}}', pos });
      return { pos: pos + rd.len, trim: rd.trim };
    }
    const c = src[pos];
    const start = pos;
    const emit = (type: TokenType, end: number): void => {
      out.push({ type, value: src.slice(start, end), pos: start });
      pos = end;
    };
    if (c === undefined) throw new TemplateSyntaxError('unclosed action', delimPos);
    if (isSpace(c)) {
      let end = pos;
      while (isSpace(src[end]) && !(rightDelimAt(src, end)?.trim)) end++;
      if (end === pos) continue; // a trim-marked right delimiter follows
      emit('space', end);
    } else if (c === '=') emit('assign', pos + 1);
    else if (c === ':') {
      if (src[pos + 1] !== '=') throw new TemplateSyntaxError('expected :=', pos);
      emit('declare', pos + 2);
    } else if (c === '|') emit('pipe', pos + 1);
    else if (c === ',') emit('comma', pos + 1);
    else if (c === '"') emit('string', scanQuoted(src, pos, '"', 'unterminated quoted string'));
    else if (c === "'") emit('char', scanQuoted(src, pos, "'", 'unterminated character constant'));
    else if (c === '`') {
      const end = src.indexOf('`', pos + 1);
      if (end === -1) throw new TemplateSyntaxError('unterminated raw quoted string', pos);
      emit('rawString', end + 1);
    } else if (c === '$') emit('variable', scanWord(src, pos + 1));
    else if (c === '.' && !/[0-9]/.test(src[pos + 1] ?? '')) {
      const end = scanWord(src, pos + 1);
      emit(end === pos + 1 ? 'dot' : 'field', end);
    } else if (c === '.' || c === '+' || c === '-' || /[0-9]/.test(c)) emit('number', scanNumber(src, pos));
    else if (isAlnum(c)) {
      const end = scanWord(src, pos);
      const word = src.slice(pos, end);
      emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier', end);
    } else if (c === '(') { depth++; emit('leftParen', pos + 1); }
    else if (c === ')') {
      if (--depth < 0) throw new TemplateSyntaxError('unexpected right paren', pos);
      emit('rightParen', pos + 1);
    } else emit('other', pos + 1);
  }
}

/** Letters, digits and underscores from i; must end at a terminator, as Go requires. */
function scanWord(src: string, i: number): number {
  while (isAlnum(src[i])) i++;
  const c = src[i];
  if (!(c === undefined || isSpace(c) || '.,|:()='.includes(c) || src.startsWith('}}', i))) {
    throw new TemplateSyntaxError(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, i);
  }
  return i;
}

function scanQuoted(src: string, i: number, quote: string, unterminated: string): number {
  for (i++; ; i++) {
    const c = src[i];
    if (c === '\\') { i++; if (src[i] === undefined || src[i] === '\n') throw new TemplateSyntaxError(unterminated, i); continue; }
    if (c === undefined || c === '\n') throw new TemplateSyntaxError(unterminated, i);
    if (c === quote) return i + 1;
  }
}

function scanNumber(src: string, i: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[oO][0-7_]+|0[bB][01_]+|[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)i?/.exec(src.slice(i))!;
  const end = i + m[0].length;
  if (isAlnum(src[end]) || m[0] === '' || m[0] === '+' || m[0] === '-') {
    let e = end;
    while (isAlnum(src[e]) || src[e] === '.') e++;
    throw new TemplateSyntaxError(`bad number syntax: "${src.slice(i, Math.max(e, i + 1))}"`, i);
  }
  return end;
}
