import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bestEffort } from '../../lib/best-effort.ts';
import type { ContainerContext } from './context.ts';
import { moveTo } from './lifecycle-table.ts';
import type { ContainerRecord } from './record.ts';
import { removeLocked } from './remove.ts';
import { restartBackoffAfterExit } from './restart-policies.ts';

const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * Exits, as conmon reports them: a file named after the container in the exit directory, holding
 * the exit code (inotify, no polling). Each is settled under the container's lock: the exit is
 * recorded and told, what the run held is released, and the restart policy or --rm follows.
 */
export class ExitWatcher {
  #watcher: FSWatcher | undefined;

  constructor(private readonly ctx: ContainerContext) {}

  /** Watches the exit directory (made if missing); exits from before are read by recovery (onExitFile). */
  start(): void {
    mkdirSync(this.ctx.exitDir, { recursive: true });
    this.#watcher = watch(this.ctx.exitDir, (_ev, file) => {
      if (file) void bestEffort(this.ctx.deps.log, 'settle exit', String(file), () => this.onExitFile(String(file)));
    });
  }

  close(): void {
    this.#watcher?.close();
  }

  /** Handles one file of the exit directory; names that are no container ID (conmon's temporaries) are left alone. */
  async onExitFile(name: string): Promise<void> {
    if (!CONTAINER_ID.test(name)) return;
    const { ctx } = this;
    const file = join(ctx.exitDir, name);
    const text = await exitCodeTextOrNull(file, ctx.deps.log);
    // Gone (settled already) or half-written: conmon writes, then renames; the rename comes again.
    if (text === null || text.trim() === '') return;
    await ctx.lock.run(name, async () => {
      const c = ctx.repo.get(name);
      // A restarting container has no process: an exit file then is the settled run's leftover.
      if (c && (c.state.status === 'running' || c.state.status === 'paused')) await this.settleExit(c, Number(text.trim()));
      await bestEffort(ctx.deps.log, 'remove exit file', name, () => rm(file, { force: true }));
    });
  }

  /** Records an exit: waiters told, runtime state and rootfs released, restart policy or --rm honoured. Holds the lock. */
  async settleExit(c: ContainerRecord, exitCode: number): Promise<void> {
    const { ctx } = this;
    ctx.deps.health?.end(c.id);
    const oom = existsSync(join(ctx.paths(c.id).persistDir, 'oom'));
    const code = Number.isFinite(exitCode) ? exitCode : 255;
    const backoff = restartBackoffAfterExit(ctx, c, code);
    // The exit is recorded and told first; the cleanup below still holds the lock, so nothing can
    // start or remove this container until it is done. A policy restart shows `restarting` meanwhile.
    moveTo(c, 'exit', backoff === undefined ? 'exited' : 'restarting');
    c.state = { ...c.state, pid: 0, conmonPid: 0, exitCode: code, oomKilled: oom, finishedAt: new Date().toISOString() };
    if (backoff !== undefined) c.restartCount++;
    ctx.repo.saveState(c.id, c.state, backoff === undefined ? undefined : c.restartCount);
    if (oom) ctx.publish('oom', c);
    const execDuration = String(Math.max(0, Math.floor((Date.now() - Date.parse(c.state.startedAt)) / 1000) || 0));
    ctx.publish('die', c, { exitCode: String(c.state.exitCode), execDuration });
    ctx.runs.end(c.id);
    ctx.rotator.unwatch(c.id);
    ctx.runs.notify(c.id, ['not-running', 'next-exit'], { StatusCode: c.state.exitCode, Error: null });
    await this.#releaseExitedRun(c);
    // Policy restarts emit die, then start (no `restart` event: that is `docker restart`'s).
    if (backoff !== undefined) ctx.restarts.schedule(c.id, backoff);
    // --rm: removed right here, under the same lock, so `wait --condition removed` returns soonest.
    else if (c.hostConfig.AutoRemove) await bestEffort(ctx.deps.log, 'auto-remove', c.id, () => removeLocked(ctx, c, { volumes: true, force: true }));
  }

  /** Independent steps, in parallel: the runtime record and cgroup, our overlay mount in the host namespace, network, volumes. */
  async #releaseExitedRun(c: ContainerRecord): Promise<void> {
    const { deps } = this.ctx;
    const runtime = deps.runtimes.get(c.runtime);
    await Promise.all([
      bestEffort(deps.log, 'runtime delete', c.id, () => runtime?.delete(c.id, true)),
      bestEffort(deps.log, 'unmount rootfs', c.id, () => deps.rootfs.unmount(c.id)),
      bestEffort(deps.log, 'release network', c.id, () => deps.network?.tearDown(c)),
      bestEffort(deps.log, 'release volumes', c.id, () => deps.volumes?.release(c)),
    ]);
  }
}

/**
 * The exit file's text, or null when it has gone (settled and removed by an earlier event) or
 * cannot be read (logged: the exit is then settled by the next start's recovery).
 */
async function exitCodeTextOrNull(file: string, log: { warn(o: object, m?: string): void }): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, file }, 'read exit file');
    return null;
  }
}
