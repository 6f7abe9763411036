import { bestEffort } from '../../lib/best-effort.ts';
import { EngineError } from '../../lib/errors.ts';
import type { RuntimeState } from '../../runtime/oci-runtime.ts';
import { withRuntimeCause } from '../../runtime/runtime-errors.ts';
import { within, type ContainerContext } from './context.ts';
import { assertCan, moveTo } from './lifecycle-table.ts';
import type { ContainerRecord } from './record.ts';
import { PAUSE_INTENT } from './recovery.ts';
import { normalizeSignal, signalNumberOf } from './signals.ts';

/** What the first half of a user's stop found: a restart wait cancelled, a process to signal, or nothing running. */
export type UserStopOutcome = 'cancelled' | 'running' | 'not-running';

export interface StopOptions { timeout?: number; signal?: string }

/**
 * The first half of a user's stop, kill or rm -f, under the lock so that no exit is being settled
 * and no policy restart is starting meanwhile. A container waiting out its back-off is left
 * exited (`cancelled`: nothing more to do). A running one is marked stopped by the user (when
 * `markStopped`) before any signal is sent, so its exit cannot schedule a restart, however soon
 * it comes (`running`: the caller signals it, outside the lock, as the exit needs the lock).
 * Deciding on a snapshot taken outside the lock raced a restart that came in between: the stop
 * found nothing running and the restart loop went on.
 */
export async function beginUserStop(ctx: ContainerContext, id: string, opts: { markStopped: boolean }): Promise<{ outcome: UserStopOutcome; record: ContainerRecord }> {
  return ctx.lock.run(id, async () => {
    const cur = ctx.repo.get(id);
    if (!cur) throw new EngineError('NotFound', `No such container: ${id}`);
    if (cur.state.status === 'restarting') {
      ctx.restarts.cancel(id);
      moveTo(cur, 'cancel-restart', 'exited');
      cur.state = { ...cur.state, stoppedByUser: true };
      ctx.repo.saveState(id, cur.state);
      return { outcome: 'cancelled', record: cur };
    }
    if (!ctx.runs.isRunning(id)) return { outcome: 'not-running', record: cur };
    if (opts.markStopped) ctx.repo.markStoppedByUser(id);
    return { outcome: 'running', record: cur };
  });
}

/** docker stop: the stop signal, then SIGKILL after the timeout. NotModified when nothing runs. */
export async function stopContainer(ctx: ContainerContext, id: string, opts: StopOptions): Promise<void> {
  const { outcome, record: c } = await beginUserStop(ctx, id, { markStopped: true });
  if (outcome === 'cancelled') {
    ctx.publish('stop', c);
    return;
  }
  if (outcome === 'not-running') throw new EngineError('NotModified', 'container already stopped');
  await stopRunning(ctx, c, opts);
}

/** The second half of a stop: signals, waits for the exit (settled by the exit watcher), publishes `stop`. */
export async function stopRunning(ctx: ContainerContext, c: ContainerRecord, opts: StopOptions): Promise<void> {
  const runtime = ctx.runtimeFor(c.runtime);
  const log = ctx.deps.log;
  // The caller marked it stopped by the user under the lock (beginUserStop).
  const exited = ctx.runs.exited(c.id);
  const sig = normalizeSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
  const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
  if (c.state.status === 'paused') {
    // A frozen process cannot handle a signal; Docker kills it outright.
    await bestEffort(log, 'kill a paused container', c.id, () => runtime.kill(c.id, 'SIGKILL', true));
    await bestEffort(log, 'thaw a killed container', c.id, () => runtime.resume(c.id));
  } else if (timeout !== 0) {
    await bestEffort(log, `send ${sig} to stop`, c.id, () => runtime.kill(c.id, sig));
  }
  const inTime = timeout < 0 ? await exited.then(() => true) : await within(exited, timeout * 1000);
  if (!inTime) {
    await bestEffort(log, 'kill after the stop timeout', c.id, () => runtime.kill(c.id, 'SIGKILL', true));
    await exited;
  }
  ctx.publish('stop', c);
}

/**
 * docker kill. Conflict when nothing runs; a SIGKILL returns once the exit is recorded, as dockerd's
 * does (10 s, then a kill of every process, 2 s more), so an inspect or rm right after sees it stopped.
 */
