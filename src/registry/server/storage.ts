/**
 * The registry's filesystem storage under one root:
 *
 *   blobs/sha256/<2 hex>/<hex>                       blob and manifest bytes, shared by every repository
 *   repos/<name>/_layers/sha256/<hex>                 "this repository has blob <hex>" (content: the digest)
 *   repos/<name>/_manifests/revisions/sha256/<hex>    "this repository has manifest <hex>" (content: its media type)
 *   repos/<name>/_manifests/tags/<tag>                the tag's manifest digest
 *   repos/<name>/_uploads/<id>                        an upload in progress (appended to, never visible as a blob)
 *
 * Every visible file appears whole: it is written under a temporary name in the same
 * directory, fsynced, then renamed. A blob is renamed into blobs/ only after its digest was
 * verified, so a crash leaves at most an upload file or a `.tmp-*` file nobody reads. Repository
 * names cannot contain a component starting with `_`, so the `_` directories never clash.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isErrno } from '../../lib/errors.ts';
import { RegistryError } from './protocol.ts';

/** Large reads and writes: a layer moves in MiB pieces, not the 64 KiB default. */
export const IO_CHUNK = 1 << 20;

const hexOf = (digest: string): string => digest.slice(7);

interface UploadState { size: number; hash: Hash | undefined; busy: boolean }

/** Writes `data` to `path` so readers see the old file or the whole new one, never a part. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${randomUUID()}`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}

/**
 * Registry storage on a local filesystem. Names, tags and digests must have been validated
 * by the caller (protocol.ts); they become path components here.
 */
export class FsRegistryStorage {
  /** Uploads this process has seen: their size and running hash (recomputed after a restart). */
  readonly #uploads = new Map<string, UploadState>();

  constructor(readonly root: string) {}

