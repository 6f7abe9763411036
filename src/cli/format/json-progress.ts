import type * as api from '../../api/types/index.ts';
import { humanSize } from '../../lib/units.ts';

const BAR_WIDTH = 50;

/** Docker's progress bar: "[=====>      ]  1.2MB/4.5MB" (no bar when the total is unknown). */
export function progressBar(d: { current?: number; total?: number } | undefined): string {
  const current = d?.current ?? 0;
  const total = d?.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return `${humanSize(current)}`.padStart(8);
  const filled = Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH));
  const bar = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled - 1)}`;
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** The text of one message, as `docker` prints it. */
function lineOf(m: api.JsonMessage, withBar: boolean): string {
  const bar = withBar ? progressBar(m.progressDetail) || (m.progress ?? '') : '';
  return `${m.id ? `${m.id}: ` : ''}${m.status ?? ''}${bar ? ` ${bar}` : ''}`;
}

/**
 * Renders a JSON-message stream (pull, push, load) the way the docker CLI does. On a terminal,
 * each layer keeps one line that is redrawn in place; elsewhere, lines are printed once and
 * progress-bar updates are left out. An errorDetail message is thrown as an Error.
 */
export class JsonProgressPrinter {
  readonly #ids = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream, private readonly tty: boolean) {}

  print(m: api.JsonMessage): void {
    if (m.errorDetail || m.error) throw new Error(m.errorDetail?.message ?? m.error ?? 'unknown error');
    if (m.stream !== undefined) {
      this.#ids.clear();
      this.out.write(m.stream);
      return;
    }
    if (m.status === undefined) return; // aux and empty messages
    const hasBar = progressBar(m.progressDetail) !== '' || Boolean(m.progress);
    if (!this.tty) {
      if (!hasBar) this.out.write(`${lineOf(m, false)}\n`);
      return;
    }
    if (!m.id || m.progressDetail === undefined) {
      this.#ids.clear();
      this.out.write(`${lineOf(m, true)}\n`);
      return;
    }
    const line = this.#ids.get(m.id);
    if (line === undefined) {
      this.#ids.set(m.id, this.#ids.size);
      this.out.write(`\x1b[2K\r${lineOf(m, true)}\n`);
      return;
    }
    const up = this.#ids.size - line;
    this.out.write(`\x1b[${up}A\x1b[2K\r${lineOf(m, true)}\n${up > 1 ? `\x1b[${up - 1}B` : ''}`);
  }
}
