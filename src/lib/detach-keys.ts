import { Transform, type TransformCallback } from 'node:stream';
import { EngineError } from './errors.ts';

/**
 * Docker's --detach-keys syntax (moby/term ToBytes): comma-separated keys, each a single character
 * (taken as is, case included), `ctrl-<x>` (x in a-z, @, [, \, ], ^, _) or `DEL`, e.g. the default
 * "ctrl-p,ctrl-q". Returns the byte sequence. Throws InvalidParameter with dockerd's wording.
 */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    // Docker neither trims nor folds case; berth tolerates spaces and "CTRL-P", which Docker refuses.
    const k = key.trim();
    // One ASCII character is its own byte (Docker takes the first byte; a UTF-8 letter has two).
    if (k.length === 1 && k.charCodeAt(0) < 0x80) { out.push(k.charCodeAt(0)); continue; }
    if (k === 'DEL') { out.push(127); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k.toLowerCase());
    if (!m) throw new EngineError('InvalidParameter', `Invalid detach keys (${spec}) provided`);
    const c = m[1]!;
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
  }
  return Buffer.from(out);
}

/**
 * Passes stdin bytes through until the detach sequence is typed, then calls onDetach (the rest of
 * that chunk is dropped). A partial match is held back, across chunks, and released as soon as it
 * can no longer be the start of the sequence, or when the input ends (as Docker's escape proxy).
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
      // Mismatch: held bytes + b. Keep its longest suffix that is still a prefix of the sequence
      // (so "ctrl-p ctrl-p ctrl-q" detaches), release what comes before it.
      const seen = [...this.keys.subarray(0, this.#matched), b];
      let keep = Math.min(this.#matched, seen.length - 1);
      while (keep > 0 && !this.keys.subarray(0, keep).equals(Buffer.from(seen.slice(seen.length - keep)))) keep--;
      out.push(...seen.slice(0, seen.length - keep));
      this.#matched = keep;
    }
    cb(null, out.length ? Buffer.from(out) : undefined);
  }

  override _flush(cb: TransformCallback): void {
    // The input ended inside a partial match: those bytes were typed, not a detach.
    const held = this.#matched;
    this.#matched = 0;
    cb(null, held ? Buffer.from(this.keys.subarray(0, held)) : undefined);
  }
}
