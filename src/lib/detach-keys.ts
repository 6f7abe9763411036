import { Transform, type TransformCallback } from 'node:stream';
import { EngineError } from './errors.ts';

/**
 * Docker's --detach-keys syntax: comma-separated keys, each a letter, `ctrl-<x>` (x in a-z, @, [, \,
 * ], ^, _), e.g. the default "ctrl-p,ctrl-q". Returns the byte sequence.
 */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw new EngineError('InvalidParameter', `Invalid detach keys (${spec}) provided`);
    const c = m[1]!;
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
  }
  return Buffer.from(out);
}

/**
 * Passes stdin bytes through until the detach sequence is typed, then calls onDetach. A partial
 * match is held back and released if the next byte breaks the sequence (as Docker's escape proxy).
 */
export class DetachScanner extends Transform {
  #matched = 0;
  constructor(private readonly keys: Buffer, private readonly onDetach: () => void) { super(); }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.keys.length === 0) { cb(null, chunk); return; }
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.keys.length) {
          if (out.length) this.push(Buffer.from(out));
          this.#matched = 0;
          this.onDetach();
          cb();
          return;
        }
        continue;
      }
      if (this.#matched > 0) { out.push(...this.keys.subarray(0, this.#matched)); this.#matched = 0; }
      if (b === this.keys[0]) { this.#matched = 1; continue; }
      out.push(b);
    }
    cb(null, out.length ? Buffer.from(out) : undefined);
  }
}
