import { EngineError } from '../../lib/errors.ts';
import type { KeyedMutex } from '../../lib/keyed-mutex.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import type { IntentLog } from '../../store/intents.ts';
import type { ContainerServiceDeps } from './deps.ts';
import type { LogRotator } from './log-rotator.ts';
import type { ContainerPaths } from './paths.ts';
import type { ContainerRecord, ContainerRepo } from './record.ts';
import type { RestartManager } from './restart.ts';
import type { RunTracker } from './runs.ts';

/**
 * What the pieces of the container lifecycle share (create.ts, start.ts, stop.ts, remove.ts,
 * exit-watcher.ts, restart-policies.ts): the service's dependencies and the state it owns. Built
 * once by ContainerService; the pieces are functions over it, so none holds another.
 */
export interface ContainerContext {
  readonly deps: ContainerServiceDeps;
  readonly repo: ContainerRepo;
  readonly intents: IntentLog;
  /** Lifecycle operations on one container are serialized under its key; different containers run in parallel. */
  readonly lock: KeyedMutex;
  readonly runs: RunTracker;
  readonly rotator: LogRotator;
  readonly restarts: RestartManager;
  /** Where conmon writes `<id>` with the exit code when a container's process ends. */
  readonly exitDir: string;
  /** Containers whose removal is under way now; a `removing` row not in it is a failed removal that rm retries. */
  readonly removals: Set<string>;
  paths(id: string): ContainerPaths;
  /** The named runtime; InvalidParameter when the daemon has none of that name. */
  runtimeFor(name: string): OciRuntime;
  /** A container event with the container's labels, image and name (plus `extra`). */
  publish(action: string, c: ContainerRecord, extra?: Record<string, string>): void;
  /** The public rm (a failed start of an --rm container removes it as `docker run --rm` expects). */
  remove(id: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
}

/** The attributes every container event carries. */
export function containerAttrs(c: ContainerRecord): Record<string, string> {
  return { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name };
}

/** True when `p` settles within `ms`. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A visible container by ID, prefix or name; half-created ones do not exist for clients (NotFound). */
export function resolveVisible(repo: ContainerRepo, ref: string): ContainerRecord {
  const c = repo.resolve(ref);
  if (c.state.status === 'creating') throw new EngineError('NotFound', `No such container: ${ref}`);
  return c;
}

/** resolveVisible, or undefined when there is no such container: a lookup meant to miss. */
export function resolveVisibleOrUndefined(repo: ContainerRepo, ref: string): ContainerRecord | undefined {
  try {
    return resolveVisible(repo, ref);
  } catch (err) {
    if (err instanceof EngineError && (err.kind === 'NotFound' || err.kind === 'InvalidParameter')) return undefined;
    throw err;
  }
}
