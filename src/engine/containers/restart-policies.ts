import { bestEffort } from '../../lib/best-effort.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';
import { policyWantsRestart } from './restart.ts';
import { startLocked } from './start.ts';

/**
 * Restart policies over the lifecycle (restart.ts holds the rules and the timers): what an exit
 * plans, the restart when its wait is over, a user's start beginning afresh, and the daemon's
 * start-up. Health checks follow the runs (start.ts begins them, exits and pauses end them).
 */

/** The back-off before the next run when the policy wants one after this exit; undefined for none (or --rm). */
export function restartBackoffAfterExit(ctx: ContainerContext, c: ContainerRecord, exitCode: number): number | undefined {
  if (c.hostConfig.AutoRemove) return undefined;
  return ctx.restarts.plan(c.id, {
    policy: c.hostConfig.RestartPolicy, exitCode, stoppedByUser: !!c.state.stoppedByUser, restartCount: c.restartCount,
    ranMs: Date.now() - Date.parse(c.state.startedAt),
  });
}

/** A restart policy's wait is over: start again, unless a stop, kill or rm came meanwhile. */
export async function policyRestart(ctx: ContainerContext, id: string): Promise<void> {
  await ctx.lock.run(id, async () => {
    const c = ctx.repo.get(id);
    if (c?.state.status !== 'restarting') return;
    // A failed start leaves it exited, and dockerd tries no more.
    await startLocked(ctx, c, 'policy-restart');
  });
}

/** A user start begins the restart policy afresh (dockerd: ResetRestartManager(true)). Under the lock. */
export function resetRestartPolicy(ctx: ContainerContext, c: ContainerRecord): void {
  ctx.restarts.reset(c.id);
  if (c.restartCount !== 0) {
    c.restartCount = 0;
    ctx.repo.saveState(c.id, c.state, 0);
  }
}

/**
 * Daemon start-up, after recovery and networking: containers whose policy wants them running
 * again start now (dockerd's restore: started before, not stopped by the user), with a fresh
 * count; then restart waits may fire.
 */
export async function applyRestartPolicies(ctx: ContainerContext, containers: ContainerRecord[], start: (id: string) => Promise<void>): Promise<void> {
  for (const c of containers) {
    if (c.state.status !== 'exited' || c.state.startedAt === ZERO_TIME) continue;
    const wants = policyWantsRestart({ policy: c.hostConfig.RestartPolicy, exitCode: c.state.exitCode, stoppedByUser: !!c.state.stoppedByUser, restartCount: c.restartCount });
    if (!wants) continue;
    await bestEffort(ctx.deps.log, 'restart policy at start-up', c.id, () => start(c.id));
  }
  ctx.restarts.ready();
}
