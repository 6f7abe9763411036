/**
 * Go's text/tabwriter (elastic tabstops) as docker's CLI configures it for tables:
 * minwidth 10, tabwidth 1, padding 3, pad character space, no flags. Cells are tab-terminated:
 * text after a line's last tab is not part of a column and is never padded. A column's width is
 * decided per block of consecutive lines that have a cell in that column.
 */

export interface TabwriterOptions { minwidth: number; padding: number }

/** docker's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABWRITER: Readonly<TabwriterOptions> = { minwidth: 10, padding: 3 };

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Display width as docker's tabwriter measures it (go-runewidth): East Asian wide and emoji
 * code points count 2, combining marks and zero-width characters 0, everything else 1.
 */
export function displayWidth(s: string): number {
  // Nearly every cell is printable ASCII: one column a character, without the per-character checks.
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if (/[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufeff]/u.test(ch)) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60],
  [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];
const isWide = (cp: number): boolean => WIDE.some(([a, b]) => cp >= a && cp <= b);

/**
 * Align `text` (lines separated by \n, cells terminated by \t) and return the result. The text
 * normally ends with \n; the output then does too.
 */
export function tabwrite(text: string, opts: TabwriterOptions = DOCKER_TABWRITER): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  // The text after the final newline is an unterminated line; an empty trailing cell is dropped.
  const last = lines[lines.length - 1]!;
  if (last[last.length - 1] === '') last.pop();
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i]!;
      cells.forEach((c, j) => {
        out.push(c);
        if (j < widths.length) out.push(' '.repeat(Math.max(widths[j]! - displayWidth(c), 0)));
      });
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  // Go's Writer.format: recursive over columns; each block of lines sharing column `column`
  // gets one width, then the columns to its right are formatted within that block.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = opts.minwidth;
      for (; t < line1; t++) {
        const cells = lines[t]!;
        if (column >= cells.length - 1) break;
        width = Math.max(width, displayWidth(cells[column]!) + opts.padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('');
}

/**
 * Align rows of cells as a docker table: every cell but the last in a row is tab-terminated, so
 * the last column is never padded. Each row ends with a newline.
 */
export const tabwriter = (rows: readonly (readonly string[])[], opts: TabwriterOptions = DOCKER_TABWRITER): string =>
  tabwrite(rows.map((r) => r.join('\t') + '\n').join(''), opts);
