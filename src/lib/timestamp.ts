import { parseGoDuration } from './go-duration.ts';

/** Go's zero time.Time as dockerd's JSON writes it: a time that never happened (not started, no date). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A point in time as dockerd reads `until` / `since` values (its timestamp.Parse): a Go duration
 * back from `nowMs` ("24h", "1h30m"), an RFC 3339 date or time (without a zone it is local time;
 * "2024-01-02", "2024-01-02T15", "2024-01-02T15:04:05.5+02:00"), or unix seconds with an optional
 * fraction ("1700000000", "1700000000.123456789"). Returns milliseconds since the epoch.
 * Throws a plain Error with dockerd's wording; callers wrap it in their own kind and context.
 */
export function parseTimestamp(value: string, nowMs = Date.now()): number {
  if (value.trim() === '') throw new Error('failed to parse value as time or duration: value is empty');
  if (value !== '0') {
    let ns: number | undefined;
    try { ns = parseGoDuration(value); } catch { /* not a duration */ }
    if (ns !== undefined) return nowMs - ns / 1e6;
  }
  const t = parseRfc3339ish(value);
  if (t !== undefined) return t;
  // Something with a dash was meant as a date: Go reports the date's parse error, not the number's.
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as an RFC 3339 time`);
  const m = /^(\d+)(?:\.(\d*))?$/.exec(value);
  if (!m) throw new Error(`failed to parse value as time or duration: invalid seconds ${JSON.stringify(value.split('.')[0])}: invalid syntax`);
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return Number(m[1]) * 1000 + Number(frac) / 1e6;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/** The layouts timestamp.Parse tries; undefined when the value has none of their shapes. */
function parseRfc3339ish(value: string): number | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7).map((x) => x ?? undefined) as string[];
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  const extra = Number(`0.${(m[7] ?? '0').slice(3) || '0'}`);
  const zone = m[8];
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let t: number;
  if (zone === undefined) {
    t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime();
  } else {
    t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
    if (zone !== 'Z' && zone !== 'z') {
      const sign = zone[0] === '-' ? -1 : 1;
      t -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    }
  }
  if (Number.isNaN(t)) return undefined;
  return t + extra;
}
