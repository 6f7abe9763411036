import { checkFilterKeys, matchLabels, matchPruneLabels, pruneUntil, type Filters } from '../../lib/filters.ts';
import { parseTimestamp } from '../../lib/timestamp.ts';
import { invalid } from '../../lib/errors.ts';
import { familiarName, familiarString, normalizedString, repositoryName, type ImageReference } from '../../lib/reference.ts';

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

/**
 * Docker's reference filter: the glob matches the reference in its familiar form ("busybox:1"),
 * its familiar name ("busybox"), or either canonical form ("docker.io/library/busybox[:1]").
 */
export function matchesReference(pattern: string, refs: readonly ImageReference[]): boolean {
  const re = globToRegExp(pattern);
  return refs.some((r) => [familiarString(r), familiarName(r), normalizedString(r), repositoryName(r)].some((t) => re.test(t)));
}

/**
 * The references an image is listed with under `reference` filters: only those that match one
 * of the patterns (dockerd: `images busybox:1` shows busybox:1, not the image's other tags).
 * All of them without such a filter.
 */
export function listedReferences(filters: Filters, refs: readonly ImageReference[]): ImageReference[] {
  const patterns = filters.get('reference');
  if (!patterns?.length) return [...refs];
  return refs.filter((r) => patterns.some((p) => matchesReference(p, [r])));
}

/**
 * A list filter's time bound (before/since/until values that are not image references), in
 * seconds since the epoch: what lib/timestamp.ts reads. InvalidParameter when it is no time.
 */
export function parseTimeBound(value: string, nowMs = Date.now()): number {
  try {
    return parseTimestamp(value, nowMs) / 1000;
  } catch (err) {
    throw invalid(`invalid filter 'until=${value}'`, err);
  }
}

function boolFilter(filters: Filters, key: string): boolean | undefined {
  const vals = filters.get(key);
  if (!vals || vals.length === 0) return undefined;
  if (vals.length > 1) throw invalid(`invalid filter '${key}=[${vals.join(' ')}]'`);
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
 * Which images POST /images/prune takes among those no container uses (dockerd's ImagePrune):
 * without a tag only (a digest alone leaves an image dangling), unless `all` or `dangling=false`;
 * then `until` (created at or before it), `label` and `label!`.
 */
export function prunePredicate(filters: Filters, all: boolean, nowMs = Date.now()): (img: FilterableImage) => boolean {
  checkFilterKeys(filters, PRUNE_FILTERS);
  const dangling = boolFilter(filters, 'dangling');
  const danglingOnly = !all && dangling !== false;
  const until = pruneUntil(filters, nowMs);
  return (img) =>
    (!danglingOnly || !img.refs.some((r) => r.tag !== undefined)) &&
    (until === undefined || (img.created > 0 && img.created * 1000 <= until)) &&
    matchPruneLabels(filters, img.labels);
}
