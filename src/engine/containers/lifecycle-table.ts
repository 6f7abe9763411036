import { EngineError } from '../../lib/errors.ts';
import type { ContainerRecord, ContainerStatus } from './record.ts';

/**
 * The container lifecycle's one state-transition table. Statuses:
 * - `creating`: the row is an intent (invisible to clients); `created` once the rootfs exists.
 * - `running` / `paused`: a process lives under conmon; `restarting`: between a restart policy's runs.
 * - `exited`: stopped; `removing`: a removal is under way, or failed and is retried (recovery, rm);
 * - `dead`: never set by berth (listed because Docker's API has it).
 * Every status change is an event below; each operation checks its event against the container's
 * status before acting (`assertCan`) and moves only to a status the event allows (`moveTo`).
 * Statuses an event refuses get Docker's words (`refusal`). Stop and kill are no events: they send
 * signals, and the exit that follows moves the container (`exit`).
 */
export const TRANSITIONS = {
  /** create finished: rootfs and files made. (A create that fails discards the row.) */
  created: { from: ['creating'], to: ['created'] },
  /** A user's start (`docker start`, `run`). */
  start: { from: ['created', 'exited'], to: ['running'] },
  /** A restart policy's wait is over. */
  'policy-restart': { from: ['restarting'], to: ['running'] },
  /** A start failed: back to created if the container never ran, else exited. */
  'start-failed': { from: ['created', 'exited', 'restarting', 'running'], to: ['created', 'exited'] },
  pause: { from: ['running'], to: ['paused'] },
  unpause: { from: ['paused'], to: ['running'] },
  /** The process ended: exited, or restarting when the restart policy wants another run. */
  exit: { from: ['running', 'paused'], to: ['exited', 'restarting'] },
  /** stop, kill or rm -f while a restart policy waits: no more runs. */
  'cancel-restart': { from: ['restarting'], to: ['exited'] },
  /** rm: `removing` again is the retry of a removal that failed (none is under way). */
  remove: { from: ['created', 'exited', 'dead', 'removing'], to: ['removing'] },
  /** rm -f: whatever still runs was killed first (or would not die; the runtime's delete --force then). */
  'force-remove': { from: ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'], to: ['removing'] },
  /** Start-up recovery: what the runtime says lives (adopt), or the state before a start cut short. */
  recover: { from: ['created', 'running', 'paused', 'restarting', 'exited'], to: ['created', 'running', 'paused', 'restarting', 'exited'] },
} as const satisfies Record<string, { from: readonly ContainerStatus[]; to: readonly ContainerStatus[] }>;

export type LifecycleEvent = keyof typeof TRANSITIONS;

const allows = (list: readonly ContainerStatus[], s: ContainerStatus): boolean => list.includes(s);

/** Whether `event` may happen to a container in `status`. */
export function can(event: LifecycleEvent, status: ContainerStatus): boolean {
  return allows(TRANSITIONS[event].from, status);
}

/**
 * Throws the refusal of `event` for `c` in Docker's words (NotModified or Conflict) unless its
 * status allows the event.
 */
export function assertCan(event: LifecycleEvent, c: ContainerRecord): void {
  if (!can(event, c.state.status)) throw refusal(event, c);
}

/**
 * Moves `c` (in memory; the caller saves it) to `to` by `event`. Internal when the table has no
 * such move: a bug in the engine, never the client's doing (their requests are checked by assertCan).
 */
export function moveTo(c: ContainerRecord, event: LifecycleEvent, to: ContainerStatus): void {
  const from = c.state.status;
  if (!can(event, from) || !allows(TRANSITIONS[event].to, to)) {
    throw new EngineError('Internal', `container ${c.id}: ${event} cannot move it from ${from} to ${to}`);
  }
  c.state.status = to;
}

/** What a client is told when `event` does not apply to `c`'s status (dockerd's words, pinned by the integration tests). */
export function refusal(event: LifecycleEvent, c: ContainerRecord): EngineError {
  const s = c.state.status;
  switch (event) {
    case 'start':
      if (s === 'running' || s === 'restarting') return new EngineError('NotModified', 'container already started');
      if (s === 'paused') return new EngineError('Conflict', 'cannot start a paused container, try unpause instead');
      return new EngineError('Conflict', 'container is marked for removal and cannot be started');
    case 'pause':
      return new EngineError('Conflict', s === 'paused' ? `Container ${c.id} is already paused` : `Container ${c.id} is not running`);
    case 'unpause':
      return new EngineError('Conflict', `Container ${c.id} is not paused`);
    case 'remove':
      if (s === 'running' || s === 'paused' || s === 'restarting') return removeConflict(c, s);
      return removalInProgress(c);
    default:
      return new EngineError('Conflict', `container ${c.id} is ${s}: cannot ${event}`);
  }
}

/** A second rm while one is under way. */
export function removalInProgress(c: ContainerRecord): EngineError {
  return new EngineError('Conflict', `removal of container ${c.id} is already in progress`);
}

/**
 * A refused rm in dockerd 25's words (API 1.44 on); clients of older APIs get dockerd 24's, which
 * docker-py and scripts match on ("You cannot remove a running container ...").
 */
export function removeConflict(c: ContainerRecord, state: 'running' | 'paused' | 'restarting'): EngineError {
  const message = state === 'paused'
    ? `cannot remove container "/${c.name}": container is paused and must be unpaused first`
    : `cannot remove container "/${c.name}": container is ${state}: stop the container before removing or force remove`;
  const legacy = state === 'paused'
    ? `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`
    : `You cannot remove a ${state} container ${c.id}. Stop the container before attempting removal or force remove`;
  return new EngineError('Conflict', message, { legacy: { until: '1.44', message: legacy } });
}
