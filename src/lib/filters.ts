import { invalid } from './errors.ts';
import { parseTimestamp } from './timestamp.ts';
import { parseGoBool } from './units.ts';

/**
 * Docker's `filters` query parameter, parsed. Both wire shapes are accepted: the Go client's
 * `{"label":{"k=v":true}}` and the documented `{"label":["k=v"]}`.
 */
export type Filters = ReadonlyMap<string, readonly string[]>;

export function parseFilters(raw: string | null): Filters {
  const out = new Map<string, string[]>();
  if (raw === null || raw.trim() === '') return out;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (err) {
    throw invalid(`invalid filter: ${(err as Error).message}`, err);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid('invalid filter: expected a JSON object');
  for (const [key, value] of Object.entries(obj)) {
    if (Array.isArray(value)) out.set(key, value.map(String));
    else if (typeof value === 'object' && value !== null) out.set(key, Object.keys(value));
    else throw invalid(`invalid filter: values of '${key}' must be a list or a map`);
  }
  return out;
}

/** Rejects keys outside `allowed` with Docker's wording. */
export function checkFilterKeys(filters: Filters, allowed: readonly string[]): void {
  for (const key of filters.keys()) if (!allowed.includes(key)) throw invalid(`invalid filter '${key}'`);
}

/** True when `labels` satisfy every `label` filter value (`key` or `key=value`). */
export function matchLabels(labels: Readonly<Record<string, string>> | null | undefined, wanted: readonly string[] | undefined): boolean {
  if (!wanted || wanted.length === 0) return true;
  const l = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(l, w);
    return l[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/**
 * The label test of every prune endpoint (dockerd's matchLabels): every `label` value must match,
 * and the object is spared when it matches every `label!` value.
 */
export function matchPruneLabels(filters: Filters, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  if (!matchLabels(labels, filters.get('label'))) return false;
  const not = filters.get('label!');
  return !not?.length || !matchLabels(labels, not);
}

/**
 * The `until` filter of a prune as a cutoff in milliseconds since the epoch (objects created at
 * or before it go); undefined without one. InvalidParameter for two values or a bad time.
 */
export function pruneUntil(filters: Filters, nowMs = Date.now()): number | undefined {
  const values = filters.get('until');
  if (!values?.length) return undefined;
  if (values.length > 1) throw invalid('more than one until filter specified');
  try {
    return parseTimestamp(values[0]!, nowMs);
  } catch (err) {
    throw invalid(`invalid value for 'until' filter: ${(err as Error).message}`, err);
  }
}

/** The prune filter `all` as dockerd reads it (volume prune): one Go boolean at most; false without it. */
export function pruneAll(filters: Filters): boolean {
  const values = filters.get('all') ?? [];
  if (values.length > 1) throw invalid(`invalid filter 'all=[${values.join(' ')}]': only one value is expected`);
  if (values.length === 0) return false;
  const b = parseGoBool(values[0]!);
  if (b === undefined) throw invalid(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(values[0])}: invalid syntax`);
  return b;
}
