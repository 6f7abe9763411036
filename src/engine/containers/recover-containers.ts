import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bestEffort } from '../../lib/best-effort.ts';
import type { RuntimeState } from '../../runtime/oci-runtime.ts';
import type { IntentLog } from '../../store/intents.ts';
import type { ContainerServiceDeps } from './deps.ts';
import type { ContainerPaths } from './paths.ts';
import type { ContainerRecord, ContainerRepo } from './record.ts';
import { PAUSE_INTENT, REMOVE_INTENT, START_INTENT, needsRuntimeState, planRecovery, type RemoveIntent, type StartIntent } from './recovery.ts';

/** What start-up recovery needs of the container service: its records and its own steps. */
export interface RecoveryHost {
  repo: ContainerRepo;
  intents: IntentLog;
  deps: Pick<ContainerServiceDeps, 'runtimes' | 'monitor' | 'rootfs' | 'cgroupIds' | 'releaseCgroup' | 'health' | 'log'>;
  exitDir: string;
  paths(id: string): ContainerPaths;
  isRunning(id: string): boolean;
  /** Runs fn holding the container's lifecycle lock. */
  locked(id: string, fn: () => Promise<void>): Promise<void>;
  /** Handles one file of conmon's exit directory (an exit that happened while we were away). */
  onExitFile(name: string): Promise<void>;
  /** Every trace of the container goes, the row last (with its anonymous volumes if asked). */
  discard(c: ContainerRecord, volumes: boolean): Promise<void>;
  /** What one run holds on the host is released: runtime record, mounts, network, volumes, cgroup. */
  releaseRun(c: ContainerRecord): Promise<void>;
  /** A live container is watched again: its run handle, attach, log rotation. */
  adopt(c: ContainerRecord): void;
  settleExit(c: ContainerRecord, exitCode: number): Promise<void>;
  /** Removal with the anonymous volumes (--rm). */
  autoRemove(c: ContainerRecord): Promise<void>;
  /** A restart policy's next run, once the daemon is ready. */
  scheduleRestart(id: string): void;
}

/**
 * Daemon start-up, with conmon's exit directory watched: every container is settled as
 * recovery.ts plans it (adopt, settle, finish a removal, undo a start cut short, unpause what a
 * commit paused), exits that happened meanwhile are settled, --rm containers that are not running
 * are removed (as dockerd's restore does), and what no running container owns is swept: rootfs
 * mounts, runtime records, conmons, cgroups. One container's failure does not stop the others.
 */
export async function recoverContainers(h: RecoveryHost): Promise<void> {
  const guarded = async (id: string, what: string, fn: () => Promise<void>) => {
    // Under the container's lock: an exit file seen meanwhile must not settle it twice.
    try { await h.locked(id, fn); } catch (err) { h.deps.log.error({ err, id }, what); }
  };
  for (const c of h.repo.all()) await guarded(c.id, 'recover container', () => recoverOne(h, c));
  for (const f of await readdir(h.exitDir)) await h.onExitFile(f);
  for (const c of h.repo.all()) {
    if (!c.hostConfig.AutoRemove || h.isRunning(c.id) || (c.state.status !== 'created' && c.state.status !== 'exited')) continue;
    h.deps.log.info({ id: c.id }, 'recovery: removing a --rm container that is not running');
    await guarded(c.id, 'auto-remove', () => h.autoRemove(c));
  }
  await sweepHost(h).catch((err) => h.deps.log.error({ err }, 'recovery sweep'));
}

/** The runtime's view of the container; null when it keeps none, or cannot say (logged; the row then decides). */
async function runtimeStateOrNull(h: RecoveryHost, c: ContainerRecord): Promise<RuntimeState | null> {
  try {
    return await h.deps.runtimes.get(c.runtime)!.state(c.id);
  } catch (err) {
    h.deps.log.warn({ err, id: c.id }, 'recovery: runtime state');
    return null;
  }
}

