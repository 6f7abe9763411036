/**
 * docker's `--format` conventions for list commands (ps, images, volume ls, ...):
 *   - unset or `table`: the command's default table;
 *   - `table TEMPLATE`: a header row (from the command's field → title map) plus one row per
 *     item, aligned by docker's tabwriter;
 *   - `json`: one JSON object per line (docker 24+), keys sorted as Go marshals a map;
 *   - anything else: a raw template, one line per item, no header.
 * As in docker, a literal `\t` or `\n` in the format (typed in a shell) means tab or newline.
 */
import { GoTemplate } from './go-template.ts';
import { goJson } from './template/go-fmt.ts';
import { tabwrite, tabwriter } from './tabwriter.ts';

/** Options for renderList. `toRow` maps an item to the object templates see (default: the item). */
export interface RenderListOptions<T> {
  /** The --format value (undefined or '' means the default table). */
  format: string | undefined;
  /** The default table format, e.g. 'table {{.ID}}\t{{.Image}}\t{{.Names}}'. */
  defaultTable: string;
  /** Column titles by field name, e.g. { ID: 'CONTAINER ID', Image: 'IMAGE' }. */
  headers: Readonly<Record<string, string>>;
  toRow?: (item: T) => object;
}

/** True when format selects table output (docker: any format starting with "table"). */
export const isTableFormat = (format: string): boolean => format.startsWith('table');

/**
 * The template text docker would run for `format`: the "table" prefix and surrounding spaces
 * stripped, literal \t and \n turned into tab and newline.
 */
export function templateBody(format: string): string {
  const body = isTableFormat(format) ? format.slice('table'.length) : format;
  return body.replace(/^ +| +$/g, '').replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * The JSON docker prints for one item under `--format json`: fields of the row with methods
 * (zero-argument functions) evaluated, keys sorted, compact, HTML characters unescaped.
 */
export function rowJson(row: object): string {
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(row).sort()) {
    const v: unknown = (row as Record<string, unknown>)[key];
    if (typeof v === 'function') {
      if (v.length === 0) plain[key] = (v as () => unknown).call(row);
    } else if (v !== undefined) plain[key] = v;
  }
  return goJson(plain);
}

/**
 * Render `items` per `opts.format`. Returns the whole output, each line newline-terminated
 * (a table always has its header line, even with no items).
 * @throws TemplateError (EngineError InvalidParameter) for a bad template, with docker's message.
 */
export function renderList<T>(items: readonly T[], opts: RenderListOptions<T>): string {
  let format = opts.format ?? '';
  if (format === '' || format === 'table') format = opts.defaultTable;
  const rows = items.map((item) => (opts.toRow ? opts.toRow(item) : (item as unknown as object)));
  if (format === 'json') return rows.map((r) => rowJson(r) + '\n').join('');
  const tmpl = GoTemplate.parse(templateBody(format));
  const body = rows.map((r) => tmpl.execute(r) + '\n').join('');
  if (!isTableFormat(format)) return body;
  return tabwrite(tmpl.executeHeader(opts.headers) + '\n' + body);
}

/**
 * `inspect -f` style output: the template executed once per item, each followed by a newline.
 * @throws TemplateError for a bad template.
 */
export function renderEach(items: readonly unknown[], format: string): string {
  const tmpl = GoTemplate.parse(format);
  return items.map((item) => tmpl.execute(item) + '\n').join('');
}

/** Align pre-split rows as a docker table (tabwriter with minwidth 10, padding 3). */
export const renderTable = tabwriter;
