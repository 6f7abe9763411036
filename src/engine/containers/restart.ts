import type { RestartPolicy } from '../../api/types/index.ts';

/** Timers behind an interface so the back-off is unit-testable with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** dockerd's restart manager constants (daemon/internal/restartmanager). */
export const BACKOFF_INITIAL_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A run at least this long resets the back-off to its initial delay. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** The facts a restart decision needs about one exit. */
export interface ExitFacts {
  policy: Partial<RestartPolicy> | undefined;
  exitCode: number;
  /** `stop`, `kill` or `rm -f` asked for this exit. */
  stoppedByUser: boolean;
  /** Restarts so far (the container's RestartCount). */
  restartCount: number;
}

/**
 * Docker's policy rules: `always` and `unless-stopped` restart unless the user stopped the
 * container (dockerd cancels the restart manager on stop/kill, so `always` ends there too);
 * `on-failure[:N]` restarts a non-zero exit while fewer than N restarts were made (0: no limit).
 */
export function policyWantsRestart(f: ExitFacts): boolean {
  if (f.stoppedByUser) return false;
  switch (f.policy?.Name) {
    case 'always': case 'unless-stopped': return true;
    case 'on-failure': {
      const max = f.policy.MaximumRetryCount ?? 0;
      return f.exitCode !== 0 && (max <= 0 || f.restartCount < max);
    }
    default: return false;
  }
}

/**
 * Restart policies between runs. States per container: idle → (exit wanting a restart) waiting
 * for its back-off → restart called → idle. The back-off starts at 100 ms and doubles with each
 * restart up to one minute; a run of 10 s or more starts it again at 100 ms. Waits scheduled
 * before `ready()` (daemon start-up) fire only once the daemon is ready, as dockerd waits for
 * its start-up to finish. Owns only timers; the container service owns the state.
 */
export class RestartManager {
  readonly #delay = new Map<string, number>();
  readonly #pending = new Map<string, unknown>();
  readonly #clock: Clock;
  #ready = false;
  readonly #afterReady = new Set<string>();

  constructor(private readonly deps: { restart(id: string): Promise<void>; clock?: Clock; onError?(id: string, err: unknown): void }) {
    this.#clock = deps.clock ?? systemClock;
  }

  /**
   * Decides on an exit: the back-off (ms) before the restart, or undefined for none. The back-off
   * advances on every call, as dockerd's does, whether or not a restart follows.
   */
  plan(id: string, facts: ExitFacts & { ranMs: number }): number | undefined {
    const prev = facts.ranMs >= BACKOFF_RESET_AFTER_MS ? 0 : this.#delay.get(id) ?? 0;
    const delay = prev === 0 ? BACKOFF_INITIAL_MS : Math.min(prev * 2, BACKOFF_MAX_MS);
    this.#delay.set(id, delay);
    return policyWantsRestart(facts) ? delay : undefined;
  }

  /** Calls `restart(id)` after `delayMs` (once the daemon is ready). Replaces a pending wait. */
  schedule(id: string, delayMs: number): void {
    this.cancel(id);
    const handle = this.#clock.setTimeout(() => {
      this.#pending.delete(id);
      if (!this.#ready) { this.#afterReady.add(id); return; }
      this.#fire(id);
    }, delayMs);
    this.#pending.set(id, handle);
  }

  #fire(id: string): void {
    this.deps.restart(id).catch((err: unknown) => this.deps.onError?.(id, err));
  }

  /** Cancels a pending wait; true if there was one. */
  cancel(id: string): boolean {
    const waitingForReady = this.#afterReady.delete(id);
    const h = this.#pending.get(id);
    if (h === undefined) return waitingForReady;
    this.#clock.clearTimeout(h);
    this.#pending.delete(id);
    return true;
  }

  isPending(id: string): boolean {
    return this.#pending.has(id) || this.#afterReady.has(id);
  }

  /** A user start or a removal: the wait is cancelled and the back-off starts again at 100 ms. */
  reset(id: string): void {
    this.cancel(id);
    this.#delay.delete(id);
  }

  /** The daemon finished its start-up: waits that ended meanwhile restart now. */
  ready(): void {
    this.#ready = true;
    const due = [...this.#afterReady];
    this.#afterReady.clear();
    for (const id of due) this.#fire(id);
  }

  /** Stops every timer (daemon shutdown); containers in back-off stay `restarting` for the next start. */
  close(): void {
    for (const h of this.#pending.values()) this.#clock.clearTimeout(h);
    this.#pending.clear();
    this.#afterReady.clear();
  }
}
