/**
 * Template functions: Go's text/template builtins (and, or, not, len, index, slice, print,
 * printf, println, html, urlquery, eq, ne, lt, le, gt, ge) and the ones the docker CLI adds
 * (json, split, join, title, lower, upper, pad, truncate), plus docker's identity versions used
 * when rendering table headers.
 *
 * A function throws FuncError for a failure Go reports as `error calling NAME: ...`, and
 * ArgTypeError for a bad argument type, which Go reports without that prefix.
 */
import { formatValue, goJson, goTypeName, isObject, MISSING, sprint, sprintf, sprintln } from './go-fmt.ts';

/** A failure inside a function: reported as `error calling NAME: message`. */
export class FuncError extends Error {}
/** An argument of the wrong type: reported as `wrong type for value; expected T; got U`. */
export class ArgTypeError extends Error {
  constructor(readonly argIndex: number, readonly expected: 'string' | 'int' | '[]string', got: unknown) {
    super(`wrong type for value; expected ${expected}; got ${goTypeName(got)}`);
  }

  /** Go's wording when the bad argument is a literal in the template (`{{upper 1}}`). */
  literalMessage(literal: string): string {
    if (this.expected === '[]string') return `can't handle ${literal} for arg of type []string`;
    return `expected ${this.expected === 'int' ? 'integer' : 'string'}; found ${literal}`;
  }
}

/** A template function. `arity` is exact, or `{ min }` for variadic functions. */
export interface TemplateFunction {
  arity: number | { min: number };
  fn: (args: unknown[]) => unknown;
}
/** Functions by name, as Go's template.FuncMap. */
export type FuncMap = Readonly<Record<string, TemplateFunction>>;

/** Go's truth: false, 0, "", nil, no value and empty arrays/maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === null || v === undefined || v === MISSING) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

const str = (args: unknown[], i: number): string => {
  const v = args[i];
  if (typeof v !== 'string') throw new ArgTypeError(i, 'string', v);
  return v;
};
const int = (args: unknown[], i: number): number => {
  const v = args[i];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgTypeError(i, 'int', v);
  return v;
};
const strList = (args: unknown[], i: number): string[] => {
  const v = args[i];
  if (v === null) return [];
  if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) throw new ArgTypeError(i, '[]string', v);
  return v as string[];
};

type Kind = 'number' | 'string' | 'bool' | 'nil' | 'other';
const kindOf = (v: unknown): Kind =>
  v === null || v === undefined || v === MISSING ? 'nil'
    : typeof v === 'number' || typeof v === 'bigint' ? 'number'
      : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'other';

function eq(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  if (ka === 'other') throw new FuncError(`non-comparable type ${formatValue(a)}: ${goTypeName(a)}`);
  // eslint-disable-next-line eqeqeq -- number vs bigint compares by value
  return a == b;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'nil' || ka === 'bool' || ka === 'other' || kb === 'nil' || kb === 'bool' || kb === 'other') {
    throw new FuncError('invalid type for comparison');
  }
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function length(v: unknown): number {
  if (v === null || v === MISSING) return 0; // a nil slice or map in docker's typed structs
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

function index(args: unknown[]): unknown {
  let item = args[0];
  for (const key of args.slice(1)) {
    if (item === null || item === MISSING) return MISSING; // nil map: zero value
    if (Array.isArray(item) || typeof item === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key)) throw new FuncError(`cannot index slice/array with type ${goTypeName(key)}`);
      const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
      if (key < 0 || key >= len) throw new FuncError(`index out of range: ${key}`);
      item = typeof item === 'string' ? Buffer.from(item)[key]! : item[key];
    } else if (isObject(item)) {
      if (typeof key !== 'string') throw new FuncError(`value has type ${goTypeName(key)}; should be string`);
      item = Object.hasOwn(item, key) ? item[key] : MISSING;
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item === undefined ? MISSING : item;
}

function slice(args: unknown[]): unknown {
  const item = args[0];
  if (item === null || item === MISSING) throw new FuncError('slice of untyped nil');
  if (typeof item !== 'string' && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  if (args.length > 4) throw new FuncError(`too many slice indexes: ${args.length - 1}`);
  if (typeof item === 'string' && args.length === 4) throw new FuncError('cannot 3-index slice a string');
  const len = item.length;
  const idx = args.slice(1).map((k) => {
    if (typeof k !== 'number' || !Number.isInteger(k)) throw new FuncError(`cannot index slice/array with type ${goTypeName(k)}`);
    if (k < 0 || k > len) throw new FuncError(`index out of range: ${k}`);
    return k;
  });
  const [i = 0, j = len] = idx;
  if (i > j) throw new FuncError(`invalid slice index: ${i} > ${j}`);
  return item.slice(i, j);
}

const htmlEscape = (s: string): string => s.replace(/[&'<>"\0]/g, (c) =>
  ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);

/** Go's url.QueryEscape: only A-Z a-z 0-9 - _ . ~ stay, space becomes '+'. */
const queryEscape = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');

