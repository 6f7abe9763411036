import { checkFilterKeys, matchPruneLabels, pruneUntil, type Filters } from '../../lib/filters.ts';
import type { ContainerRecord } from './record.ts';

/** The filters POST /containers/prune accepts (dockerd's containersAcceptedFilters). */
export const CONTAINER_PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/**
 * Which containers a prune takes: those not running (created, exited, dead; a paused or
 * restarting one counts as running, as in dockerd), created at or before `until`, matching
 * `label` and not every `label!`. InvalidParameter for an unknown filter or a bad time.
 */
export function containerPrunePredicate(filters: Filters, nowMs = Date.now()): (c: ContainerRecord) => boolean {
  checkFilterKeys(filters, CONTAINER_PRUNE_FILTERS);
  const until = pruneUntil(filters, nowMs);
  return (c) =>
    (c.state.status === 'created' || c.state.status === 'exited' || c.state.status === 'dead') &&
    (until === undefined || Date.parse(c.createdAt) <= until) &&
    matchPruneLabels(filters, c.config.Labels);
}
