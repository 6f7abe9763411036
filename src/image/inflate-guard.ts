import { statfs } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { EngineError, invalid, isErrno } from '../lib/errors.ts';
import { humanSize } from '../lib/units.ts';

/**
 * Bounds on what an uploaded or downloaded stream may expand to (load, import, build context, a
 * pulled layer, cp into a container, ADD of a local archive): a 12 MB gzip of zeros inflates to
 * 12 GB. Decompressed output is refused once it is past `ratioFloor` bytes and more than
 * `maxRatio` times the compressed bytes read so far. Real layers stay far below 200:1 (text and
 * binaries compress 2-10:1); only long runs of one byte (a multi-GB file of zeros) reach gzip's
 * ~1030:1, and below the floor even those pass. Independently, the free space of the filesystem
 * being written is checked before the first byte and every `spaceCheckEvery` bytes: the stream is
 * refused when less than the reserve would be left, so the disk never fills up for the database
 * and the clean-up that follows.
 */
export interface InflateLimits {
  maxRatio: number;
  ratioFloor: number;
  spaceCheckEvery: number;
  /** Bytes to keep free on the filesystem; undefined: 2% of its size, between 64 MiB and 1 GiB. */
  reserveBytes?: number;
}

export const DEFAULT_INFLATE_LIMITS: Readonly<InflateLimits> = Object.freeze({
  maxRatio: 200,
  ratioFloor: 256 * 1024 ** 2,
  spaceCheckEvery: 64 * 1024 ** 2,
});

export interface GuardOptions {
  /** A directory on the filesystem the output is written to (the data root, an unpack dir). */
  spaceRoot?: string;
  /** Overrides of the defaults (tests). */
  limits?: Partial<InflateLimits>;
  /** Names the input in errors ("invalid archive", "invalid layer", "build context"). */
  what?: string;
  /** Free and total bytes of the filesystem holding `dir` (default: statfs; tests fake it). */
  space?: (dir: string) => Promise<{ free: number; size: number }>;
}

const statfsSpace = async (dir: string) => {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
};

const MiB = 1024 ** 2;

/** The reserve of a filesystem of `size` bytes: 2% of it, at least 64 MiB, at most 1 GiB. */
export const defaultReserve = (size: number): number => Math.min(1024 * MiB, Math.max(64 * MiB, Math.floor(size * 0.02)));

/**
 * Unavailable "no space left on device ..." when less than the reserve is free on the filesystem
 * of `opts.spaceRoot` (nothing is checked without one).
 */
export async function checkFreeSpace(opts: GuardOptions): Promise<void> {
  const dir = opts.spaceRoot;
  if (dir === undefined) return;
  // A directory not made yet has no filesystem to ask about: the next check will have one.
  const space = await (opts.space ?? statfsSpace)(dir).catch((err: unknown) => { if (isErrno(err, 'ENOENT')) return undefined; throw err; });
  if (space === undefined) return;
  const { free, size } = space;
  const reserve = opts.limits?.reserveBytes ?? defaultReserve(size);
  if (free < reserve) {
    throw new EngineError('Unavailable', `${opts.what ?? 'write'}: no space left on device: ${humanSize(free)} free on the data root's filesystem, ${humanSize(reserve)} kept in reserve`);
  }
}

/** Counts the bytes that pass (the compressed side of a decompressor). */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/**
 * Passes a decompressor's output through, failing the stream (InvalidParameter for a bomb,
 * Unavailable for the disk) as described at {@link InflateLimits}. `compressed` reads the count of
 * input bytes fed so far; undefined for a plain stream (no ratio, only the space checks).
 */
export class InflateGuard extends Transform {
  #out = 0;
  #nextCheck: number;
  readonly #limits: InflateLimits;

  constructor(private readonly compressed: (() => number) | undefined, private readonly opts: GuardOptions = {}) {
    super({ highWaterMark: 1 << 20 });
    this.#limits = { ...DEFAULT_INFLATE_LIMITS, ...opts.limits };
    this.#nextCheck = this.#limits.spaceCheckEvery;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#out += chunk.length;
    const l = this.#limits;
    if (this.compressed && this.#out > l.ratioFloor) {
      const inBytes = this.compressed();
      if (this.#out > l.maxRatio * inBytes) {
        cb(invalid(`${this.opts.what ?? 'input'}: refused as a decompression bomb: ${humanSize(inBytes)} expanded to more than ${humanSize(this.#out)} (over ${l.maxRatio}:1)`));
        return;
      }
    }
    if (this.opts.spaceRoot !== undefined && this.#out >= this.#nextCheck) {
      this.#nextCheck = this.#out + l.spaceCheckEvery;
      checkFreeSpace(this.opts).then(() => cb(null, chunk), cb);
      return;
    }
    cb(null, chunk);
  }
}
