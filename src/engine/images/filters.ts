import { checkFilterKeys, matchLabels, type Filters } from '../../lib/filters.ts';
import { invalid } from '../../lib/errors.ts';
import { familiarName, familiarString, type ImageReference } from '../../lib/reference.ts';

/** What the list and prune filters look at. */
export interface FilterableImage {
  id: string;
  /** Seconds since the epoch (the config's `created`), 0 when unknown. */
  created: number;
  labels: Readonly<Record<string, string>>;
  refs: readonly ImageReference[];
}

export const LIST_FILTERS = ['before', 'dangling', 'label', 'reference', 'since', 'until'] as const;
export const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'] as const;

/**
 * Go's path.Match as a regex: `*` and `?` do not cross "/", `[...]` classes, `\` escapes.
 * InvalidParameter for a malformed pattern.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalid(`invalid reference filter ${pattern}: syntax error in pattern`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `(?!/)[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's reference filter: the glob matches "name:tag" or just the familiar name. */
export function matchesReference(pattern: string, refs: readonly ImageReference[]): boolean {
  const re = globToRegExp(pattern);
  return refs.some((r) => re.test(familiarString(r)) || re.test(familiarName(r)));
}

/**
 * A time bound as Docker takes it: a Go duration ("10m", "1h30m") back from now, a unix
 * timestamp ("1700000000", "1700000000.5") or an RFC 3339 date. Returns seconds since the epoch.
 */
export function parseTimeBound(value: string, nowMs = Date.now()): number {
  const dur = /^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$/;
  if (dur.test(value)) {
    const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    let secs = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) secs += Number(m[1]) * unit[m[2]!]!;
    return nowMs / 1000 - secs;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid filter 'until=${value}'`);
  return t / 1000;
}

function boolFilter(filters: Filters, key: string): boolean | undefined {
  const vals = filters.get(key);
  if (!vals || vals.length === 0) return undefined;
  const v = vals[0]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`invalid filter '${key}=${vals[0]}'`);
}

/**
 * A predicate for GET /images/json filters. `createdOf` resolves a before/since image
 * reference to its creation time (NotFound propagates, as in Docker).
 */
export function listPredicate(filters: Filters, createdOf: (ref: string) => number): (img: FilterableImage) => boolean {
  checkFilterKeys(filters, LIST_FILTERS);
  const dangling = boolFilter(filters, 'dangling');
  const refs = filters.get('reference') ?? [];
  const before = (filters.get('before') ?? []).map(createdOf);
  const since = (filters.get('since') ?? []).map(createdOf);
  const until = (filters.get('until') ?? []).map((v) => parseTimeBound(v));
  const labels = filters.get('label');
  return (img) =>
    (dangling === undefined || (img.refs.length === 0) === dangling) &&
    (refs.length === 0 || refs.some((p) => matchesReference(p, img.refs))) &&
    before.every((t) => img.created < t) &&
    since.every((t) => img.created > t) &&
    until.every((t) => img.created < t) &&
    matchLabels(img.labels, labels);
}

/**
 * Which images POST /images/prune takes among those no container uses: dangling ones only,
 * unless `all` (or `dangling=false`); then `until`, `label` and `label!`.
 */
export function prunePredicate(filters: Filters, all: boolean): (img: FilterableImage) => boolean {
  checkFilterKeys(filters, PRUNE_FILTERS);
  const danglingOnly = !all && boolFilter(filters, 'dangling') !== false;
  const until = (filters.get('until') ?? []).map((v) => parseTimeBound(v));
  const labels = filters.get('label');
  const notLabels = filters.get('label!') ?? [];
  return (img) =>
    (!danglingOnly || img.refs.length === 0) &&
    until.every((t) => img.created < t) &&
    matchLabels(img.labels, labels) &&
    notLabels.every((l) => !matchLabels(img.labels, [l]));
}
