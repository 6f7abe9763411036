/**
 * `--help` text in the docker CLI's layout (its cobra usage template and pflag's
 * FlagUsagesWrapped): usage line, description, aliases, and the sorted, aligned Options table
 * wrapped to the terminal width.
 */
import type { CommandSpec, FlagSpec } from './spec.ts';

const PROGRAM = 'berth';

/** pflag's UnquoteUsage: a `backquoted` word in the description names the value. */
function unquoteUsage(f: FlagSpec): { varname: string; usage: string } {
  const m = /`([^`]*)`/.exec(f.description);
  if (m) return { varname: m[1]!, usage: f.description.replace(/`([^`]*)`/, '$1') };
  const varname = f.valueName ?? { bool: '', string: 'string', int: 'int', 'string[]': 'list' }[f.kind];
  return { varname, usage: f.description };
}

/** pflag's " (default ...)" suffix, shown only for non-zero defaults. */
function defaultSuffix(f: FlagSpec): string {
  const d = f.default;
  if (d === undefined || d === false || d === '' || d === 0) return '';
  if (Array.isArray(d)) return d.length ? ` (default [${d.join(' ')}])` : '';
  if (typeof d === 'string') return ` (default ${JSON.stringify(d)})`;
  return ` (default ${String(d)})`;
}

/** pflag's wrapN: split s at the last whitespace before i (allowing `slop` extra). */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap: wrap s to width w, continuation lines indented by i. */
function wrap(i: number, w: number, s: string): string {
  if (w === 0) return s.replace(/\n/g, '\n' + ' '.repeat(i));
  let width = w - i;
  let r = '';
  if (width < 24) {
    // Not enough room: put the text on its own lines, indented 16.
    i = 16;
    width = w - i;
    r += '\n' + ' '.repeat(i);
  }
  if (width < 24) return r + s.replace(/\n/g, r);
  const slop = 5;
  width -= slop;
  const indent = '\n' + ' '.repeat(i);
  let [l, rest] = wrapN(width, slop, s);
  r += l.replace(/\n/g, indent);
  while (rest !== '') {
    [l, rest] = wrapN(width, slop, rest);
    r += indent + l.replace(/\n/g, indent);
  }
  return r;
}

/**
 * The Options table of a command: visible flags sorted by long name, the descriptions aligned
 * in one column and wrapped to `cols` characters (docker passes the terminal width minus one).
 */
export function flagUsages(flags: readonly FlagSpec[], cols = 79): string {
  const visible = flags.filter((f) => !f.hidden && f.deprecated === undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let maxlen = 0;
  const lines = visible.map((f) => {
    let left = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const { varname, usage } = unquoteUsage(f);
    if (varname) left += ' ' + varname;
    maxlen = Math.max(maxlen, left.length + 1); // pflag counts its alignment marker
    return { left, usage: usage + defaultSuffix(f) };
  });
  return lines
    .map(({ left, usage }) => `${left} ${' '.repeat(maxlen - left.length)} ${wrap(maxlen + 2, cols, usage)}\n`)
    .join('');
}

/**
 * The command paths help lists under "Aliases:", in docker's order: the spec's aliases, then its
 * name unless the aliases already place it (`build` sits between `image build` and `builder build`).
 */
export function aliasPaths(spec: CommandSpec): string[] {
  const paths = [...(spec.aliases ?? [])];
  if (!paths.includes(spec.name)) paths.push(spec.name);
  return paths;
}

/**
 * Full help for a command, as docker CLI 28 prints `docker CMD --help`:
 *
 *     Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]
 *
 *     Create and run a new container from an image
 *
 *     Aliases:
 *       berth container run, berth run
 *
 *     Options:
 *       -d, --detach   Run container in background and print container ID
 *
 * `path` is the command path the user typed (`container run` or `run`; the spec's name by
 * default); `width` is the terminal width (80 when unknown, as docker assumes).
 */
export function helpText(spec: CommandSpec, opts: { width?: number; path?: string } = {}): string {
  const width = opts.width ?? 80;
  const path = opts.path ?? spec.name;
  let out = `Usage:  ${PROGRAM} ${path}${spec.usage ? ' ' + spec.usage : ''}\n\n${spec.description.trim()}`;
  const aliases = aliasPaths(spec);
  if (aliases.length > 1) out += `\n\nAliases:\n  ${aliases.map((a) => `${PROGRAM} ${a}`).join(', ')}`;
  const options = flagUsages(spec.flags, width - 1).trimEnd();
  if (options) out += `\n\nOptions:\n${options}`;
  return out + '\n';
}
