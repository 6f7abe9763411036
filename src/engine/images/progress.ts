import type { Progress } from '../../lib/progress.ts';

/**
 * An async queue of progress events: producers push while the work runs, the API route
 * iterates. `close(err)` ends the iteration, with the error thrown to the reader.
 */
export class MessageChannel<T = Progress> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  #error: unknown;

  push(m: T): void {
    if (this.#done) return;
    this.#items.push(m);
    this.#wake?.();
  }

  close(err?: unknown): void {
    this.#done = true;
    this.#error = err;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => { this.#wake = resolve; });
      this.#wake = undefined;
    }
  }
}

/** Runs `work` with a channel and yields what it pushes; work's rejection ends the stream with its error. */
export function streamOf(work: (out: MessageChannel) => Promise<void>): AsyncIterable<Progress> {
  const ch = new MessageChannel();
  work(ch).then(() => ch.close(), (err: unknown) => ch.close(err ?? new Error('failed')));
  return ch;
}

/** Docker's short layer ID in progress lines: the first 12 hex digits of a digest. */
export const shortId = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);


/**
 * Calls `emit(current)` at most every `intervalMs` (and always for the final value), so a fast
 * transfer does not flood the stream with progress lines.
 */
export function throttled(intervalMs: number, emit: (current: number) => void): (current: number, final?: boolean) => void {
  let last = 0;
  return (current, final = false) => {
    const now = Date.now();
    if (!final && now - last < intervalMs) return;
    last = now;
    emit(current);
  };
}
