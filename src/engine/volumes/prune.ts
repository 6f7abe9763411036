import { checkFilterKeys, matchPruneLabels, pruneAll, type Filters } from '../../lib/filters.ts';
import type { VolumeRecord } from './record.ts';

/** The filters POST /volumes/prune accepts (dockerd: label, label!, all; no until). */
export const VOLUME_PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

/**
 * Which volumes a prune takes: those no container uses, anonymous ones only unless `all=true`
 * (API < 1.42 clients get that from the route), matching `label` and not every `label!`.
 * InvalidParameter for an unknown filter or a bad `all`.
 */
export function volumePrunePredicate(filters: Filters, inUse: ReadonlySet<string>): (v: VolumeRecord) => boolean {
  checkFilterKeys(filters, VOLUME_PRUNE_FILTERS);
  const all = pruneAll(filters);
  return (v) => !inUse.has(v.name) && (all || v.anonymous) && matchPruneLabels(filters, v.labels);
}
