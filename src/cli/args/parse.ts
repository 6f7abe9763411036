/**
 * A pflag-compatible argument parser driven by a CommandSpec: `-it` combined shorthands,
 * `-p8080:80`, `-p=8080:80` and `-p 8080:80`, `--name=x` and `--name x`, `--rm=false`, `--` ends
 * flags, interspersed or not, and pflag's/cobra's error messages as docker prints them.
 */
import { parseGoBool } from '../../lib/units.ts';
import { UsageError, type CommandSpec, type FlagSpec, type FlagValue, type ParsedArgs } from './spec.ts';

export { FlagError, UsageError } from './spec.ts';
export type { CommandSpec, FlagSpec, FlagKind, FlagAlias, FlagValue, ParsedArgs } from './spec.ts';
export { aliasPaths, helpText, flagUsages } from './help.ts';

/** The program name shown in messages. */
export const PROGRAM = 'berth';

/**
 * cobra's UseLine: the command path the user typed (`container ls` or `ps`; the spec's name by
 * default) and what follows it in the spec's usage.
 */
export function usageLine(spec: CommandSpec, path = spec.name): string {
  return [PROGRAM, path, spec.usage].filter((w) => w !== '').join(' ');
}

/** `berth PATH`, or `berth` for the root command (path ''). */
const commandPath = (path: string): string => (path ? `${PROGRAM} ${path}` : PROGRAM);

/**
 * A usage error as docker CLI 28 reports a flag error (cli.FlagErrorFunc): the reason, the usage
 * line, then "Run 'berth CMD --help' for more information" (exit 125).
 */
export function flagError(spec: CommandSpec, reason: string, path = spec.name): UsageError {
  return new UsageError(`${reason}\n\nUsage:  ${usageLine(spec, path)}\n\nRun '${commandPath(path)} --help' for more information`, reason, 125);
}

function defaultOf(f: FlagSpec): FlagValue {
  if (f.default !== undefined) return Array.isArray(f.default) ? [...(f.default as string[])] : (f.default as FlagValue);
  return f.kind === 'bool' ? false : f.kind === 'string' ? '' : f.kind === 'int' ? 0 : [];
}

/** strconv.ParseInt(s, 0, 64): decimal, 0x/0o/0b prefixes, a leading 0 for octal, `_` between digits. */
function parseInt64(s: string): number {
  const q = JSON.stringify(s);
  const syntax = (): Error => new Error(`strconv.ParseInt: parsing ${q}: invalid syntax`);
  let t = s;
  const neg = t[0] === '-';
  if (t[0] === '+' || t[0] === '-') t = t.slice(1);
  let base = 10;
  let digits = t;
  let prefixed = true;
  if (/^0[xX]/.test(t)) { base = 16; digits = t.slice(2); }
  else if (/^0[bB]/.test(t)) { base = 2; digits = t.slice(2); }
  else if (/^0[oO]/.test(t)) { base = 8; digits = t.slice(2); }
  else if (/^0./.test(t)) { base = 8; digits = t.slice(1); }
  else prefixed = false;
  // Underscores only between digits, or between a base prefix and a digit.
  if (digits.includes('_') && (!/^_?[^_]+(_[^_]+)*$/.test(digits) || (digits[0] === '_' && !prefixed))) throw syntax();
  const clean = digits.replace(/_/g, '');
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!valid.test(clean)) throw syntax();
  let big = BigInt((base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '') + clean);
  if (neg) big = -big;
  if (big > 9223372036854775807n || big < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${q}: value out of range`);
  return Number(big);
}

interface Lookup { flag: FlagSpec; deprecated?: string; usedName: string }

/**
 * Parse `argv` (the arguments after the command path) against `spec`; `path` is the command path
 * the user typed, for messages (the spec's name by default).
 * On -h/--help parsing stops and `help` is true. Otherwise argument counts are checked
 * (checkArgCount).
 * @throws UsageError with pflag's messages: `unknown flag: --foo`, `unknown shorthand flag: 'z' in -z`,
 *   `flag needs an argument: --name`, `flag needs an argument: 'e' in -e`,
 *   `invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax`,
 *   `bad flag syntax: ---x`; and the argument-count errors of checkArgCount.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[], path = spec.name): ParsedArgs {
  const { long, short, flags } = flagTables(spec);
  const result: ParsedArgs = { flags, args: [], changed: new Set(), help: false, warnings: [] };
  const fail = (reason: string): never => { throw flagError(spec, reason, path); };
  const set = (l: Lookup, value: string): void => setFlag(result, l, value, fail);

  const rest = [...argv];
  while (rest.length > 0) {
    const s = rest.shift()!;
    if (s.length < 2 || s[0] !== '-') {
      if (spec.interspersed === false) { result.args.push(s, ...rest); break; }
      result.args.push(s);
      continue;
    }
    if (s === '--') { result.args.push(...rest); break; }
    if (s[1] === '-') {
      const body = s.slice(2);
      if (body[0] === '-' || body[0] === '=') fail(`bad flag syntax: ${s}`);
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      const l = long.get(name);
      if (!l) {
        if (name === 'help') { result.help = true; return result; }
        fail(`unknown flag: --${name}`);
      }
      if (eq !== -1) set(l!, body.slice(eq + 1));
      else if (l!.flag.kind === 'bool') set(l!, 'true');
      else if (rest.length > 0) set(l!, rest.shift()!);
      else fail(`flag needs an argument: ${s}`);
      continue;
    }
    // Shorthands: each letter in turn; a value-taking flag eats the rest of the word or the next argument.
    let shorts = s.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0]!;
      const f = short.get(c);
      if (!f) {
        if (c === 'h') { result.help = true; return result; }
        fail(`unknown shorthand flag: '${c}' in -${shorts}`);
      }
      const l: Lookup = { flag: f!, usedName: f!.name };
      if (shorts.length > 2 && shorts[1] === '=') { set(l, shorts.slice(2)); shorts = ''; }
      else if (f!.kind === 'bool') { set(l, 'true'); shorts = shorts.slice(1); }
      else if (shorts.length > 1) { set(l, shorts.slice(1)); shorts = ''; }
      else if (rest.length > 0) { set(l, rest.shift()!); shorts = ''; }
      else fail(`flag needs an argument: '${c}' in -${shorts}`);
    }
  }
  checkArgCount(spec, result.args, path);
  return result;
}

/** The spec's flags by long name (aliases included) and by shorthand, and their defaults. */
function flagTables(spec: CommandSpec): { long: Map<string, Lookup>; short: Map<string, FlagSpec>; flags: Record<string, FlagValue> } {
  const long = new Map<string, Lookup>();
  const short = new Map<string, FlagSpec>();
  const flags: Record<string, FlagValue> = {};
  for (const f of spec.flags) {
    flags[f.name] = defaultOf(f);
    long.set(f.name, { flag: f, usedName: f.name, ...(f.deprecated !== undefined ? { deprecated: f.deprecated } : {}) });
    for (const a of f.aliases ?? []) {
      if (typeof a === 'string') long.set(a, { flag: f, usedName: a });
      else long.set(a.name, { flag: f, usedName: a.name, deprecated: a.deprecated });
    }
    if (f.short) short.set(f.short, f);
  }
  return { long, short, flags };
}

/** One use of a flag: its value checked and converted by its kind (pflag's messages through `fail`). */
function setFlag(result: ParsedArgs, l: Lookup, value: string, fail: (reason: string) => never): void {
  const f = l.flag;
  const flags = result.flags;
  if (l.deprecated !== undefined) result.warnings.push(`Flag --${l.usedName} has been deprecated, ${l.deprecated}`);
  const flagName = f.short && l.usedName === f.name ? `-${f.short}, --${f.name}` : `--${l.usedName}`;
  const invalid = (why: string): never => fail(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(flagName)} flag: ${why}`);
  switch (f.kind) {
    case 'bool': {
      const b = parseGoBool(value);
      flags[f.name] = b ?? invalid(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
      break;
    }
    case 'int':
      try { flags[f.name] = parseInt64(value); } catch (e) { invalid((e as Error).message); }
      break;
    case 'string':
      checkValue(f, value, invalid);
      flags[f.name] = value;
      break;
    case 'string[]':
      checkValue(f, value, invalid);
      // pflag stringArray: the first use replaces the default, later uses append.
      flags[f.name] = result.changed.has(f.name) ? [...(flags[f.name] as string[]), value] : [value];
      break;
  }
  result.changed.add(f.name);
}

