import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { EngineError, invalid, isErrno, notFound } from '../lib/errors.ts';
import { digestHex, isDigest } from '../lib/digest.ts';

/** A stored blob's address and length. */
export interface BlobInfo {
  digest: string;
  size: number;
}

/**
 * Content-addressed storage of immutable blobs (layer tars, configs, manifests) keyed by
 * "sha256:<hex>". A blob is visible only once complete and verified.
 */
export interface BlobStore {
  put(data: Readable | Buffer, expectedDigest?: string, opts?: { signal?: AbortSignal }): Promise<BlobInfo>;
  has(digest: string): Promise<boolean>;
  /** Size of a stored blob; NotFound when absent. */
  size(digest: string): Promise<number>;
  open(digest: string): Promise<Readable>;
  readJson<T>(digest: string): Promise<T>;
  delete(digest: string): Promise<void>;
  path(digest: string): string;
  /** A fresh temp file path next to the blobs (a crash leaves it for `cleanTemp`). */
  tempPath(): string;
  /** Moves a verified and synced temp file into place as the blob `digest`. */
  adopt(tempPath: string, digest: string): Promise<void>;
}

/** Counts and hashes the bytes flowing through it. */
export class HashingCounter extends Transform {
  readonly #hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  /** "sha256:<hex>" of everything seen; call once, after the stream ended. */
  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

/**
 * Blobs as files at `<dataRoot>/blobs/sha256/<hex>`. Writes go to a temp file in the same
 * directory, are hashed while written, verified, fsynced and renamed into place, so a crash
 * leaves at worst a `.tmp-*` file (removed by `cleanTemp`), never a wrong blob.
 */
export class FsBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dataRoot: string) {
    this.#dir = join(dataRoot, 'blobs', 'sha256');
  }

  /** Path of a blob's file; InvalidParameter for a malformed digest. */
  path(digest: string): string {
    if (!isDigest(digest)) throw invalid(`invalid digest: ${digest}`);
    return join(this.#dir, digestHex(digest));
  }

  /**
   * Stores the stream's bytes. With expectedDigest, a mismatch is InvalidParameter
   * ("digest mismatch: …") and nothing is stored. Storing an existing blob is a no-op write.
   */
  async put(data: Readable | Buffer, expectedDigest?: string, opts: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    if (expectedDigest !== undefined && !isDigest(expectedDigest)) throw invalid(`invalid digest: ${expectedDigest}`);
    await mkdir(this.#dir, { recursive: true });
    const tmp = join(this.#dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    const counter = new HashingCounter();
    try {
      const source = Buffer.isBuffer(data) ? [data] : data;
      // A function sink keeps the handle ours to fsync; fs streams would close it on finish.
      const sink = async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
        }
      };
      await pipeline(source, counter, sink, opts.signal ? { signal: opts.signal } : {});
      const digest = counter.digest();
      if (expectedDigest !== undefined && digest !== expectedDigest) {
        throw invalid(`digest mismatch: expected ${expectedDigest}, got ${digest}`);
      }
      await fh.sync();
      await fh.close();
      await rename(tmp, this.path(digest));
      return { digest, size: counter.bytes };
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  async size(digest: string): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`blob ${digest}: not found`, err);
      throw err;
    }
  }

  /** A read stream of the blob; NotFound when absent. The caller consumes or destroys it. */
  async open(digest: string): Promise<Readable> {
    const p = this.path(digest);
    const fh = await open(p, 'r').catch((err: unknown) => {
      throw isErrno(err, 'ENOENT') ? notFound(`blob ${digest}: not found`, err) : err;
    });
    // 1 MiB reads: a blob is read whole (save, unpack, push), and each read is a thread-pool
    // round trip, which on a busy host costs more than the 64 KiB default carries.
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  }

  /** Parses a JSON blob; NotFound when absent, InvalidParameter when it is not JSON. */
  async readJson<T>(digest: string): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path(digest), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`blob ${digest}: not found`, err);
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new EngineError('InvalidParameter', `blob ${digest}: invalid JSON`, { cause: err });
    }
  }

  tempPath(): string {
    mkdirSync(this.#dir, { recursive: true });
    return join(this.#dir, `.tmp-${randomBytes(8).toString('hex')}`);
  }

  async adopt(tempPath: string, digest: string): Promise<void> {
    // A file from elsewhere on the filesystem (a load's spool) may come before any blob.
    await mkdir(this.#dir, { recursive: true });
    await rename(tempPath, this.path(digest));
  }

  /** Removes a blob; absent is fine. */
  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Removes temp files left by a crash; call at daemon start, before any put. */
  async cleanTemp(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    await Promise.all(names.filter((n) => n.startsWith('.tmp-')).map((n) => rm(join(this.#dir, n), { force: true })));
  }
}
