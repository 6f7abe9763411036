import type { Progress } from '../lib/progress.ts';

/**
 * Keeps the legacy log readable when stages run in parallel: the first unfinished stage (in
 * file order) writes through, later ones are held back and flushed when their turn comes.
 */
export class OrderedOutput {
  #cur = 0;
  readonly #held = new Map<number, Progress[]>();
  readonly #done = new Set<number>();

  constructor(private readonly order: readonly number[], private readonly emit: (m: Progress) => void) {}

  write(stage: number, ...msgs: Progress[]): void {
    if (stage === this.order[this.#cur]) for (const m of msgs) this.emit(m);
    else {
      const held = this.#held.get(stage) ?? [];
      held.push(...msgs);
      this.#held.set(stage, held);
    }
  }

  /** The stage has written its last message. */
  finish(stage: number): void {
    this.#done.add(stage);
    while (this.#cur < this.order.length && this.#done.has(this.order[this.#cur]!)) {
      this.#cur++;
      this.#flush();
    }
  }

  #flush(): void {
    const next = this.order[this.#cur];
    if (next === undefined) return;
    for (const m of this.#held.get(next) ?? []) this.emit(m);
    this.#held.delete(next);
  }
}
