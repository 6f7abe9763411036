import type { Readable } from 'node:stream';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import type { BuildOptions } from '../builds/contract.ts';

/** Dockerfile builds from a context tar, and the build cache. */
export interface BuildEngine {
  /** The build's output and result as Progress; a failure ends the iteration with a BuildFailure (its `code` for RUN). */
  build(context: Readable, opts: BuildOptions, signal: AbortSignal): AsyncIterable<Progress>;
  prune(opts: { all: boolean; filters?: Filters }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
