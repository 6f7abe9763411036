/**
 * Human-readable sizes, durations and container status strings, matching what the docker CLI
 * prints (go-units' HumanSize/BytesSize/RAMInBytes/HumanDuration, Go's time.ParseDuration, and
 * the daemon's State.String()). Pure functions; parse errors are EngineError('InvalidParameter')
 * with Go's wording, because users see them verbatim after a bad flag value.
 */
import { EngineError } from './errors.ts';
import { ZERO_TIME } from './timestamp.ts';

/**
 * Go's strconv.FormatFloat for the 'e', 'f' and 'g' verbs. `prec` -1 means the shortest
 * representation that round-trips (what %v prints). Shared with the CLI's Go template engine,
 * which needs Go's exact %g rules (e.g. `%.3g` of 999.9 is `1e+03`, and %v of 1234567.5 is
 * `1.2345675e+06`).
 */
export function formatGoFloat(x: number, verb: 'e' | 'f' | 'g', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let d: Digits;
  if (shortest) d = digitsOf(ax.toExponential());
  else if (verb === 'e') d = roundDigits(exactDigits(ax), Math.max(prec, 0) + 1);
  else if (verb === 'f') { const e = exactDigits(ax); d = roundDigits(e, e.dp + prec); }
  else d = roundDigits(exactDigits(ax), Math.max(prec, 1));
  if (shortest) prec = verb === 'e' ? Math.max(d.nd - 1, 0) : verb === 'f' ? Math.max(d.nd - d.dp, 0) : d.nd;
  let body: string;
  if (verb === 'e') body = fmtE(d, prec);
  else if (verb === 'f') body = fmtF(d, prec);
  else {
    if (!shortest && prec === 0) prec = 1;
    let eprec = prec;
    if (eprec > d.nd && d.nd >= d.dp) eprec = d.nd;
    if (shortest) eprec = 6; // Go: "if precision was the shortest possible, use precision 6 for this decision"
    const exp = d.dp - 1;
    if (d.nd > 0 && (exp < -4 || exp >= eprec)) body = fmtE(d, Math.min(prec, d.nd) - 1);
    else body = fmtF(d, Math.max((prec > d.dp ? d.nd : prec) - d.dp, 0));
  }
  return (neg ? '-' : '') + body;
}

/** Decimal digits without trailing zeros, and the decimal point position (Go's decimal type). */
interface Digits { d: string; nd: number; dp: number }

function digitsOf(exponential: string): Digits {
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exponential);
  if (!m) return { d: '', nd: 0, dp: 0 };
  const digits = ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, '');
  if (digits === '') return { d: '', nd: 0, dp: 0 };
  return { d: digits, nd: digits.length, dp: Number(m[3]) + 1 };
}

/** The exact decimal expansion of a finite non-negative double (every double has one). */
function exactDigits(ax: number): Digits {
  if (ax === 0) return { d: '', nd: 0, dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, ax);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  if (biased !== 0) mant |= 1n << 52n;
  const exp = (biased === 0 ? 1 : biased) - 1075; // ax = mant * 2^exp
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    // mant / 2^k = mant * 5^k / 10^k
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { d: trimmed, nd: trimmed.length, dp };
}

/** Round to `nd` digits, half to even on exact ties, as Go's decimal.Round does. */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0 || x.nd <= nd) return nd < 0 ? { d: '', nd: 0, dp: 0 } : x;
  const next = x.d.charCodeAt(nd) - 48;
  const up = next > 5 || (next === 5 && (nd + 1 < x.nd || (nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1)));
  let head = x.d.slice(0, nd);
  let dp = x.dp;
  if (up) {
    let i = head.length - 1;
    while (i >= 0 && head[i] === '9') i--;
    if (i < 0) { head = '1'; dp++; } else head = head.slice(0, i) + String.fromCharCode(head.charCodeAt(i) + 1);
  }
  head = head.replace(/0+$/, '');
  return head === '' ? { d: '', nd: 0, dp: 0 } : { d: head, nd: head.length, dp };
}

function fmtE(d: Digits, prec: number): string {
  let s = d.nd === 0 ? '0' : d.d[0]!;
  if (prec > 0) s += '.' + (d.d.slice(1) + '0'.repeat(prec)).slice(0, prec);
  const exp = d.nd === 0 ? 0 : d.dp - 1;
  const a = Math.abs(exp);
  return `${s}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

function fmtF(d: Digits, prec: number): string {
  let s = d.dp > 0 ? (d.d.slice(0, d.dp) + '0'.repeat(Math.max(d.dp - d.nd, 0))) : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      s += j >= 0 && j < d.nd ? d.d[j] : '0';
    }
  }
  return s;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function customSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return formatGoFloat(size, 'g', precision) + units[i];
}

/**
 * Decimal size with `precision` significant digits, as `docker images`/`ps -s` print it
 * (the CLI calls go-units' HumanSizeWithPrecision(size, 3)): 0B, 982B, 12.3kB, 5.59MB, 1.2GB.
 */
export const humanSize = (bytes: number, precision = 3): string => customSize(bytes, 1000, DECIMAL_UNITS, precision);

/** Binary size with 4 significant digits (go-units BytesSize): 1.5GiB, 512MiB, 10KiB. */
export const bytesSize = (bytes: number): string => customSize(bytes, 1024, BINARY_UNITS, 4);

const BINARY_MUL: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const DECIMAL_MUL: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/**
 * go-units RAMInBytes: "512m", "1.5g", "64KiB", "100 MB", "2048" (plain bytes). Units are
 * case-insensitive and binary (k = 1024); the "b"/"ib" suffix is optional. The result is
 * truncated to an integer as Go's int64() does.
 * @throws EngineError InvalidParameter: `invalid size: '...'`, `invalid suffix: '...'`, or Go's
 *   strconv.ParseFloat message.
 */
export const parseBytes = (s: string): number => parseSize(s, BINARY_MUL);

/** go-units FromHumanSize: like parseBytes but decimal (k = 1000). Same errors. */
export const parseHumanSize = (s: string): number => parseSize(s, DECIMAL_MUL);

function parseSize(sizeStr: string, mul: Readonly<Record<string, number>>): number {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i]!)) { sep = i; break; }
  }
  if (sep === -1) throw new EngineError('InvalidParameter', `invalid size: '${sizeStr}'`);
  const num = sizeStr[sep] === ' ' ? sizeStr.slice(0, sep) : sizeStr.slice(0, sep + 1);
  let sfx = sizeStr.slice(sep + 1);
  let size = parseGoFloat(num);
  if (size < 0) throw new EngineError('InvalidParameter', `invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = (): never => { throw new EngineError('InvalidParameter', `invalid suffix: '${sfx}'`); };
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') return sfx.length > 1 ? bad() : Math.trunc(size);
  const m = mul[sfx[0]!];
  if (m === undefined) return bad();
  size *= m;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) bad();
  return Math.trunc(size);
}

/** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; undefined for anything else. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** strconv.ParseFloat's accepted syntax (decimal, with optional exponent, Inf/NaN) and its error. */
function parseGoFloat(s: string): number {
  if (/^[+-]?(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  throw new EngineError('InvalidParameter', `strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/**
 * go-units HumanDuration for a duration in milliseconds: "Less than a second", "1 second",
 * "45 seconds", "About a minute", "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks",
 * "5 months", "2 years". Negative durations (clock skew) read "Less than a second", as in Docker.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "5 minutes ago": humanDuration(now - date) + " ago", as `docker ps`' CREATED column. */
export const timeAgo = (date: Date | string, now: Date = new Date()): string =>
  `${humanDuration(now.getTime() - new Date(date).getTime())} ago`;

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/**
 * Go's time.ParseDuration, returning nanoseconds: "10s", "1m30s", "1h", "500ms", "1.5h", "-2s",
 * "0". Docker sends nanoseconds on the wire for healthcheck intervals; divide by 1e6 for ms.
 * @throws EngineError InvalidParameter: `time: invalid duration "x"`, `time: missing unit in
 *   duration "10"`, `time: unknown unit "d" in duration "1d"`.
 */
export function parseDurationNs(s: string): number {
  const orig = s;
  const q = JSON.stringify(orig);
  const invalid = (): never => { throw new EngineError('InvalidParameter', `time: invalid duration ${q}`); };
  let neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  if (s === '0') return 0;
  if (s === '') invalid();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const int = m[1] ?? '';
    const frac = m[2];
    if (int === '' && (frac === undefined || frac === '')) invalid();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === '') throw new EngineError('InvalidParameter', `time: missing unit in duration ${q}`);
    const unit = DURATION_UNITS[u];
    if (unit === undefined) throw new EngineError('InvalidParameter', `time: unknown unit ${JSON.stringify(u)} in duration ${q}`);
    s = s.slice(u.length);
    total += Number(int || '0') * unit + (frac ? Number(`0.${frac}`) * unit : 0);
  }
  return Math.round(neg ? -total : total);
}

/** parseDurationNs in milliseconds (may be fractional for sub-millisecond durations). */
export const parseDuration = (s: string): number => parseDurationNs(s) / 1e6;

/** The part of the Engine API's ContainerState that the ps STATUS column is computed from. */
export interface ContainerStateLike {
  Status: string; // created | running | paused | restarting | removing | exited | dead
  ExitCode?: number;
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status?: string } | null;
}

const isZeroTime = (t: string | undefined): boolean => !t || t.startsWith(ZERO_TIME.slice(0, 10)) || Number.isNaN(Date.parse(t));

/**
 * The STATUS text of `docker ps` (the daemon's State.String()): "Up 5 minutes",
 * "Up Less than a second", "Up 2 hours (Paused)", "Up 3 minutes (healthy)",
 * "Up 1 second (health: starting)", "Restarting (1) 3 seconds ago", "Removal In Progress",
 * "Dead", "Created", "Exited (0) 2 seconds ago" (and "" for an exited container that has no
 * finish time, as Docker does).
 */
export function containerStatusText(state: ContainerStateLike, now: Date = new Date()): string {
  const since = (t: string | undefined): string => humanDuration(now.getTime() - (isZeroTime(t) ? now.getTime() : Date.parse(t!)));
  const code = state.ExitCode ?? 0;
  switch (state.Status) {
    case 'running': {
      const h = state.Health?.Status;
      const health = h && h !== 'none' ? ` (${h === 'starting' ? 'health: starting' : h})` : '';
      return `Up ${since(state.StartedAt)}${health}`;
    }
    case 'paused': return `Up ${since(state.StartedAt)} (Paused)`;
    case 'restarting': return `Restarting (${code}) ${since(state.FinishedAt)} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    default:
      if (isZeroTime(state.StartedAt)) return 'Created';
      if (isZeroTime(state.FinishedAt)) return '';
      return `Exited (${code}) ${since(state.FinishedAt)} ago`;
  }
}

/**
 * Go's `time.Unix(s, 0).Format(time.RFC3339)`: local time to the second, "Z" when the local zone
 * is UTC, else its offset ("2024-01-02T04:04:05+01:00").
 */
export function rfc3339Local(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const off = -d.getTimezoneOffset();
  if (off === 0) return `${base}Z`;
  return `${base}${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
}
