/** berth's build progress extension: the step events of a build stream (`berthprogress=1`). */

/** The payload of a `berth.step` event (`JsonMessage.aux` when `id` is `berth.step`, with `berthprogress=1`). */
export interface StepEvent {
  /** `<stage index>:<instruction index>`; the FROM of stage 0 is `0:0`. Unique per build. */
  vertex: string;
  status: 'started' | 'cached' | 'done' | 'error' | 'log';
  /** On `started`: stage name (or its index as text), position and display name. */
  stage?: string;
  step?: number;
  total?: number;
  name?: string;
  /** On `log`: one chunk of the RUN's output. */
  stream?: 'stdout' | 'stderr';
  data?: string;
  /** On `cached`/`done`/`error`. */
  elapsedMs?: number;
  error?: string;
  /** Milliseconds since the epoch when the event was produced. */
  ts?: number;
}

/** POST /build/prune's response (null, not [], when nothing went: dockerd's omitted slice). */
export interface BuildCachePruneResponse { CachesDeleted: string[] | null; SpaceReclaimed: number }
