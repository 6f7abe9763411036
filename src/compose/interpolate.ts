/**
 * Variable interpolation in a compose file, as the Compose Specification defines it and Compose
 * v2 (compose-go's template package) does it: `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+replacement}`, `${VAR+replacement}`
 * and `$$` for a literal dollar. Defaults and replacements may nest further interpolations.
 * A variable that is unset and has no default becomes '' with a warning, as Compose v2 does.
 */

/** Looks a variable up: undefined when unset ('' is set and empty). */
export type Lookup = (name: string) => string | undefined;

/** An interpolation the file asks to fail (`:?` / `?`) or one that is malformed. */
export class InterpolationError extends Error {}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

export interface InterpolateOptions {
  /** Told of each variable that is unset and has no default (Compose v2 prints a warning). */
  onUnset?: (name: string) => void;
}

/** Interpolates one string. @throws InterpolationError */
export function interpolate(template: string, lookup: Lookup, opts: InterpolateOptions = {}): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) { out += template.slice(i); break; }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') { out += '$'; i = dollar + 2; continue; }
    if (next === '{') {
      const end = closingBrace(template, dollar + 2);
      if (end < 0) throw new InterpolationError(`invalid template: ${JSON.stringify(template)}`);
      out += substitute(template.slice(dollar + 2, end), template, lookup, opts);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(template.slice(dollar + 1))?.[0];
    if (!name) throw new InterpolationError(`invalid template: ${JSON.stringify(template)}`);
    out += valueOrBlank(name, lookup, opts);
    i = dollar + 1 + name.length;
  }
  return out;
}

/** The index of the `}` that closes a `${` whose body starts at `from`, counting nested `${`. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') { i++; continue; }
    if (s[i] === '$' && s[i + 1] === '{') { depth++; i++; continue; }
    if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function valueOrBlank(name: string, lookup: Lookup, opts: InterpolateOptions): string {
  const v = lookup(name);
  if (v === undefined) { opts.onUnset?.(name); return ''; }
  return v;
}

/** The body of one `${...}`: a name, then optionally an operator and its word. */
function substitute(body: string, template: string, lookup: Lookup, opts: InterpolateOptions): string {
  const name = NAME.exec(body)?.[0];
  if (!name) throw new InterpolationError(`invalid template: ${JSON.stringify(template)}`);
  const rest = body.slice(name.length);
  if (rest === '') return valueOrBlank(name, lookup, opts);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new InterpolationError(`invalid template: ${JSON.stringify(template)}`);
  const word = () => interpolate(rest.slice(op.length), lookup, opts);
  const value = lookup(name);
  const unset = value === undefined;
  const emptyOrUnset = unset || value === '';
  switch (op) {
    case ':-': return emptyOrUnset ? word() : value!;
    case '-': return unset ? word() : value;
    case ':?': if (emptyOrUnset) throw new InterpolationError(`required variable ${name} is missing a value: ${word()}`); return value!;
    case '?': if (unset) throw new InterpolationError(`required variable ${name} is missing a value: ${word()}`); return value;
    case ':+': return emptyOrUnset ? '' : word();
    default: return unset ? '' : word(); // '+'
  }
}

/**
 * Interpolates every string value of a parsed compose document (keys are left alone, as Compose
 * does). An error names the key path: `services.web.image: required variable TAG is missing a value: set it`.
 * @throws InterpolationError
 */
export function interpolateTree(node: unknown, lookup: Lookup, opts: InterpolateOptions = {}, path = ''): unknown {
  if (typeof node === 'string') {
    try { return interpolate(node, lookup, opts); } catch (err) {
      throw new InterpolationError(`${path || '(root)'}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, lookup, opts, `${path}[${i}]`));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, lookup, opts, path ? `${path}.${k}` : k)]));
  }
  return node;
}
