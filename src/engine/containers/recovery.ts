/**
 * What start-up recovery does with each container, decided from what the database, the intent
 * journal (store/intents.ts), the OCI runtime and conmon's exit files say. Pure: the container
 * service carries the plan out (service.ts `recover`).
 *
 * Intents the container engine records before its side effects:
 * - `container-start` (with the state before the start): mounts, network, cgroups, conmon and the
 *   runtime's record are being made. A start cut short is undone unless its process runs.
 * - `container-remove` (with `rm -v`'s flag): the removal is finished, volumes as asked.
 * - `container-pause`: berth paused the container for its own work (commit); it is unpaused.
 * - `container-exec` (per session): the process of an attached session is killed, since its
 *   client went with the daemon; a detached one runs on, as under dockerd.
 * 'creating' and 'removing' rows are intents themselves.
 */
import type { RuntimeState } from '../../runtime/oci-runtime.ts';
import type { ContainerState, ContainerStatus } from './record.ts';

export const START_INTENT = 'container-start';
export const REMOVE_INTENT = 'container-remove';
export const PAUSE_INTENT = 'container-pause';
export const EXEC_INTENT = 'container-exec';

export interface StartIntent { prev: ContainerState }
export interface RemoveIntent { volumes: boolean }
export interface ExecIntent {
  containerId: string; pidFile: string; processFile: string; detach: boolean;
  /** The runtime's error log for the session (absent in intents of older daemons). */
  logFile?: string;
}

export interface RecoveryFacts {
  status: ContainerStatus;
  /** A start was under way (its intent is recorded). */
  starting: boolean;
  /** A removal was under way with these options. */
  removing?: RemoveIntent;
  /** The runtime's view; null when it keeps no record (or was not asked: the row says stopped). */
  runtime: RuntimeState['status'] | null;
  /** conmon's exit file for the container is waiting in the exit directory. */
  exitFile: boolean;
}

export type RecoveryPlan =
  /** A half-made or half-removed container: every trace goes, the row last. */
  | { do: 'discard'; volumes: boolean }
  /** A start that did not get its process running: everything it made goes, the old state returns. */
  | { do: 'undo-start' }
  /** Its process lives: watch it again. */
  | { do: 'adopt'; status: 'running' | 'paused' }
  /** It exited while we were away and conmon's exit file says how: the exit-file scan settles it. */
  | { do: 'exit-file' }
  /** It exited while we were away and the exit file is lost (a reboot): settled from conmon's persist file. */
  | { do: 'settle' }
  /** Between a restart policy's runs: the next run starts once the daemon is ready. */
  | { do: 'restart' }
  | { do: 'none' };

/** The statuses in which the runtime is asked whether the process lives. */
export const needsRuntimeState = (status: ContainerStatus, starting: boolean): boolean =>
  starting || status === 'running' || status === 'paused' || status === 'restarting';

export function planRecovery(f: RecoveryFacts): RecoveryPlan {
  if (f.status === 'creating') return { do: 'discard', volumes: true };
  if (f.status === 'removing') return { do: 'discard', volumes: f.removing?.volumes ?? false };
  const alive = f.runtime === 'running' || f.runtime === 'paused';
  if (f.starting) {
    // The row says running once conmon reported the process; the process ran if the runtime says so,
    // or if it has exited already (the exit file). A process still waiting to be started did not.
    if ((f.status === 'running' || f.status === 'paused') && alive) return { do: 'adopt', status: f.runtime as 'running' | 'paused' };
    if (f.status === 'running' && f.runtime !== 'created' && f.exitFile) return { do: 'exit-file' };
    return { do: 'undo-start' };
  }
  if (f.status !== 'running' && f.status !== 'paused' && f.status !== 'restarting') return { do: 'none' };
  if (alive) return { do: 'adopt', status: f.runtime as 'running' | 'paused' };
  if (f.status === 'restarting') return { do: 'restart' };
  return f.exitFile ? { do: 'exit-file' } : { do: 'settle' };
}