export async function killContainer(ctx: ContainerContext, ref: string, id: string, signal: string): Promise<void> {
  const sig = normalizeSignal(signal);
  const markStopped = sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT';
  const { outcome, record: c } = await beginUserStop(ctx, id, { markStopped });
  // dockerd: a kill between runs sends nothing; it only ends the restart policy's wait.
  if (outcome === 'cancelled') {
    ctx.publish('kill', c, { signal: String(signalNumberOf(sig)) });
    return;
  }
  if (outcome === 'not-running') throw new EngineError('Conflict', `Cannot kill container: ${ref}: Container ${c.id} is not running`);
  const runtime = ctx.runtimeFor(c.runtime);
  const exited = ctx.runs.exited(c.id);
  // A process that ended before its exit was recorded is no error (dockerd: no such process).
  const gone = await runtime.kill(c.id, sig).then(() => false, async (err: unknown) => {
    if (await runtimeStopped(ctx, c)) return true;
    throw withRuntimeCause(err, `Cannot kill container ${c.id}`);
  });
  // A frozen process acts on no signal: dockerd thaws it after SIGKILL or the stop signal.
  const stopSignal = normalizeSignal(c.config.StopSignal || 'SIGTERM');
  if (!gone && c.state.status === 'paused' && (sig === 'SIGKILL' || sig === stopSignal)) {
    await bestEffort(ctx.deps.log, 'thaw a signalled container', c.id, () => runtime.resume(c.id));
  }
  ctx.publish('kill', c, { signal: String(signalNumberOf(sig)) });
  if (sig !== 'SIGKILL') return;
  if (await within(exited, 10_000)) return;
  await bestEffort(ctx.deps.log, 'kill every process', c.id, () => runtime.kill(c.id, 'SIGKILL', true));
  if (!await within(exited, 2_000)) throw new EngineError('Internal', 'tried to kill container, but did not receive an exit event');
}

/**
 * Freezes the container. `transient`: berth pauses it for its own work (commit) and will unpause
 * it; the intent is recorded, so that a crash in between does not leave it paused for good.
 */
export async function pauseContainer(ctx: ContainerContext, id: string, opts: { transient?: boolean }): Promise<void> {
  await ctx.lock.run(id, async () => {
    const c = ctx.repo.get(id)!;
    assertCan('pause', c);
    ctx.deps.health?.end(c.id);
    if (opts.transient) ctx.intents.record(PAUSE_INTENT, c.id);
    await ctx.runtimeFor(c.runtime).pause(c.id).catch(async (err: unknown) => {
      ctx.intents.clear(PAUSE_INTENT, c.id);
      // It ended and its exit is on the way: not running, as dockerd says, not the runtime's error.
      if (await runtimeStopped(ctx, c)) throw new EngineError('Conflict', `Container ${c.id} is not running`, { cause: err });
      ctx.deps.health?.begin(c, { reset: false });
      throw withRuntimeCause(err, `cannot pause container ${c.id}`);
    });
    moveTo(c, 'pause', 'paused');
    ctx.repo.saveState(c.id, c.state);
    ctx.publish('pause', c);
  });
}

/** Thaws a paused container; Conflict when it is not paused. */
export async function unpauseContainer(ctx: ContainerContext, id: string): Promise<void> {
  await ctx.lock.run(id, async () => {
    const c = ctx.repo.get(id)!;
    assertCan('unpause', c);
    await ctx.runtimeFor(c.runtime).resume(c.id).catch(async (err: unknown) => {
      if (await runtimeStopped(ctx, c)) throw new EngineError('Conflict', `Container ${c.id} is not paused`, { cause: err });
      throw withRuntimeCause(err, `Cannot unpause container ${c.id}`);
    });
    moveTo(c, 'unpause', 'running');
    ctx.repo.saveState(c.id, c.state);
    ctx.intents.clear(PAUSE_INTENT, c.id);
    ctx.deps.health?.begin(c, { reset: false });
    ctx.publish('unpause', c);
  });
}

/** True when the runtime no longer has the container's process (its exit may not be recorded yet). */
async function runtimeStopped(ctx: ContainerContext, c: ContainerRecord): Promise<boolean> {
  const st = await runtimeStateOrNull(ctx, c);
  return st === null || st.status === 'stopped';
}

/** The runtime's view of the container, or null when it has none or cannot say: a probe, after a call that failed. */
async function runtimeStateOrNull(ctx: ContainerContext, c: ContainerRecord): Promise<RuntimeState | null> {
  try {
    return await ctx.runtimeFor(c.runtime).state(c.id);
  } catch (err) {
    ctx.deps.log.debug({ err, id: c.id }, 'runtime state');
    return null;
  }
}
