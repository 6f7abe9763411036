/**
 * Value checks of docker's common option types (opts.FilterOpt, ValidateEnv, ValidateLabel), for
 * FlagSpec.check: the parser reports a failure as pflag does, naming the flag it was given for.
 * Each throws an Error whose message is docker's reason.
 */

/** opts.FilterOpt: `name=value` (an empty value is ignored). */
export function checkFilter(v: string): void {
  if (v !== '' && !v.includes('=')) throw new Error('bad format of filter (expected name=value)');
}

/** opts.ValidateEnv: a variable needs a name (`=x` is refused). */
export function checkEnv(v: string): void {
  if (v.split('=')[0] === '') throw new Error(`invalid environment variable: ${v}`);
}

/** opts.ValidateLabel: a label needs a name that is not blank. */
export function checkLabel(v: string): void {
  if (v.split('=')[0]!.trim() === '') throw new Error(`invalid label '${v}': empty name`);
}
