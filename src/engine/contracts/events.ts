import type { Filters } from '../../lib/filters.ts';
import type { EngineEvent, EventSubscription } from '../events.ts';

/** The engine's event stream: a bounded history and live subscriptions. */
export interface EventsEngine {
  /**
   * Events matching `filters`: those of the history between `since` and `until` (nanoseconds;
   * none unless one is given), and a live subscription of later ones up to `until`, opened in the
   * same tick so that no event falls between the two. The caller closes the subscription.
   */
  watch(opts: { filters: Filters; since?: number; until?: number }): { past: EngineEvent[]; live: EventSubscription };
}
