/**
 * Go's fmt package as seen from templates over JSON data: %v printing of values (maps as
 * `map[k:v]` with sorted keys, arrays as `[a b]`, null as `<nil>`), Sprint/Sprintln/Sprintf with
 * the common verbs, strconv.Quote and encoding/json as docker's `json` function produces it.
 *
 * Value model: JSON values; integers are Go `int`, other numbers `float64`; objects are
 * `map[string]interface {}`; MISSING is Go's "no value" (a missing map key).
 */
import { formatGoFloat } from '../../../lib/units.ts';

/** Go's invalid reflect.Value: what a missing map key evaluates to. Prints as `<no value>`. */
export const MISSING: unique symbol = Symbol('no value');

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Go type name docker's typed structs would show for v, used in error messages and %!verb(...). */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined || v === MISSING) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'function') return 'func';
  return 'map[string]interface {}';
}

/** Go's %v of v (fmt.Sprint of one operand). */
export const formatValue = (v: unknown): string => fmtArg(v, parseVerb('v'));

/** fmt.Sprint: operands in %v, with a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: operands in %v separated by spaces, then a newline. */
export const sprintln = (args: readonly unknown[]): string => args.map(formatValue).join(' ') + '\n';

interface Verb { verb: string; minus: boolean; plus: boolean; sharp: boolean; space: boolean; zero: boolean; width?: number; prec?: number }
const parseVerb = (verb: string): Verb => ({ verb, minus: false, plus: false, sharp: false, space: false, zero: false });

/** fmt.Sprintf with flags `-+# 0`, widths, precisions, `*`, and verbs v s d q t T x X o O b c U e E f F g G %. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') { out += c; continue; }
    const v = parseVerb('');
    for (i++; i < format.length; i++) {
      const f = format[i];
      if (f === '-') v.minus = true;
      else if (f === '+') v.plus = true;
      else if (f === '#') v.sharp = true;
      else if (f === ' ') v.space = true;
      else if (f === '0') v.zero = true;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') { i++; const a = args[argi++]; return typeof a === 'number' ? Math.trunc(a) : undefined; }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    v.width = num();
    if (v.width !== undefined && v.width < 0) { v.minus = true; v.width = -v.width; }
    if (format[i] === '.') { i++; v.prec = num() ?? 0; }
    const verb = format[i];
    if (verb === undefined) { out += '%!(NOVERB)'; break; }
    v.verb = verb;
    if (verb === '%') { out += '%'; continue; }
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    out += fmtArg(args[argi++], v);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => (a === null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`)).join(', ') + ')';
  }
  return out;
}

function pad(s: string, v: Verb, numeric = false): string {
  const w = v.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (v.minus) return s + ' '.repeat(w - len);
  if (v.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(w - len) + s.slice(sign.length);
  }
  return ' '.repeat(w - len) + s;
}

const bad = (a: unknown, v: Verb): string => (a === null || a === undefined || a === MISSING ? `%!${v.verb}(<nil>)` : `%!${v.verb}(${goTypeName(a)}=${formatValue(a)})`);

function fmtArg(a: unknown, v: Verb, depth = 0): string {
  if (v.verb === 'T') return pad(goTypeName(a), v);
  if (a === MISSING || a === undefined) return v.verb === 'v' || v.verb === 's' ? pad('<no value>', v) : bad(a, v);
  // Go prints a nil inside a collection as <nil> whatever the verb; at top level only %v does.
  if (a === null) return v.verb === 'v' || depth > 0 ? pad('<nil>', v) : bad(a, v);
  if (Array.isArray(a)) return '[' + a.map((e) => fmtArg(e, v, depth + 1)).join(' ') + ']';
  if (typeof a === 'function') return v.verb === 'v' ? pad('<func>', v) : bad(a, v);
  if (isObject(a)) {
    return 'map[' + Object.keys(a).sort().map((k) => `${fmtArg(k, v, depth + 1)}:${fmtArg(a[k], v, depth + 1)}`).join(' ') + ']';
  }
  if (typeof a === 'boolean') return v.verb === 'v' || v.verb === 't' ? pad(String(a), v) : bad(a, v);
  if (typeof a === 'string') return fmtString(a, v);
  if (typeof a === 'number' || typeof a === 'bigint') return fmtNumber(a, v);
  return pad(String(a), v);
}

function fmtString(s: string, v: Verb): string {
  const cut = (x: string): string => (v.prec === undefined ? x : [...x].slice(0, v.prec).join(''));
  switch (v.verb) {
    case 'v': case 's': return pad(cut(s), v);
    case 'q': return pad(v.sharp && !s.includes('`') ? '`' + s + '`' : goQuote(cut(s), v.plus), v);
    case 'x': case 'X': {
      let hex = Buffer.from(cut(s)).toString('hex');
      if (v.verb === 'X') hex = hex.toUpperCase();
      return pad(v.sharp ? (v.verb === 'X' ? '0X' : '0x') + hex : hex, v);
    }
    default: return bad(s, v);
  }
}

function fmtNumber(n: number | bigint, v: Verb): string {
  const isInt = typeof n === 'bigint' || Number.isInteger(n);
  const sign = (neg: boolean): string => (neg ? '-' : v.plus ? '+' : v.space ? ' ' : '');
  const intIn = (radix: number, prefix: string): string => {
    const neg = n < 0;
    let digits = (typeof n === 'bigint' ? (neg ? -n : n) : Math.abs(n)).toString(radix);
    if (v.prec !== undefined && digits.length < v.prec) digits = '0'.repeat(v.prec - digits.length) + digits;
    return pad(sign(neg) + (v.sharp ? prefix : '') + digits, v, true);
  };
  const float = (verb: 'e' | 'f' | 'g', upper: boolean): string => {
    const x = Number(n);
    let s = formatGoFloat(x, verb, v.prec ?? (verb === 'g' ? -1 : 6));
    if (upper) s = s.toUpperCase();
    if (!s.startsWith('-')) s = sign(false) + s;
    return pad(s, v, Number.isFinite(x));
  };
  switch (v.verb) {
    case 'v': return isInt ? intIn(10, '') : float('g', false);
    case 'd': return isInt ? intIn(10, '') : bad(n, v);
    case 'x': return isInt ? intIn(16, '0x') : bad(n, v);
    case 'X': return isInt ? intIn(16, '0X').toUpperCase() : bad(n, v);
    case 'o': return isInt ? intIn(8, '0') : bad(n, v);
    case 'O': return isInt ? pad(sign(n < 0) + '0o' + Math.abs(Number(n)).toString(8), v, true) : bad(n, v);
    case 'b': return isInt ? intIn(2, '') : bad(n, v);
    case 'c': return isInt ? pad(String.fromCodePoint(Number(n)), v) : bad(n, v);
    case 'q': return isInt ? pad(quoteRune(Number(n)), v) : bad(n, v);
    case 'U': return isInt ? pad('U+' + Number(n).toString(16).toUpperCase().padStart(4, '0'), v) : bad(n, v);
    case 'e': case 'E': return float('e', v.verb === 'E');
    case 'f': case 'F': return float('f', false);
    case 'g': case 'G': return float('g', v.verb === 'G');
    default: return bad(n, v);
  }
}

const QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\',
};

function escapeRune(ch: string, quote: string, asciiOnly: boolean): string {
  if (ch === quote) return '\\' + ch;
  const e = QUOTE_ESCAPES[ch];
  if (e) return e;
  const cp = ch.codePointAt(0)!;
  // Printable per Go's unicode.IsPrint, approximated: not a control, format or separator code point.
  const printable = !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u.test(ch) && (cp === 0x20 || !/\p{Zs}/u.test(ch));
  if (printable && (!asciiOnly || cp < 0x80)) return ch;
  if (cp < 0x80) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** strconv.Quote (or QuoteToASCII when asciiOnly): a double-quoted Go string literal. */
