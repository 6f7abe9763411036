import type { Readable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import type { Filters } from '../../lib/filters.ts';
import type { BuildOptions } from '../builds/contract.ts';

/** Dockerfile builds from a context tar, and the build cache. */
export interface BuildEngine {
  /** Progress messages; a failure ends the iteration with a BuildFailure (its `code` for RUN). */
  build(context: Readable, opts: BuildOptions, signal: AbortSignal): AsyncIterable<api.JsonMessage>;
  prune(opts: { all: boolean; filters?: Filters }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
