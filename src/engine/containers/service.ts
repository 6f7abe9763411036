import { join } from 'node:path';
import type { ContainerCreateBody, ContainerWaitResponse, EndpointSettings } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { isValidContainerName } from '../../lib/ids.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import { IntentLog } from '../../store/intents.ts';
import { containerAttrs, resolveVisible, type ContainerContext } from './context.ts';
import { createContainer } from './create.ts';
import type { ContainerServiceDeps } from './deps.ts';
import { ExitWatcher } from './exit-watcher.ts';
import { assertCan } from './lifecycle-table.ts';
import { LogRotator } from './log-rotator.ts';
import { containerPaths, type ContainerPaths } from './paths.ts';
import { ContainerRepo, type ContainerRecord } from './record.ts';
import { recoverContainers } from './recover-containers.ts';
import { removeContainer, pruneContainers, removeLocked, discard } from './remove.ts';
import { RestartManager } from './restart.ts';
import { applyRestartPolicies, policyRestart, resetRestartPolicy } from './restart-policies.ts';
import { beginUserStop, killContainer, pauseContainer, stopContainer, stopRunning, unpauseContainer, type StopOptions } from './run-control.ts';
import { RunTracker, type AttachHook, type WaitCondition } from './runs.ts';
import { logLimits, releaseRun, startLocked } from './start.ts';

export type { WaitCondition } from './runs.ts';
export { conmonLogCap } from './start.ts';

/**
 * The container lifecycle: create → start → (pause/unpause) → exit → start again … → remove.
 * Containers run under conmon, never as children of berthd, so a daemon restart leaves them running;
 * exits arrive as files conmon writes to the exit directory (exit-watcher.ts). Every multi-step
 * operation records its intent first ('creating' and 'removing' rows, the journal's start, remove
 * and pause intents: recovery.ts) so start-up recovery can finish or undo it. Every status change
 * is checked against one table (lifecycle-table.ts). Lifecycle operations on one container are
 * serialized; different containers run in parallel.
 *
 * This class is the facade the API and the other services use; the work is in create.ts, start.ts,
 * run-control.ts (stop, kill, pause), remove.ts, exit-watcher.ts, recover-containers.ts and
 * restart-policies.ts, over one ContainerContext.
 */
export class ContainerService {
  readonly repo: ContainerRepo;
  readonly #ctx: ContainerContext;
  readonly #exits: ExitWatcher;

  constructor(readonly deps: ContainerServiceDeps) {
    this.repo = new ContainerRepo(deps.db);
    const exitDir = join(deps.config.execRoot, 'exits');
    const paths = (id: string) => containerPaths(deps.config.dataRoot, deps.config.execRoot, id);
    this.#ctx = {
      deps, repo: this.repo, exitDir, paths,
      intents: new IntentLog(deps.db),
      lock: new KeyedMutex(),
      runs: new RunTracker({ log: deps.log, attachSocket: (id) => paths(id).attachSocket }),
      rotator: new LogRotator({ reopenLog: (fifo) => deps.monitor.reopenLog(fifo), log: deps.log }),
      restarts: new RestartManager({
        restart: (id) => policyRestart(this.#ctx, id),
        onError: (id, err) => deps.log.warn({ err, id }, 'restart policy'),
      }),
      removals: new Set(),
      runtimeFor: (name) => this.runtimeFor(name),
      publish: (action, c, extra) => deps.events.publish('container', action, c.id, { ...containerAttrs(c), ...extra }),
      remove: (id, opts) => this.remove(id, opts),
    };
    this.#exits = new ExitWatcher(this.#ctx);
  }

  paths(id: string): ContainerPaths {
    return this.#ctx.paths(id);
  }

  /** The named runtime; InvalidParameter when the daemon has none of that name. */
  runtimeFor(name: string): OciRuntime {
    const r = this.deps.runtimes.get(name);
    if (!r) throw new EngineError('InvalidParameter', `unknown or invalid runtime name: ${name}`);
    return r;
  }

