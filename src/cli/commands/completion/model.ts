/**
 * What the shell completion scripts know, derived from the command specs (their flag tables and
 * usage lines): every command path, its flags, which flags take a value and what that value is,
 * and what each positional argument names (a container, an image, ...), so the scripts complete
 * names from the daemon (`berth ps -a --format ...`) where that is what the command wants.
 */
import type { CommandSpec, FlagSpec } from '../../args/spec.ts';

/**
 * What a word names: objects listed from the daemon, files, a fixed list (`words:bash,zsh,fish`),
 * or nothing to complete.
 */
export type ArgKind = 'container' | 'image' | 'network' | 'volume' | 'object' | 'file' | 'none' | `words:${string}`;

export interface CompletionFlag {
  long: string;
  short?: string;
  description: string;
  takesValue: boolean;
  /** What the value names, for flags that take one. */
  value: ArgKind;
}

export interface CompletionCommand {
  /** The command path (`container ls`); aliases get entries of their own. */
  path: string;
  description: string;
  flags: CompletionFlag[];
  /** Positional arguments in order; `repeatLast` when the last one may repeat (`CONTAINER...`). */
  args: ArgKind[];
  repeatLast: boolean;
  /** pflag's SetInterspersed(false): after the first positional nothing is a flag (run IMAGE ls -l). */
  flagsEndAtFirstArg: boolean;
}

export interface CompletionModel {
  /** Top-level words: commands and management commands, with their descriptions. */
  top: Array<[string, string]>;
  /** Management command → its subcommands with descriptions. */
  groups: Record<string, Array<[string, string]>>;
  commands: CompletionCommand[];
  globalFlags: CompletionFlag[];
}

/** The shell command that lists the names of a kind, one per line (run with the user's -H). */
export const LISTERS: Readonly<Record<'container' | 'image' | 'network' | 'volume', readonly string[]>> = {
  container: ['ps', '-a', '--format', '{{.Names}}'],
  image: ['images', '--format', '{{.Repository}}:{{.Tag}}'],
  network: ['network', 'ls', '--format', '{{.Name}}'],
  volume: ['volume', 'ls', '--format', '{{.Name}}'],
};

/** Flag values that name something the daemon can list, or a file, by flag name. */
const FLAG_VALUES: Readonly<Record<string, ArgKind>> = {
  network: 'network', 'volumes-from': 'container', file: 'file', 'env-file': 'file', 'label-file': 'file',
  cidfile: 'file', iidfile: 'file', input: 'file', output: 'file', 'tls-cert': 'file', 'tls-key': 'file', htpasswd: 'file',
};

/** A flag's value kind: its own entry above, or the quoted choices its description lists (`("always", "missing", "never")`). */
function flagValueKind(f: FlagSpec): ArgKind {
  const known = FLAG_VALUES[f.name];
  if (known) return known;
  const choices = /\(("[\w.-]+"(?:,\s*"[\w.-]+")+)\)/.exec(f.description);
  if (choices) return `words:${[...choices[1]!.matchAll(/"([\w.-]+)"/g)].map((m) => m[1]).join(',')}`;
  return 'none';
}

function completionFlags(flags: readonly FlagSpec[]): CompletionFlag[] {
  return flags.filter((f) => !f.hidden && f.deprecated === undefined).map((f) => ({
    long: f.name, ...(f.short ? { short: f.short } : {}), description: f.description.split('\n')[0]!.replace(/`/g, ''),
    takesValue: f.kind !== 'bool', value: f.kind === 'bool' ? 'none' : flagValueKind(f),
  }));
}

/** What one word of a usage line names (`CONTAINER`, `[REPOSITORY[:TAG]]`, `PATH|URL|-`). */
function wordKind(word: string, creates: boolean): ArgKind {
  const w = word.replace(/[[\]]|\.\.\./g, '');
  if (/^[a-z]+(\|[a-z]+)+$/.test(w)) return `words:${w.split('|').join(',')}`;
  if (w === 'NAME|ID') return 'object';
  if (/CONTAINER/.test(w)) return 'container';
  if (/IMAGE|REPOSITORY|^NAME:TAG/.test(w)) return 'image';
  if (/^NETWORK$/.test(w)) return creates ? 'none' : 'network';
  if (/^VOLUME$/.test(w)) return creates ? 'none' : 'volume';
  if (/PATH|^file\|/.test(w)) return 'file';
  return 'none';
}

/** The positional arguments of a usage line: `[OPTIONS] CONTAINER [CONTAINER...]` → container, repeating. */
export function positionalKinds(spec: CommandSpec): { args: ArgKind[]; repeatLast: boolean } {
  const line = spec.usage.split('\n')[0]!.replace(/\s*\|\s*/g, '|').replace(/\[ps OPTIONS\]|\[OPTIONS\]/g, '').trim();
  const words = line === '' ? [] : line.split(/\s+/);
  const creates = spec.name.endsWith(' create');
  const args = words.map((w) => wordKind(w, creates));
  const repeatLast = words.length > 0 && words.at(-1)!.includes('...');
  // `CONTAINER [CONTAINER...]` is one repeating argument.
  if (repeatLast && args.length >= 2 && args.at(-1) === args.at(-2)) args.pop();
  return { args, repeatLast };
}

/**
 * The model for `specs` (every loaded command, with the catalogue's paths), the top-level
 * management commands and the global flags.
 */
export function completionModel(
  entries: ReadonlyArray<{ paths: readonly string[]; spec: CommandSpec }>,
  groups: Readonly<Record<string, string>>,
  globalFlags: readonly FlagSpec[],
): CompletionModel {
  const commands: CompletionCommand[] = [];
  const top: Array<[string, string]> = Object.entries(groups);
  const subs: Record<string, Array<[string, string]>> = Object.fromEntries(Object.keys(groups).map((g) => [g, []]));
  for (const { paths, spec } of entries) {
    const description = spec.description.split('\n')[0]!.replace(/\.$/, '');
    const { args, repeatLast } = positionalKinds(spec);
    for (const path of paths) {
      commands.push({ path, description, flags: completionFlags(spec.flags), args, repeatLast, flagsEndAtFirstArg: spec.interspersed === false });
      const [first, second] = path.split(' ');
      if (second === undefined) top.push([first!, description]);
      else subs[first!]?.push([second, description]);
    }
  }
  const byName = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  for (const g of Object.values(subs)) g.sort(byName);
  return { top: top.sort(byName), groups: subs, commands, globalFlags: completionFlags(globalFlags) };
}