function checkValue(f: FlagSpec, value: string, invalid: (why: string) => never): void {
  if (!f.check) return;
  try { f.check(value); } catch (err) { invalid(err instanceof Error ? err.message : String(err)); }
}

const plural = (n: number): string => (n === 1 ? 'argument' : 'arguments');

/**
 * Check `args.length` against spec.minArgs/maxArgs with docker CLI 28's wording (cli/required.go),
 * for the command path `path` the user typed, e.g.
 * `berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information`.
 * @throws UsageError (exit code 1)
 */
export function checkArgCount(spec: CommandSpec, args: readonly string[], path = spec.name): void {
  const { minArgs: min, maxArgs: max } = spec;
  const n = args.length;
  let reason: string | undefined;
  // docker says "See" after "requires at least" and "Run" after the others.
  let next = 'Run';
  const cmd = `'${PROGRAM} ${path}'`;
  if (min !== undefined && max !== undefined && (n < min || n > max)) {
    if (min === 0 && max === 0) reason = `${cmd} accepts no arguments`;
    else if (min === max) reason = `${cmd} requires ${min} ${plural(min)}`;
    else if (min === 0) reason = `${cmd} requires at most ${max} ${plural(max)}`;
    else reason = `${cmd} requires at least ${min} and at most ${max} ${plural(max)}`;
  } else if (min !== undefined && max === undefined && n < min) {
    reason = `${cmd} requires at least ${min} ${plural(min)}`;
    next = 'See';
  } else if (max !== undefined && min === undefined && n > max) {
    reason = max === 0 ? `${cmd} accepts no arguments` : `${cmd} requires at most ${max} ${plural(max)}`;
  }
  if (reason === undefined) return;
  throw new UsageError(`${PROGRAM}: ${reason}\n\nUsage:  ${usageLine(spec, path)}\n\n${next} '${PROGRAM} ${path} --help' for more information`, reason, 1);
}

/** Typed accessors for ParsedArgs.flags; they throw a plain Error (a bug) on a kind mismatch. */
export const flagString = (p: ParsedArgs, name: string): string => typed(p, name, 'string') as string;
export const flagBool = (p: ParsedArgs, name: string): boolean => typed(p, name, 'boolean') as boolean;
export const flagInt = (p: ParsedArgs, name: string): number => typed(p, name, 'number') as number;
export const flagList = (p: ParsedArgs, name: string): string[] => {
  const v = p.flags[name];
  if (!Array.isArray(v)) throw new Error(`flag --${name} is not a list flag`);
  return v;
};

function typed(p: ParsedArgs, name: string, type: 'string' | 'boolean' | 'number'): FlagValue {
  const v = p.flags[name];
  if (typeof v !== type) throw new Error(`flag --${name} is not a ${type} flag`);
  return v!;
}
