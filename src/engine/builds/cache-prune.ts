import { checkFilterKeys, pruneUntil, type Filters } from '../../lib/filters.ts';
import { invalid } from '../../lib/errors.ts';

/** One legacy build cache entry (table build_cache). */
export interface CacheEntry {
  key: string;
  imageId: string;
  parentId: string | null;
  createdAt: string;
}

/**
 * The filters POST /build/prune accepts (dockerd's builder: BuildKit's cache fields, `until` and
 * its old name `unused-for`; `label` and `label!` are accepted and, as in dockerd, ignored).
 */
export const BUILD_PRUNE_FILTERS = ['until', 'unused-for', 'label', 'label!', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'] as const;

/**
 * Which cache entries a `builder prune` takes. Each field filter takes one value (dockerd):
 * `id` is a substring of the entry's image ID, `parent` its parent image ID; the legacy cache's
 * entries are all `type=regular`, private, not shared, and none is in use (an image a container
 * uses is never removed anyway) and none has a description. InvalidParameter for bad filters.
 */
export function cachePrunePredicate(filters: Filters, nowMs = Date.now()): (e: CacheEntry) => boolean {
  checkFilterKeys(filters, BUILD_PRUNE_FILTERS);
  if (filters.get('until')?.length && filters.get('unused-for')?.length) throw invalid('conflicting filters: "until" and "unused-for"');
  const untilKey = filters.get('unused-for')?.length ? 'unused-for' : 'until';
  const until = pruneUntil(new Map([['until', filters.get(untilKey) ?? []]]), nowMs);
  const one = (key: string): string | undefined => {
    const v = filters.get(key);
    if (v && v.length > 1) throw invalid('filters expect only one value');
    return v?.[0];
  };
  const [id, parent, type, description, inuse, shared, priv] = ['id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'].map(one);
  const is = (v: string | undefined, actual: boolean) => v === undefined || (v === '' ? actual : ['true', '1'].includes(v.toLowerCase()) === actual);
  return (e) =>
    (until === undefined || Date.parse(e.createdAt) <= until) &&
    (id === undefined || e.imageId.includes(id)) &&
    (parent === undefined || e.parentId === parent) &&
    (type === undefined || type === 'regular') &&
    description === undefined &&
    is(inuse, false) && is(shared, false) && is(priv, true);
}