export const goQuote = (s: string, asciiOnly = false): string =>
  '"' + [...s].map((ch) => escapeRune(ch, '"', asciiOnly)).join('') + '"';

const quoteRune = (cp: number): string => "'" + escapeRune(String.fromCodePoint(cp), "'", false) + "'";

/** Struct field names in the Engine API are exported Go identifiers; anything else is a map key. */
const STRUCT_KEY = /^[A-Z][A-Za-z0-9_]*$/;

/**
 * Marks an object as a Go struct whose JSON keys are its json tags (lowercase ones too, such as an
 * event's `status` and `timeNano`): `json` keeps its key order instead of sorting it as a map's.
 */
export const GO_STRUCT: unique symbol = Symbol('go struct');

/**
 * docker's `json` template function: encoding/json with HTML escaping off (the CLI calls
 * SetEscapeHTML(false)), no spaces, U+2028/U+2029 escaped as Go always does. Go marshals structs
 * in field order and maps with sorted keys; an object whose keys all look like Go field names is
 * taken as a struct (key order kept), any other object as a map (keys sorted), so
 * `{{json .Config}}` keeps the daemon's order while Labels and Ports come out sorted.
 * MISSING/undefined encode as null.
 */
export function goJson(v: unknown): string {
  const replacer = (_k: string, x: unknown): unknown => {
    if (x === MISSING) return null;
    if (typeof x === 'bigint') return Number(x);
    if (isObject(x) && !(GO_STRUCT in x) && !Object.keys(x).every((k) => STRUCT_KEY.test(k))) {
      return Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]]));
    }
    return x;
  };
  const s = JSON.stringify(v === MISSING || v === undefined ? null : v, replacer);
  return (s ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
