import { EngineError } from './errors.ts';

const goQuote = (s: string) => JSON.stringify(s);

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/**
 * Go's time.ParseDuration ("1m30s", "1.5h", "300ms"), in nanoseconds; throws EngineError
 * InvalidParameter with Go's messages (`time: invalid duration "x"`). Exported for other Docker
 * options that take Go durations.
 */
export function parseGoDuration(text: string): number {
  const invalid = () => new EngineError('InvalidParameter', `time: invalid duration ${goQuote(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) { if (s[0] === '-') sign = -1; s = s.slice(1); }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (m[0] === '' || m[0] === '.') throw invalid();
    s = s.slice(m[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') throw new EngineError('InvalidParameter', `time: missing unit in duration ${goQuote(text)}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new EngineError('InvalidParameter', `time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`);
    s = s.slice(unit.length);
    total += Number(m[1] || '0') * scale + (m[2] ? Number(`0.${m[2]}`) * scale : 0);
  }
  return sign * Math.round(total);
}