/** strings.Title: upper-cases the first letter of each word (words split at non-alphanumerics). */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = /[\p{L}\p{Nd}_]/u.test(prev) ? false : prev.codePointAt(0)! < 0x80 || /\s/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

const fn = (arity: TemplateFunction['arity'], f: TemplateFunction['fn']): TemplateFunction => ({ arity, fn: f });

/** Go's builtins. `and`/`or` are evaluated lazily by the executor; these are the fallbacks. */
export const BUILTINS: FuncMap = {
  and: fn({ min: 1 }, (a) => a.find((v) => !isTrue(v)) ?? a[a.length - 1]),
  or: fn({ min: 1 }, (a) => a.find((v) => isTrue(v)) ?? a[a.length - 1]),
  not: fn(1, (a) => !isTrue(a[0])),
  len: fn(1, (a) => length(a[0])),
  index: fn({ min: 1 }, index),
  slice: fn({ min: 1 }, slice),
  print: fn({ min: 0 }, sprint),
  printf: fn({ min: 1 }, (a) => sprintf(str(a, 0), a.slice(1))),
  println: fn({ min: 0 }, sprintln),
  html: fn({ min: 0 }, (a) => htmlEscape(a.length === 1 && typeof a[0] === 'string' ? a[0] : sprint(a))),
  urlquery: fn({ min: 0 }, (a) => queryEscape(a.length === 1 && typeof a[0] === 'string' ? a[0] : sprint(a))),
  eq: fn({ min: 1 }, (a) => {
    if (a.length < 2) throw new FuncError('missing argument for comparison');
    return a.slice(1).some((b) => eq(a[0], b));
  }),
  ne: fn(2, (a) => !eq(a[0], a[1])),
  lt: fn(2, (a) => lt(a[0], a[1])),
  le: fn(2, (a) => lt(a[0], a[1]) || eq(a[0], a[1])),
  gt: fn(2, (a) => !lt(a[0], a[1]) && !eq(a[0], a[1])),
  ge: fn(2, (a) => !lt(a[0], a[1])),
};

/** The functions docker's CLI adds to every template (docker/cli templates.basicFunctions). */
export const DOCKER_FUNCS: FuncMap = {
  json: fn(1, (a) => goJson(a[0])),
  split: fn(2, (a) => {
    const s = str(a, 0);
    const sep = str(a, 1);
    return sep === '' ? [...s] : s.split(sep);
  }),
  join: fn(2, (a) => strList(a, 0).join(str(a, 1))),
  title: fn(1, (a) => title(str(a, 0))),
  lower: fn(1, (a) => str(a, 0).toLowerCase()),
  upper: fn(1, (a) => str(a, 0).toUpperCase()),
  // pad: spaces around a non-empty string; truncate: the first N characters.
  pad: fn(3, (a) => {
    const s = str(a, 0);
    return s === '' ? s : ' '.repeat(Math.max(int(a, 1), 0)) + s + ' '.repeat(Math.max(int(a, 2), 0));
  }),
  truncate: fn(2, (a) => {
    const chars = [...str(a, 0)];
    const n = int(a, 1);
    return chars.length < n ? chars.join('') : chars.slice(0, Math.max(n, 0)).join('');
  }),
};

const identity = (arity: number): TemplateFunction => fn(arity, (a) => a[0]);

/**
 * docker's HeaderFunctions: while rendering a table header the formatting functions return the
 * header text unchanged (`pad` is kept so headers stay aligned with padded columns).
 */
export const HEADER_FUNCS: FuncMap = {
  json: identity(1), split: identity(2), join: identity(2), title: identity(1),
  lower: identity(1), upper: identity(1), truncate: identity(2),
};
