import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { digestHex, isDigest } from '../lib/digest.ts';
import { EngineError, invalid, isErrno } from '../lib/errors.ts';
import { asInputError, decompress } from './compression.ts';
import type { InflateLimits } from './inflate-guard.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, hostArchitecture, imageIdOf, parseImageConfig } from './config.ts';
import { ensureSafeParents, entryComponents, forgetVerified } from './safe-path.ts';
import type { Descriptor, ImageConfig, Platform } from './oci.ts';

/** One image found in an archive. */
export interface ArchiveImage {
  id: string;
  /** The config blob's exact bytes (the image ID is their digest). */
  configBytes: Buffer;
  config: ImageConfig;
  /** Absolute paths of the layer files in the spool, base first, one per diff_id (plain or gzip). */
  layerPaths: string[];
  /** Names as the archive gives them ("busybox:latest", "docker.io/library/busybox:latest"); may be empty. */
  refs: string[];
  /**
   * Per layer, the sha256 its spool file was verified to have while spooling (files stored as
   * `blobs/sha256/<hex>` are checked against their name), else undefined. A layer whose value is
   * its diff_id is a plain tar with exactly the right bytes: the blob store may take the file over.
   */
  layerDigests: (string | undefined)[];
}

/** An archive unpacked into a private temp dir; `cleanup` removes it. */
export interface SpooledArchive {
  dir: string;
  images: ArchiveImage[];
  cleanup(): Promise<void>;
}

export interface ReadArchiveOptions {
  /** Directory for the spool (`<dataRoot>/tmp`); the spool is `load-<random>` inside. */
  tmpRoot: string;
  /** Cap on the archive's total file bytes (default 64 GiB). */
  maxBytes?: number;
  /** Overrides of the decompression bounds (inflate-guard.ts; tests). */
  inflateLimits?: Partial<InflateLimits>;
  signal?: AbortSignal;
}

/** A descriptor as an archive gives it: unchecked, so every field but the digest may be missing. */
type ArchiveDescriptor = Partial<Omit<Descriptor, 'platform'>> & { digest: string; platform?: Partial<Platform> };

const MAX_LINK_HOPS = 16;
/** Spool files whose content is checked against their name while spooling. */
const VERIFIED_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;
type TarEntry = tar.ExtractEvents['entry'][1];

/**
 * Reads a `docker save` archive (manifest.json; layers as `<id>/layer.tar` or `blobs/sha256/<hex>`)
 * or an OCI image layout (oci-layout, index.json, blobs/), plain or gzip, from a stream. The
 * archive is spooled to a temp dir first, with the same hostile-path rules as layers (links are
 * kept as a map, never created), and every `blobs/sha256/<hex>` file is checked against its name.
 * InvalidParameter for a malformed or lying archive; the spool is removed on error.
 */
