import type { Readable } from 'node:stream';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import type { BuildOptions } from '../builds/contract.ts';

/** Dockerfile builds from a context tar, and the build cache. */
export interface BuildEngine {
  /** The build's output and result as Progress; a failure ends the iteration with a BuildFailure (its `code` for RUN). */
  build(context: Readable, opts: BuildOptions, signal: AbortSignal): AsyncIterable<Progress>;
  /** `builder prune`: forgets the cache entries the filters select; `deleted` are the images that went with them. */
  prune(opts: { all: boolean; filters?: Filters }): Promise<BuildCachePruneResult>;
}

/** What a build cache prune removed. */
export interface BuildCachePruneResult {
  /** IDs of the cache images removed, in the order they went. */
  deleted: string[];
  /** Bytes freed (berth reports 0: the cache images' layers are shared and counted with images). */
  reclaimed: number;
}
