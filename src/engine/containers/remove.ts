import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bestEffort } from '../../lib/best-effort.ts';
import { EngineError } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { within, type ContainerContext } from './context.ts';
import { assertCan, moveTo, removalInProgress } from './lifecycle-table.ts';
import { containerPrunePredicate } from './prune.ts';
import type { ContainerRecord } from './record.ts';
import { REMOVE_INTENT, type RemoveIntent } from './recovery.ts';
import { beginUserStop } from './run-control.ts';

export interface RemoveOptions { force?: boolean; volumes?: boolean }

/**
 * docker rm. Without `force`, a running, paused or restarting container stays (Conflict in
 * dockerd's words); with it, the restart policy's wait ends or the process is killed first. A
 * container left `removing` by a removal that failed is removed again. Throws Internal when its
 * rootfs cannot be unmounted or its cgroup released: it then stays `removing` (see discard).
 */
export async function removeContainer(ctx: ContainerContext, c0: ContainerRecord, opts: RemoveOptions): Promise<void> {
  if (ctx.removals.has(c0.id)) throw removalInProgress(c0);
  if (!opts.force) refuseRemovalIfActive(ctx, c0);
  // -f: the restart policy's wait ends, or the process is marked stopped before it is killed,
  // so that no restart can come between this and the removal.
  const { outcome, record: c } = opts.force ? await beginUserStop(ctx, c0.id, { markStopped: true }) : { outcome: 'not-running' as const, record: c0 };
  if (outcome === 'running') {
    const exited = ctx.runs.exited(c.id);
    const runtime = ctx.runtimeFor(c.runtime);
    await bestEffort(ctx.deps.log, 'kill before removal', c.id, () => runtime.kill(c.id, 'SIGKILL', true));
    if (c.state.status === 'paused') await bestEffort(ctx.deps.log, 'thaw before removal', c.id, () => runtime.resume(c.id));
    await within(exited, 15_000);
  }
  await ctx.lock.run(c.id, async () => {
    const cur = ctx.repo.get(c.id);
    if (!cur) return;
    // Checked again under the lock: a start may have come since the first look.
    if (ctx.removals.has(cur.id)) throw removalInProgress(cur);
    if (!opts.force) refuseRemovalIfActive(ctx, cur);
    await removeLocked(ctx, cur, { volumes: !!opts.volumes, force: !!opts.force });
  });
}

/** Without -f, a running, paused or restarting container stays (dockerd's wording). */
function refuseRemovalIfActive(ctx: ContainerContext, c: ContainerRecord): void {
  // Outside the lock the row may be a step behind the run (an exit being settled): the run counts.
  const s = c.state.status;
  const live = ctx.runs.isRunning(c.id);
  const status = s === 'restarting' ? s : live ? (s === 'paused' ? 'paused' : 'running') : (s === 'running' || s === 'paused' ? 'exited' : s);
  assertCan('remove', { ...c, state: { ...c.state, status } });
}

/**
 * Removal proper, the container's lock held: intent recorded, `removing`, every trace gone (the
 * row last), waiters told. When discard fails the intent and the `removing` row stay, and the
 * error is thrown: recovery (or the next rm) finishes the removal.
 */
export async function removeLocked(ctx: ContainerContext, cur: ContainerRecord, opts: { volumes: boolean; force: boolean }): Promise<void> {
  ctx.removals.add(cur.id);
  try {
    // Intent first: recovery finishes the removal, with the volumes if they were asked for.
    ctx.intents.record(REMOVE_INTENT, cur.id, { volumes: opts.volumes } satisfies RemoveIntent);
    moveTo(cur, opts.force ? 'force-remove' : 'remove', 'removing');
    ctx.repo.saveState(cur.id, cur.state);
    ctx.deps.health?.end(cur.id);
    await discard(ctx, cur, opts.volumes);
  } finally {
    ctx.removals.delete(cur.id);
  }
  ctx.intents.clear(REMOVE_INTENT, cur.id);
  ctx.restarts.reset(cur.id);
  ctx.publish('destroy', cur);
  ctx.runs.removed(cur.id, cur.state.exitCode);
  ctx.deps.afterRemove?.(cur.id);
}

/**
 * Removes every trace of a container that never became visible (`creating`) or is being removed
 * (`removing`), with its anonymous volumes if asked; the row goes last. The rootfs must be
 * unmounted and the cgroup released before anything is deleted: when either fails, nothing more
 * is touched (a recursive delete would reach into a mounted rootfs), the row stays, and Internal
 * is thrown, so that recovery retries. Other failures are logged and the removal goes on.
 */
export async function discard(ctx: ContainerContext, c: ContainerRecord, removeVolumes = c.state.status === 'creating'): Promise<void> {
  const { deps } = ctx;
  const paths = ctx.paths(c.id);
  const runtime = deps.runtimes.get(c.runtime);
  if (runtime?.hasState(c.id)) await bestEffort(deps.log, 'runtime delete', c.id, () => runtime.delete(c.id, true));
  const held: string[] = [];
  if (!await bestEffort(deps.log, 'unmount rootfs', c.id, () => deps.rootfs.unmount(c.id))) held.push('its root filesystem is still mounted');
  if (!await bestEffort(deps.log, 'release cgroup', c.id, () => deps.releaseCgroup?.(c.id))) held.push('its cgroup could not be removed');
  if (held.length) {
    throw new EngineError('Internal', `unable to remove container ${c.id}: ${held.join(', ')}; it stays marked for removal and is removed again at the next daemon start or rm`);
  }
  await deps.rootfs.remove(c.id);
  await rm(paths.bundleDir, { recursive: true, force: true });
  await rm(paths.dataDir, { recursive: true, force: true });
  await rm(join(ctx.exitDir, c.id), { force: true });
  await bestEffort(deps.log, 'release network', c.id, () => deps.network?.tearDown(c));
  await bestEffort(deps.log, 'release volumes', c.id, () => deps.volumes?.forget(c, { anonymous: removeVolumes }));
  ctx.repo.delete(c.id);
}

/**
 * POST /containers/prune: removes every container the filters select (prune.ts); one that cannot
 * go (a start raced the prune) is skipped, as dockerd does. InvalidParameter for bad filters.
 * @returns the IDs removed and the bytes their writable layers held
 */
export async function pruneContainers(ctx: ContainerContext, candidates: ContainerRecord[], filters: Filters): Promise<{ deleted: string[]; reclaimed: number }> {
  const selected = containerPrunePredicate(filters);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const c of candidates.filter(selected)) {
    const size = await writableLayerSizeOrZero(ctx, c.id);
    try {
      await removeContainer(ctx, c, {});
    } catch (err) {
      ctx.deps.log.warn({ err, id: c.id }, 'prune container');
      continue;
    }
    deleted.push(c.id);
    reclaimed += size;
  }
  ctx.deps.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
  return { deleted, reclaimed };
}

/** Bytes in the container's writable layer; 0 when they cannot be counted (the report is then short, nothing more). */
async function writableLayerSizeOrZero(ctx: ContainerContext, id: string): Promise<number> {
  try {
    return await ctx.deps.writableLayerSize?.(id) ?? 0;
  } catch (err) {
    ctx.deps.log.debug({ err, id }, 'writable layer size');
    return 0;
  }
}