  /** See createContainer (create.ts). */
  create(body: ContainerCreateBody, requestedName?: string): Promise<{ id: string; warnings: string[] }> {
    return createContainer(this.#ctx, body, requestedName);
  }

  /** docker start: NotModified when it runs, Conflict when paused or being removed (lifecycle-table.ts). */
  async start(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    await this.#ctx.lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      assertCan('start', c);
      resetRestartPolicy(this.#ctx, c);
      await startLocked(this.#ctx, c);
    });
  }

  /** max-size and max-file for the container's log, with berth's default cap. */
  logLimits(c: ContainerRecord): { maxSize: number; maxFile: number } {
    return logLimits(this.#ctx, c);
  }

  /** Start-up: watches conmon's exit files, then recovers every container (recover-containers.ts). */
  async recover(): Promise<void> {
    const ctx = this.#ctx;
    this.#exits.start();
    await recoverContainers({
      repo: this.repo, intents: ctx.intents, deps: this.deps, exitDir: ctx.exitDir,
      paths: (id) => this.paths(id), isRunning: (id) => this.isRunning(id), locked: (id, fn) => ctx.lock.run(id, fn),
      onExitFile: (name) => this.#exits.onExitFile(name), discard: (c, volumes) => discard(ctx, c, volumes), releaseRun: (c) => releaseRun(ctx, c),
      settleExit: (c, code) => this.#exits.settleExit(c, code), autoRemove: (c) => removeLocked(ctx, c, { volumes: true, force: true }),
      scheduleRestart: (id) => ctx.restarts.schedule(id, 0),
      adopt: (c) => {
        ctx.runs.begin(c.id);
        ctx.runs.markAttachable(c.id);
        if (c.hostConfig.LogConfig?.Type !== 'none') {
          const paths = this.paths(c.id);
          ctx.rotator.watch(c.id, { logPath: paths.logPath, ctlFifo: paths.ctlFifo, ...this.logLimits(c) });
        }
      },
    });
  }

  /** See applyRestartPolicies (restart-policies.ts). */
  applyRestartPolicies(): Promise<void> {
    return applyRestartPolicies(this.#ctx, this.list(), (id) => this.start(id));
  }

  /** Resolves when the container's current run ends (immediately if it is not running). */
  exited(id: string): Promise<void> {
    return this.#ctx.runs.exited(id);
  }

  /**
   * Runs `fn` with conmon's attach socket: now if the container's monitor is up, else when the
   * container next starts, before its process runs (dockerd's attach to a created or stopped
   * container waits for the start). `fn` gets null if that start fails. A start already under way
   * but whose monitor is not up yet still counts as the next start.
   */
  whenAttachable(id: string, fn: AttachHook): void {
    this.#ctx.runs.whenAttachable(id, fn);
  }

  /** Runs `fn` holding the container's lifecycle lock (no start, stop or exit interleaves). */
  runLocked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#ctx.lock.run(id, fn);
  }

  isRunning(id: string): boolean {
    return this.#ctx.runs.isRunning(id);
  }

  /**
   * Waits for a condition; the promise settles with the exit status. Registered synchronously, so
   * a `wait` sent before `start` (as `docker run` does) cannot miss the exit.
   */
  wait(ref: string, cond: WaitCondition, signal?: AbortSignal): Promise<ContainerWaitResponse> {
    return this.#ctx.runs.wait(this.resolve(ref), cond, signal);
  }

  /** docker stop (run-control.ts). */
  stop(ref: string, opts: StopOptions = {}): Promise<void> {
    return stopContainer(this.#ctx, this.resolve(ref).id, opts);
  }

  /** docker kill (run-control.ts). */
  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this.#ctx, ref, this.resolve(ref).id, signal);
  }

  /** docker restart: a stop if it runs, then a start; `restart` is published. */
  async restart(ref: string, opts: StopOptions = {}): Promise<void> {
    const { outcome, record: c } = await beginUserStop(this.#ctx, this.resolve(ref).id, { markStopped: true });
    if (outcome === 'running') await stopRunning(this.#ctx, c, opts);
    await this.start(c.id);
    this.#ctx.publish('restart', c);
  }

  /** See pauseContainer (run-control.ts). */
  pause(ref: string, opts: { transient?: boolean } = {}): Promise<void> {
    return pauseContainer(this.#ctx, this.resolve(ref).id, opts);
  }

  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.#ctx, this.resolve(ref).id);
  }

  /** See removeContainer (remove.ts). */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return removeContainer(this.#ctx, this.resolve(ref), opts);
  }

  /** See pruneContainers (remove.ts). */
  prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }> {
    return pruneContainers(this.#ctx, this.list(), filters);
  }

  /** network connect, under the container's lock (a start or exit cannot interleave). */
  async connectNetwork(ref: string, network: string, cfg: EndpointSettings): Promise<void> {
    const c0 = this.resolve(ref);
    const net = this.#networkHooks();
    await this.#ctx.lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      if (c.state.status === 'paused') throw new EngineError('Conflict', `Container ${c.id} is paused`);
      await net.connect(c, this.isRunning(c.id), network, cfg);
    });
  }

  async disconnectNetwork(ref: string, network: string): Promise<void> {
    const c0 = this.resolve(ref);
    const net = this.#networkHooks();
    await this.#ctx.lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      await net.disconnect(c, this.isRunning(c.id), network);
    });
  }

  #networkHooks(): NonNullable<ContainerServiceDeps['network']> {
    if (!this.deps.network) throw new EngineError('NotImplemented', 'networking is not enabled in this daemon');
    return this.deps.network;
  }

  rename(ref: string, newName: string): void {
    const c = this.resolve(ref);
    const name = newName.replace(/^\//, '');
    if (!isValidContainerName(name)) throw new EngineError('InvalidParameter', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === c.name) throw new EngineError('InvalidParameter', `Renaming a container with the same name as its current name`);
    this.repo.rename(c.id, name);
    if (this.isRunning(c.id)) this.deps.network?.refreshDns({ ...c, name });
    this.#ctx.publish('rename', { ...c, name }, { oldName: `/${c.name}` });
  }

  /** A visible container by ID, prefix or name; half-created ones do not exist for clients. */
  resolve(ref: string): ContainerRecord {
    return resolveVisible(this.repo, ref);
  }

  list(): ContainerRecord[] {
    return this.repo.all().filter((c) => c.state.status !== 'creating');
  }

  close(): void {
    this.#ctx.restarts.close();
    this.#exits.close();
    this.#ctx.rotator.close();
  }
}
