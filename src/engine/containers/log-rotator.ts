import { open, rename, rm, stat } from 'node:fs/promises';
import { bestEffort, type WarnLog } from '../../lib/best-effort.ts';

/** Has the container's monitor reopen its log file (Monitor.reopenLog). */
export type ReopenLog = (ctlFifo: string) => Promise<void>;

/** What the rotator needs: the monitor's reopen, a log for rotations that fail, how often to look. */
export interface LogRotatorDeps {
  reopenLog: ReopenLog;
  log: WarnLog;
  /** How often sizes are checked (Infinity: never on its own; the caller runs checkNow). Default 250 ms. */
  intervalMs?: number;
}

interface Watched { logPath: string; ctlFifo: string; maxSize: number; maxFile: number; busy: boolean }

/**
 * Docker's max-size/max-file rotation for conmon's k8s-file logs. conmon 2.1.6 can only truncate,
 * so berthd rotates: rename `log` → `log.1` (shifting older ones), then ask conmon over its control
 * fifo to reopen (message type 2), which starts a fresh file. conmon keeps a hard cap of its own
 * (conmonLogCap: 10x the rotation budget, by truncation) so the disk stays bounded while berthd is down.
 * Sizes are checked on a slow timer, not per write, so a chatty container pays nothing for it.
 */
export class LogRotator {
  readonly #watched = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;

  readonly #intervalMs: number;

  constructor(private readonly deps: LogRotatorDeps) {
    this.#intervalMs = deps.intervalMs ?? 250;
  }

  watch(id: string, w: Omit<Watched, 'busy'>): void {
    if (w.maxSize <= 0) return;
    this.#watched.set(id, { ...w, busy: false });
    if (Number.isFinite(this.#intervalMs)) this.#timer ??= setInterval(() => void this.checkNow(), this.#intervalMs).unref();
  }

  unwatch(id: string): void {
    this.#watched.delete(id);
    if (this.#watched.size === 0 && this.#timer) { clearInterval(this.#timer); this.#timer = undefined; }
  }

  /** One pass of what the timer does: rotates each watched log that has reached its max-size. Never throws. */
  async checkNow(): Promise<void> {
    for (const [id, w] of this.#watched) {
      if (w.busy) continue;
      w.busy = true;
      try {
        const size = await sizeOrNull(w.logPath);
        // Unwatched while stat ran (the container went away): its log is no longer ours to move.
        if (size !== null && size >= w.maxSize && this.#watched.get(id) === w) {
          await bestEffort(this.deps.log, 'rotate container log', id, () => rotate(w, this.deps.reopenLog));
        }
      } finally {
        w.busy = false;
      }
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#watched.clear();
  }
}

/** The file's size, or null when it does not exist (a container that logged nothing yet). */
async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Renames `from` to `to` unless `from` does not exist (an older file never written). */
async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Shifts `log.N-1` → `log.N` … `log` → `log.1`, drops the oldest, and has conmon reopen. */
export async function rotate(w: { logPath: string; ctlFifo: string; maxFile: number }, reopenLog: ReopenLog): Promise<void> {
  const keep = Math.max(1, w.maxFile);
  if (keep === 1) {
    // max-file=1: Docker truncates; conmon does it on reopen of a removed file.
    await rm(w.logPath, { force: true });
  } else {
    await rm(`${w.logPath}.${keep - 1}`, { force: true });
    for (let i = keep - 2; i >= 1; i--) await renameIfPresent(`${w.logPath}.${i}`, `${w.logPath}.${i + 1}`);
    await renameIfPresent(w.logPath, `${w.logPath}.1`);
  }
  // The live path exists again at once, even if conmon has already gone and never reopens.
  await (await open(w.logPath, 'a', 0o600)).close();
  await reopenLog(w.ctlFifo);
}
