import type * as api from '../types/index.ts';
import type { BuildCachePruneResult } from '../../engine/index.ts';

/** POST /build/prune: CachesDeleted is null when nothing went, as dockerd sends it. */
export function toApiBuildCachePrune(r: BuildCachePruneResult): api.BuildCachePruneResponse {
  return { CachesDeleted: r.deleted.length > 0 ? [...r.deleted] : null, SpaceReclaimed: r.reclaimed };
}
