import type { ContainerWaitResponse } from '../../api/types/index.ts';
import { bestEffort, type WarnLog } from '../../lib/best-effort.ts';
import { EngineError } from '../../lib/errors.ts';
import type { ContainerRecord } from './record.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Work that needs conmon's attach socket; null when the start it waited for failed. */
export type AttachHook = (attachSocket: string | null) => Promise<void>;

interface Waiter { cond: WaitCondition; resolve: (r: ContainerWaitResponse) => void }
interface Run { exited: Promise<void>; done: () => void }

/**
 * What the engine knows in memory about containers' runs: which run now (a run begins before
 * conmon is launched and ends when its exit is settled), whose monitor is up (an attach connects
 * now), attaches waiting for the next start, and `wait` callers. Owns no host object; the
 * lifecycle code calls it under each container's lock.
 */
export class RunTracker {
  readonly #runs = new Map<string, Run>();
  /** Work to do between conmon's start and the process's start (attach before start). */
  readonly #beforeStart = new Map<string, AttachHook[]>();
  /** Containers whose monitor is up: an attach connects now rather than at the next start. */
  readonly #attachable = new Set<string>();
  readonly #waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly deps: { log: WarnLog; attachSocket(id: string): string }) {}

  /** A run begins (a start, or a live container adopted at start-up). */
  begin(id: string): void {
    let done!: () => void;
    const exited = new Promise<void>((r) => { done = r; });
    this.#runs.set(id, { exited, done });
  }

  /** The run ended (its exit is settled, or its start failed): `exited` settles. */
  end(id: string): void {
    const run = this.#runs.get(id);
    this.#runs.delete(id);
    this.#attachable.delete(id);
    run?.done();
  }

  isRunning(id: string): boolean {
    return this.#runs.has(id);
  }

  /** Resolves when the container's current run ends (immediately if it is not running). */
  exited(id: string): Promise<void> {
    return this.#runs.get(id)?.exited ?? Promise.resolve();
  }

  /** An adopted container's monitor is up: attaches connect now. */
  markAttachable(id: string): void {
    this.#attachable.add(id);
  }

  /** conmon is up for this start: attaches waiting for it connect now, before the process runs. */
  async monitorUp(id: string): Promise<void> {
    const hooks = this.#take(id);
    this.#attachable.add(id);
    const socket = this.deps.attachSocket(id);
    await Promise.all(hooks.map((h) => bestEffort(this.deps.log, 'attach before start', id, () => h(socket))));
  }

  /** The start they waited for failed, or the container went: waiting attaches end now (they would hang). */
  cancelAttaches(id: string): void {
    for (const h of this.#take(id)) void bestEffort(this.deps.log, 'end an attach whose start failed', id, () => h(null));
  }

  /** See ContainerService.whenAttachable. */
  whenAttachable(id: string, fn: AttachHook): void {
    if (this.#attachable.has(id)) {
      void bestEffort(this.deps.log, 'attach', id, () => fn(this.deps.attachSocket(id)));
      return;
    }
    const list = this.#beforeStart.get(id) ?? [];
    list.push(fn);
    this.#beforeStart.set(id, list);
  }

  /** See ContainerService.wait; `c` is the container as resolved now. */
  wait(c: ContainerRecord, cond: WaitCondition, signal?: AbortSignal): Promise<ContainerWaitResponse> {
    const running = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting';
    if (cond === 'not-running' && !running) return Promise.resolve({ StatusCode: c.state.exitCode, Error: null });
    return new Promise((resolve, reject) => {
      const set = this.#waiters.get(c.id) ?? new Set<Waiter>();
      this.#waiters.set(c.id, set);
      const w: Waiter = { cond, resolve: (r) => { set.delete(w); resolve(r); } };
      set.add(w);
      signal?.addEventListener('abort', () => { set.delete(w); reject(new EngineError('Canceled', 'wait canceled')); });
    });
  }

  /** Tells the waiters of any of `conds`. */
  notify(id: string, conds: WaitCondition[], r: ContainerWaitResponse): void {
    for (const w of [...(this.#waiters.get(id) ?? [])]) if (conds.includes(w.cond)) w.resolve(r);
  }

  /** The container is gone: every waiter is told, attaches still waiting end. */
  removed(id: string, exitCode: number): void {
    this.notify(id, ['removed', 'not-running', 'next-exit'], { StatusCode: exitCode, Error: null });
    this.#waiters.delete(id);
    this.cancelAttaches(id);
  }

  #take(id: string): AttachHook[] {
    const hooks = this.#beforeStart.get(id) ?? [];
    this.#beforeStart.delete(id);
    return hooks;
  }
}