  /** Creates the top-level directories. */
  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs/sha256'), { recursive: true });
    await mkdir(join(this.root, 'repos'), { recursive: true });
  }

  blobPath(digest: string): string {
    const hex = hexOf(digest);
    return join(this.root, 'blobs/sha256', hex.slice(0, 2), hex);
  }
  #repo(name: string): string { return join(this.root, 'repos', name); }
  #layerLink(name: string, digest: string): string { return join(this.#repo(name), '_layers/sha256', hexOf(digest)); }
  #revision(name: string, digest: string): string { return join(this.#repo(name), '_manifests/revisions/sha256', hexOf(digest)); }
  #tag(name: string, tag: string): string { return join(this.#repo(name), '_manifests/tags', tag); }
  #upload(name: string, id: string): string { return join(this.#repo(name), '_uploads', id); }

  // --- blobs ---

  /** Size of a blob the repository has, or undefined. */
  async statBlob(name: string, digest: string): Promise<number | undefined> {
    if (!(await exists(this.#layerLink(name, digest)))) return undefined;
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** An open blob of the repository (the caller closes it), or undefined. */
  async openBlob(name: string, digest: string): Promise<{ fh: FileHandle; size: number } | undefined> {
    if (!(await exists(this.#layerLink(name, digest)))) return undefined;
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    try {
      return { fh, size: (await fh.stat()).size };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Forgets that the repository has the blob (the bytes stay until gc). False when it had not. */
  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    try {
      await unlink(this.#layerLink(name, digest));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  async #linkBlob(name: string, digest: string): Promise<void> {
    await writeFileAtomic(this.#layerLink(name, digest), digest);
  }

  /** Cross-repository mount: true (and linked) when `from` has the blob. */
  async mountBlob(name: string, from: string, digest: string): Promise<boolean> {
    if ((await this.statBlob(from, digest)) === undefined) return false;
    await this.#linkBlob(name, digest);
    return true;
  }

  /** Moves a verified, fsynced file into blobs/ under its digest. */
  async #commitFile(file: string, digest: string): Promise<void> {
    const dest = this.blobPath(digest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(file, dest);
    await fsyncDir(dirname(dest));
  }

  // --- uploads ---

  /** Starts an upload; returns its id. */
  async startUpload(name: string): Promise<string> {
    const id = randomUUID();
    const path = this.#upload(name, id);
    await mkdir(dirname(path), { recursive: true });
    await (await open(path, 'wx', 0o644)).close();
    this.#uploads.set(id, { size: 0, hash: createHash('sha256'), busy: false });
    return id;
  }

  /** Bytes received so far, or undefined for an unknown upload. */
  async uploadSize(name: string, id: string): Promise<number | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const known = this.#uploads.get(id);
    try {
      const size = (await stat(this.#upload(name, id))).size;
      return known?.busy ? known.size : size;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw err;
    }
  }

  /** The upload's state, locked for one request; a missing hash (after a restart) is recomputed. */
  async #lock(name: string, id: string): Promise<UploadState> {
    const size = await this.uploadSize(name, id);
    if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', id);
    let st = this.#uploads.get(id);
    if (st?.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', 'another request is writing to this upload');
    if (!st) { st = { size, hash: undefined, busy: false }; this.#uploads.set(id, st); }
    st.busy = true;
    try {
      if (!st.hash || st.size !== size) {
        const h = createHash('sha256');
        await pipeline(createReadStream(this.#upload(name, id), { highWaterMark: IO_CHUNK }), async (src: AsyncIterable<Buffer>) => { for await (const c of src) h.update(c); });
        st.hash = h;
        st.size = size;
      }
    } catch (err) {
      st.busy = false;
      throw err;
    }
    return st;
  }

  /**
   * Appends a request body to the upload. `start`, when given (Content-Range), must equal the
   * current size. Returns the new size.
   * @throws RegistryError BLOB_UPLOAD_UNKNOWN, RANGE_INVALID.
   */
  async appendUpload(name: string, id: string, body: Readable, start?: number): Promise<number> {
    const st = await this.#lock(name, id);
    try {
      if (start !== undefined && start !== st.size) throw new RegistryError('RANGE_INVALID', { expected: st.size, got: start });
      await this.#append(name, id, st, body);
      return st.size;
    } finally {
      st.busy = false;
    }
  }

  async #append(name: string, id: string, st: UploadState, body: Readable): Promise<void> {
    const hash = st.hash!;
    let n = 0;
    const tee = new Transform({
      highWaterMark: IO_CHUNK,
      transform(chunk: Buffer, _enc, cb) { hash.update(chunk); n += chunk.length; cb(null, chunk); },
    });
    try {
      await pipeline(body, tee, createWriteStream(this.#upload(name, id), { flags: 'a', highWaterMark: IO_CHUNK }));
      st.size += n;
    } catch (err) {
      // Part of the body may be on disk and in the hash: recompute both from the file next time.
      st.hash = undefined;
      throw err;
    }
  }

  /**
   * Appends the last body (may be empty), checks the digest and makes the blob visible.
   * On a mismatch the upload is removed and nothing is stored.
   * @throws RegistryError BLOB_UPLOAD_UNKNOWN, RANGE_INVALID, DIGEST_INVALID.
   */
  async finishUpload(name: string, id: string, digest: string, body: Readable | undefined, start?: number): Promise<void> {
    const st = await this.#lock(name, id);
    const path = this.#upload(name, id);
    try {
      if (start !== undefined && start !== st.size) throw new RegistryError('RANGE_INVALID', { expected: st.size, got: start });
      if (body) await this.#append(name, id, st, body);
      const actual = `sha256:${st.hash!.copy().digest('hex')}`;
      if (actual !== digest) {
        await this.cancelUpload(name, id);
        throw new RegistryError('DIGEST_INVALID', `digest ${digest} does not match the content (${actual})`);
      }
      const fh = await open(path, 'r+');
      try { await fh.sync(); } finally { await fh.close(); }
      await this.#commitFile(path, digest);
      this.#uploads.delete(id);
      await this.#linkBlob(name, digest);
    } finally {
      st.busy = false;
    }
  }

  /** Removes an upload; false when there was none. */
  async cancelUpload(name: string, id: string): Promise<boolean> {
    this.#uploads.delete(id);
    try {
      await unlink(this.#upload(name, id));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  /**
   * A monolithic upload (POST ?digest=): the body goes to a private upload file, is verified and
   * committed. @throws RegistryError DIGEST_INVALID (nothing stored).
   */
  async putBlob(name: string, digest: string, body: Readable): Promise<void> {
    const id = await this.startUpload(name);
    try {
      await this.finishUpload(name, id, digest, body);
    } catch (err) {
      await this.cancelUpload(name, id).catch(() => {});
      throw err;
    }
  }

  // --- manifests and tags ---

  /** The digest a tag points at, or undefined. */
  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    return (await readOptional(this.#tag(name, tag)))?.trim() || undefined;
  }

  /** A manifest of the repository: bytes and stored media type, or undefined. */
  async getManifest(name: string, digest: string): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
    const mediaType = await readOptional(this.#revision(name, digest));
    if (mediaType === undefined) return undefined;
    try {
      return { bytes: await readFile(this.blobPath(digest)), mediaType: mediaType.trim() };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async hasManifest(name: string, digest: string): Promise<boolean> {
    return (await exists(this.#revision(name, digest))) && exists(this.blobPath(digest));
  }

  /** Stores a manifest's bytes as they came, records it in the repository, and tags it. */
  async putManifest(name: string, digest: string, bytes: Buffer, mediaType: string, tag?: string): Promise<void> {
    const dest = this.blobPath(digest);
    if (!(await exists(dest))) {
      await writeFileAtomic(dest, bytes);
      await fsyncDir(dirname(dest));
    }
    await writeFileAtomic(this.#revision(name, digest), mediaType);
    if (tag !== undefined) await writeFileAtomic(this.#tag(name, tag), digest);
  }

  /** Removes a manifest from the repository and every tag on it; false when it had none. */
  async deleteManifest(name: string, digest: string): Promise<boolean> {
    for (const tag of await this.tags(name)) {
      if ((await this.resolveTag(name, tag)) === digest) await unlink(this.#tag(name, tag)).catch(() => {});
    }
    try {
      await unlink(this.#revision(name, digest));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  /** Removes a tag; false when there was none. */
  async deleteTag(name: string, tag: string): Promise<boolean> {
    try {
      await unlink(this.#tag(name, tag));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  /** The repository's tags, sorted. */
  async tags(name: string): Promise<string[]> {
    return (await listDir(this.#tag(name, ''))).sort();
  }

  /** Digests of the repository's manifests. */
  async revisions(name: string): Promise<string[]> {
    return (await listDir(join(this.#repo(name), '_manifests/revisions/sha256'))).map((h) => `sha256:${h}`);
  }

  /** Digests of the blobs linked into the repository. */
  async layerLinks(name: string): Promise<string[]> {
    return (await listDir(join(this.#repo(name), '_layers/sha256'))).map((h) => `sha256:${h}`);
  }

  async repoExists(name: string): Promise<boolean> {
    return (await exists(join(this.#repo(name), '_manifests'))) || exists(join(this.#repo(name), '_layers'));
  }

  /** Every repository with a manifest or a blob, sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return;
        throw err;
      }
      if (entries.some((e) => e.name === '_manifests' || e.name === '_layers')) out.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(join(this.root, 'repos'), '');
    return out.filter(Boolean).sort();
  }

  /** Every stored blob: digest and size. */
  async allBlobs(): Promise<Array<{ digest: string; size: number; path: string }>> {
    const out: Array<{ digest: string; size: number; path: string }> = [];
    const base = join(this.root, 'blobs/sha256');
    for (const fan of await listDir(base)) {
      for (const hex of await listDir(join(base, fan))) {
        const path = join(base, fan, hex);
        const st = await stat(path).catch(() => undefined);
        if (st?.isFile()) out.push({ digest: `sha256:${hex}`, size: st.size, path });
      }
    }
    return out;
  }

  /** Removes a blob's bytes (gc only). */
  async removeBlobFile(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  /** Removes a repository's link to a blob that gc removed. */
  async removeLayerLink(name: string, digest: string): Promise<void> {
    await rm(this.#layerLink(name, digest), { force: true });
  }
}
