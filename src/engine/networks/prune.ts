import { checkFilterKeys, matchPruneLabels, pruneUntil, type Filters } from '../../lib/filters.ts';
import type { NetworkRecord } from './record.ts';

/** The filters POST /networks/prune accepts (dockerd's networksAcceptedFilters). */
export const NETWORK_PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/**
 * Which networks a prune takes: custom ones (not bridge/host/none) no container uses, created at
 * or before `until`, matching `label` and not every `label!`. InvalidParameter for an unknown
 * filter or a bad time.
 */
export function networkPrunePredicate(filters: Filters, inUse: (n: NetworkRecord) => boolean, nowMs = Date.now()): (n: NetworkRecord) => boolean {
  checkFilterKeys(filters, NETWORK_PRUNE_FILTERS);
  const until = pruneUntil(filters, nowMs);
  return (n) => !n.builtin && !inUse(n) && matchPruneLabels(filters, n.labels) && (until === undefined || Date.parse(n.createdAt) <= until);
}