export async function readImageArchive(input: Readable, opts: ReadArchiveOptions): Promise<SpooledArchive> {
  await mkdir(opts.tmpRoot, { recursive: true });
  const dir = join(opts.tmpRoot, `load-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const links = await spool(input, dir, opts);
    const reader = new SpoolReader(dir, links);
    const images = (await reader.exists('manifest.json')) ? await readDockerManifest(reader) : await readOciLayout(reader);
    return { dir, images, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Extracts regular files and dirs into dir; returns links (name → target, root-relative). */
async function spool(input: Readable, dir: string, opts: ReadArchiveOptions): Promise<Map<string, string>> {
  const plain = await decompress(input, { spaceRoot: opts.tmpRoot, what: 'invalid archive', ...(opts.inflateLimits ? { limits: opts.inflateLimits } : {}) });
  const extract = tar.extract();
  const links = new Map<string, string>();
  const verified = new Set<string>();
  const max = opts.maxBytes ?? 64 * 1024 ** 3;
  let bytes = 0;
  const consume = async () => {
    for await (const entry of extract) {
      opts.signal?.throwIfAborted();
      const h = entry.header;
      const parts = entryComponents(h.name);
      const rel = parts.join('/');
      if (parts.length === 0) { await drain(entry); continue; }
      if (h.type === 'symlink' || h.type === 'link') {
        const base = h.type === 'symlink' ? posix.dirname(rel) : '';
        if (h.linkname.startsWith('/')) throw invalid(`invalid archive: link ${rel} points outside the archive`);
        links.set(rel, entryComponents(posix.join(base, h.linkname)).join('/'));
        await drain(entry);
        continue;
      }
      await ensureSafeParents(dir, parts, verified);
      if (h.type === 'directory') {
        await mkdir(join(dir, rel), { recursive: true });
        verified.add(rel);
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        bytes += h.size;
        if (bytes > max) throw invalid('invalid archive: exceeds the maximum size');
        await rm(join(dir, rel), { recursive: true, force: true });
        forgetVerified(verified, rel);
        links.delete(rel);
        await writeSpoolFile(entry, join(dir, rel), VERIFIED_BLOB.test(rel) ? `sha256:${parts[2]}` : undefined);
      } else {
        await drain(entry);
      }
    }
  };
  await Promise.all([pipeline(plain, extract, opts.signal ? { signal: opts.signal } : {}), consume()]).catch((err) => {
    plain.destroy();
    extract.destroy();
    throw asInputError(err, 'invalid archive');
  });
  return links;
}

/**
 * Writes one archive file into the spool, hashing it when its name is a digest. The writes are
 * synchronous: a thread-pool round trip per 64 KiB chunk made the spool the slowest part of a
 * load on a busy machine (186 MiB: ~5 s with promise writes while the CLI streamed the archive).
 */
async function writeSpoolFile(entry: TarEntry, abs: string, expected: string | undefined): Promise<void> {
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  const hash = expected ? createHash('sha256') : null;
  try {
    for await (const data of entry) {
      const chunk = data as Buffer;
      hash?.update(chunk);
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
    }
  } finally {
    closeSync(fd);
  }
  if (hash && `sha256:${hash.digest('hex')}` !== expected) throw invalid(`invalid archive: blob ${expected} does not match its digest`);
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry) void _;
}

/** Reads files of a spool by archive path, following the archive's links inside it. */
class SpoolReader {
  constructor(readonly dir: string, readonly links: ReadonlyMap<string, string>) {}

  /** The spool path of an archive path; InvalidParameter when missing or escaping. */
  async resolve(name: string): Promise<string> {
    let rel = entryComponents(name).join('/');
    for (let hops = 0; this.links.has(rel); hops++) {
      if (hops >= MAX_LINK_HOPS) throw invalid(`invalid archive: too many links at ${name}`);
      rel = this.links.get(rel)!;
    }
    const abs = join(this.dir, rel);
    const st = await lstat(abs).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw invalid(`invalid archive: ${name} not found`);
      throw err;
    });
    if (!st.isFile()) throw invalid(`invalid archive: ${name} is not a file`);
    return abs;
  }

  async exists(name: string): Promise<boolean> {
    return this.resolve(name).then(() => true, () => false);
  }

  async read(name: string): Promise<Buffer> {
    return readFile(await this.resolve(name));
  }

  async json<T>(name: string): Promise<T> {
    const bytes = await this.read(name);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw invalid(`invalid archive: ${name}: ${(err as Error).message}`, err);
    }
  }

  /** The digest a spool file was verified against: files at `blobs/sha256/<hex>` (see spool). */
  verifiedDigest(abs: string): string | undefined {
    const m = VERIFIED_BLOB.exec(relative(this.dir, abs).split(sep).join('/'));
    return m ? `sha256:${m[1]}` : undefined;
  }

  blobPath(d: ArchiveDescriptor): string {
    if (typeof d?.digest !== 'string' || !isDigest(d.digest)) throw invalid(`invalid archive: unsupported digest ${String(d?.digest)}`);
    return `blobs/sha256/${digestHex(d.digest)}`;
  }
}

function image(r: SpoolReader, configBytes: Buffer, layerPaths: string[], refs: string[]): ArchiveImage {
  const config = parseImageConfig(configBytes);
  if (config.rootfs.diff_ids.length !== layerPaths.length) {
    throw invalid(`invalid archive: config has ${config.rootfs.diff_ids.length} layers, manifest ${layerPaths.length}`);
  }
  return { id: imageIdOf(configBytes), configBytes, config, layerPaths, refs, layerDigests: layerPaths.map((p) => r.verifiedDigest(p)) };
}

async function readDockerManifest(r: SpoolReader): Promise<ArchiveImage[]> {
  const manifest = await r.json<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }[]>('manifest.json');
  if (!Array.isArray(manifest)) throw invalid('invalid archive: manifest.json is not a list');
  const out: ArchiveImage[] = [];
  for (const m of manifest) {
    if (typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
      throw invalid('invalid archive: manifest.json entry needs Config and Layers');
    }
    const configBytes = await r.read(m.Config);
    // Legacy archives name the config "<hex>.json": the name is its digest, so hold it to that.
    const named = /^([0-9a-f]{64})\.json$/.exec(posix.basename(m.Config));
    if (named && `sha256:${named[1]}` !== imageIdOf(configBytes)) throw invalid(`invalid archive: config ${m.Config} does not match its digest`);
    const layers = await Promise.all((m.Layers as string[]).map((l) => r.resolve(l)));
    const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    out.push(image(r, configBytes, layers, tags));
  }
  return out;
}

async function readOciLayout(r: SpoolReader): Promise<ArchiveImage[]> {
  if (!(await r.exists('index.json'))) throw invalid('invalid archive: neither manifest.json nor index.json found');
  const index = await r.json<{ manifests?: ArchiveDescriptor[] }>('index.json');
  const byId = new Map<string, ArchiveImage>();
  for (const d of index.manifests ?? []) {
    const manifest = await pickManifest(r, d, 0);
    const configBytes = await r.read(r.blobPath(manifest.config));
    if (imageIdOf(configBytes) !== manifest.config.digest) throw invalid(`invalid archive: config ${manifest.config.digest} does not match its digest`);
    const layers = await Promise.all(manifest.layers.map((l) => r.resolve(r.blobPath(l))));
    const img = byId.get(imageIdOf(configBytes)) ?? image(r, configBytes, layers, []);
    byId.set(img.id, img);
    const name = d.annotations?.[ANNOTATION_IMAGE_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
    // A bare ref.name ("latest") names no repository: such an image loads untagged.
    if (name && /[:/@]/.test(name) && !img.refs.includes(name)) img.refs.push(name);
  }
  return [...byId.values()];
}

async function pickManifest(r: SpoolReader, d: ArchiveDescriptor, depth: number): Promise<{ config: ArchiveDescriptor; layers: ArchiveDescriptor[] }> {
  if (depth > 4) throw invalid('invalid archive: indexes nested too deep');
  const doc = await r.json<{ mediaType?: string; manifests?: ArchiveDescriptor[]; config?: ArchiveDescriptor; layers?: ArchiveDescriptor[] }>(r.blobPath(d));
  const type = doc.mediaType ?? d.mediaType;
  if (type === MediaType.ociIndex || type === MediaType.dockerManifestList || Array.isArray(doc.manifests)) {
    const list = doc.manifests ?? [];
    const arch = hostArchitecture();
    const pick = list.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? list[0];
    if (!pick) throw new EngineError('NotFound', 'invalid archive: image index lists no manifest');
    return pickManifest(r, pick, depth + 1);
  }
  if (!doc.config || !Array.isArray(doc.layers)) throw invalid(`invalid archive: manifest ${d.digest} has no config or layers`);
  return { config: doc.config, layers: doc.layers };
}
