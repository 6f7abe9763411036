import type { Heredoc } from './ast.ts';

/**
 * Here-document openers in an instruction's words, found as Docker's lexer finds them (`<<EOF`,
 * `<<-EOF`, `<<"EOF"`, `2<<EOF`, `<< EOF`); the parser reads the bodies that follow.
 */

const isSpace = (ch: string) => /\s/.test(ch);

const HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;

/**
 * A here-document opener (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`) as one word of an instruction,
 * or undefined when the word is not one. Docker's ParseHeredoc: the delimiter must be one shell
 * word; any quote in it turns expansion of the body off.
 */
export function parseHeredocWord(word: string): { name: string; chomp: boolean; quoted: boolean } | undefined {
  const m = HEREDOC.exec(word);
  if (!m || m[3] === '') return undefined;
  const unquoted = unquoteWords(m[3]!);
  if (!unquoted || unquoted.words.length !== 1) return undefined;
  return { name: unquoted.words[0]!, chomp: m[2] === '-', quoted: unquoted.quoted };
}

/**
 * Shell-like word splitting with quote and backslash removal and no variable expansion, for heredoc
 * delimiters (Docker always uses backslash here, whatever the escape directive says).
 */
function unquoteWords(text: string): { words: string[]; quoted: boolean } | undefined {
  const words: string[] = [];
  let word = '';
  let started = false;
  let quoted = false;
  for (let pos = 0; pos < text.length; pos++) {
    const ch = text[pos]!;
    if (isSpace(ch)) {
      if (started) words.push(word);
      word = ''; started = false;
      continue;
    }
    started = true;
    if (ch === '\\') { if (pos + 1 < text.length) word += text[++pos]; continue; }
    if (ch === '\'') {
      quoted = true;
      const end = text.indexOf('\'', pos + 1);
      if (end < 0) return undefined; // unterminated
      word += text.slice(pos + 1, end);
      pos = end;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      for (pos++; pos < text.length && text[pos] !== '"'; pos++) {
        if (text[pos] === '\\' && pos + 1 < text.length && '"\\$'.includes(text[pos + 1]!)) pos++;
        word += text[pos];
      }
      if (pos >= text.length) return undefined; // unterminated
      continue;
    }
    word += ch;
  }
  if (started) words.push(word);
  return { words, quoted };
}

/**
 * The raw words of a line (quotes and escapes kept), split on blanks outside quotes, as Docker's
 * lexer sees them for heredoc detection: `<<` keeps the blanks after it (`<< EOF` is one word), and
 * a line with an unterminated quote has no words at all (so no heredocs).
 */
function rawWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  let quote = '';
  for (let pos = 0; pos < line.length; pos++) {
    const ch = line[pos]!;
    if (quote) {
      word += ch;
      if (ch === '\\' && quote === '"' && pos + 1 < line.length) word += line[++pos];
      else if (ch === quote) quote = '';
      continue;
    }
    if (isSpace(ch)) {
      if (started) words.push(word);
      word = ''; started = false;
      continue;
    }
    started = true;
    word += ch;
    if (ch === '\\' && pos + 1 < line.length) word += line[++pos];
    else if (ch === '\'' || ch === '"') quote = ch;
    else if (ch === '<' && line[pos + 1] === '<') {
      word += '<';
      pos++;
      while (pos + 1 < line.length && ' \t\r'.includes(line[pos + 1]!)) word += line[++pos];
    }
  }
  if (quote) return [];
  if (started) words.push(word);
  return words;
}

export function heredocsFromLine(line: string): Array<Omit<Heredoc, 'content'>> {
  const docs: Array<Omit<Heredoc, 'content'>> = [];
  for (const word of rawWords(line)) {
    const doc = parseHeredocWord(word);
    if (doc) docs.push(doc);
  }
  return docs;
}