/** conmon's persisted exit code, or 255 (dockerd's unknown exit) when it was lost with the exit (a reboot mid-write). */
async function persistedExitCodeOr255(h: RecoveryHost, c: ContainerRecord): Promise<number> {
  try {
    return Number((await readFile(join(h.paths(c.id).persistDir, 'exit'), 'utf8')).trim());
  } catch (err) {
    h.deps.log.warn({ err, id: c.id }, 'recovery: exit code lost');
    return 255;
  }
}

async function recoverOne(h: RecoveryHost, c: ContainerRecord): Promise<void> {
  const start = h.intents.get<StartIntent>(START_INTENT, c.id);
  const removing = h.intents.get<RemoveIntent>(REMOVE_INTENT, c.id);
  const runtime = h.deps.runtimes.get(c.runtime);
  const st = runtime && needsRuntimeState(c.state.status, !!start) ? await runtimeStateOrNull(h, c) : null;
  const plan = planRecovery({
    status: c.state.status, starting: !!start, ...(removing ? { removing } : {}), runtime: st?.status ?? null,
    exitFile: existsSync(join(h.exitDir, c.id)),
  });
  if (plan.do !== 'none') h.deps.log.info({ id: c.id, status: c.state.status, plan: plan.do }, 'recovery');
  switch (plan.do) {
    case 'discard':
      await h.discard(c, plan.volumes);
      h.intents.clear(REMOVE_INTENT, c.id);
      break;
    case 'undo-start':
      await h.releaseRun(c);
      await rm(join(h.exitDir, c.id), { force: true });
      c.state = { ...start!.prev, pid: 0, conmonPid: 0 };
      h.repo.saveState(c.id, c.state);
      if (c.state.status === 'restarting') h.scheduleRestart(c.id);
      break;
    case 'adopt': {
      h.adopt(c);
      let status = plan.status;
      // Paused by berth for a commit that died with the daemon: nobody is left to unpause it.
      if (status === 'paused' && h.intents.get(PAUSE_INTENT, c.id)) {
        await runtime!.resume(c.id).then(() => { status = 'running'; }, (err) => h.deps.log.warn({ err, id: c.id }, 'unpause after commit'));
      }
      if (c.state.status !== status) { c.state.status = status; h.repo.saveState(c.id, c.state); }
      if (status === 'running') h.deps.health?.begin(c);
      break;
    }
    case 'restart': h.scheduleRestart(c.id); break;
    case 'exit-file': break; // settled by the exit-file scan
    case 'settle': {
      await h.settleExit(c, await persistedExitCodeOr255(h, c));
      break;
    }
    case 'none': break;
  }
  h.intents.clear(START_INTENT, c.id);
  if (c.state.status !== 'paused') h.intents.clear(PAUSE_INTENT, c.id);
}

/**
 * After the containers are settled: host objects under the daemon's names that no running
 * container owns go (a start or removal cut short before its intent was written, or by a bug).
 */
async function sweepHost(h: RecoveryHost): Promise<void> {
  const { deps } = h;
  for (const id of await deps.rootfs.mountedContainers?.() ?? []) {
    if (!h.isRunning(id)) await bestEffort(deps.log, 'unmount stray rootfs', id, () => deps.rootfs.unmount(id));
  }
  for (const runtime of deps.runtimes.values()) {
    for (const id of runtime.ids()) if (!h.isRunning(id)) await bestEffort(deps.log, 'delete stray runtime record', id, () => runtime.delete(id, true));
  }
  for (const m of deps.monitor.find(h.exitDir)) {
    if (h.isRunning(m.id)) continue;
    deps.log.info({ id: m.id, pid: m.pid }, 'recovery: killing the conmon of a container that is not running');
    await bestEffort(deps.log, 'kill stray conmon', m.id, () => deps.monitor.kill(m.pid));
  }
  for (const id of await deps.cgroupIds?.() ?? []) {
    if (/^[0-9a-f]{64}$/.test(id) && !h.isRunning(id)) await bestEffort(deps.log, 'remove stray cgroup', id, () => deps.releaseCgroup?.(id));
  }
}
