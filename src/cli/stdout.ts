/**
 * The CLI's standard output. Node sets up process.stdout (a stream over a pipe, file or terminal)
 * on first use, and that costs every command ~10 M instructions, about a sixth of Node's own
 * start-up: commands that print one block at the end (ps, images, inspect, version) write it with
 * write(2) instead, and the stream exists only for commands that stream (logs, save, attach).
 */
import { writeSync } from 'node:fs';

export interface Stdout {
  /** process.stdout, set up on first use; a closed reader (EPIPE) ends the CLI quietly, as docker's. */
  stream(): NodeJS.WriteStream;
  /** Writes `text` now. Through the stream once it exists, so the output stays in order. */
  write(text: string): void;
  /**
   * Resolves once the stream (if one was set up) has handed all its data to the kernel. A pipe
   * whose reader is slower than us takes only 64 KB at once; Node queues the rest, and exiting
   * before it is written would cut the output short (`berth completion zsh | …`).
   */
  flushed(): Promise<void>;
}

export function cliStdout(): Stdout {
  let stream: NodeJS.WriteStream | undefined;
  const setUp = (): NodeJS.WriteStream => {
    if (!stream) {
      stream = process.stdout;
      stream.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); else throw err; });
    }
    return stream;
  };
  return {
    stream: setUp,
    flushed: () => new Promise<void>((resolve) => {
      if (!stream || stream.writableLength === 0) resolve();
      else stream.write('', () => resolve());
    }),
    write(text) {
      if (stream) { stream.write(text); return; }
      const buf = Buffer.from(text);
      let off = 0;
      try {
        while (off < buf.length) off += writeSync(1, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') process.exit(0);
        // A non-blocking descriptor that is full: the stream waits for it.
        if (code === 'EAGAIN') { setUp().write(buf.subarray(off)); return; }
        throw err;
      }
    },
  };
}
