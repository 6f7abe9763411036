import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, invalid, notFound } from '../../lib/errors.ts';
import { hostArchitecture, MediaType } from '../../image/index.ts';
import { RegistryError, type Descriptor, type FetchedManifest, type RepositorySession } from '../../registry/client/index.ts';

/** os/architecture[/variant] as --platform gives it. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const LAYER_TYPES = new Set<string>([
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar',
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
]);

/** "linux/arm64/v8" → spec; empty means this host. InvalidParameter for a malformed value. */
export function parsePlatform(value: string | undefined): PlatformSpec {
  if (!value) return { os: 'linux', architecture: hostArchitecture() };
  const parts = value.toLowerCase().split('/');
  const [os, architecture, variant] = parts;
  if (!os || parts.length > 3 || (parts.length > 1 && !architecture)) throw invalid(`"${value}": invalid platform format`);
  if (os !== 'linux') throw invalid(`"${value}": operating system is not supported`);
  return { os, architecture: architecture || hostArchitecture(), ...(variant ? { variant } : {}) };
}

export const platformString = (p: PlatformSpec): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * The entry of a manifest list for a platform: os and architecture must match; a requested
 * variant must match too, and without one an entry with no variant (or v8 on arm64) is preferred.
 * NotFound in Docker's words when none fits.
 */
export function pickPlatform(manifests: readonly Descriptor[], want: PlatformSpec): Descriptor {
  const fits = manifests.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture
    && (want.variant === undefined || m.platform.variant === want.variant));
  const rank = (m: Descriptor) => (m.platform?.variant === undefined || m.platform.variant === 'v8' ? 0 : 1);
  const best = [...fits].sort((a, b) => rank(a) - rank(b))[0];
  if (!best) throw notFound(`no matching manifest for ${platformString(want)} in the manifest list entries`);
  return best;
}

/** An image manifest ready to pull: the digest to record as the repo digest, its config and layers. */
export interface ResolvedManifest {
  /** The digest the reference resolved to (the list's, for a multi-platform image), as Docker records it. */
  digest: string;
  manifest: FetchedManifest;
  config: Descriptor;
  layers: Descriptor[];
  /** The manifest was picked from an index for the platform (so it matches already). */
  fromIndex: boolean;
}

/** Fetches `reference` (tag or digest) and, for an index, the entry for `platform`. */
export async function resolveImageManifest(session: RepositorySession, reference: string, platform: PlatformSpec, signal?: AbortSignal): Promise<ResolvedManifest> {
  const top = await session.getManifest(reference, signal);
  let manifest = top;
  if (top.json.manifests) {
    const entry = pickPlatform(top.json.manifests, platform);
    manifest = await session.getManifest(entry.digest, signal);
    if (manifest.json.manifests) throw invalid(`manifest ${entry.digest}: a manifest list inside a manifest list is not supported`);
  }
  const { config, layers } = manifest.json;
  if (!config || !isDescriptor(config) || !Array.isArray(layers) || !layers.every(isDescriptor)) {
    throw invalid(`manifest ${manifest.digest}: not an image manifest (missing config or layers)`);
  }
  for (const l of layers) {
    if (l.mediaType.includes('zstd')) throw new EngineError('NotImplemented', `layer ${l.digest}: zstd-compressed layers are not supported yet`);
    if (!LAYER_TYPES.has(l.mediaType)) throw invalid(`layer ${l.digest}: unsupported media type ${l.mediaType}`);
  }
  return { digest: top.digest, manifest, config, layers, fromIndex: manifest !== top };
}

function isDescriptor(d: unknown): d is Descriptor {
  const x = d as Descriptor;
  return typeof x === 'object' && x !== null && typeof x.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(x.digest)
    && typeof x.size === 'number' && x.size >= 0 && typeof x.mediaType === 'string';
}

/** Where downloads land: a temp file in the blob store's directory, renamed into place when verified. */
export interface DownloadTarget {
  tempPath(): string;
  adopt(tempPath: string, digest: string): Promise<void>;
}

export interface DownloadOptions {
  onProgress?: (current: number) => void;
  signal?: AbortSignal;
  /** Attempts in all, for a connection that fails part-way (default 5). */
  attempts?: number;
  /** First back-off delay in ms, doubled each time (default 250). */
  backoffMs?: number;
}

/**
 * Downloads a blob into the store, verified against its digest and size. A transfer cut part-way
 * is resumed from the bytes already on disk (a Range request) rather than started over. Nothing
 * is visible in the store until the whole blob checks out.
 */
export async function downloadBlob(session: RepositorySession, desc: Pick<Descriptor, 'digest' | 'size'>, store: DownloadTarget, opts: DownloadOptions = {}): Promise<void> {
  const attempts = opts.attempts ?? 5;
  const temp = store.tempPath();
  const fh = await open(temp, 'wx', 0o644);
  const hash = createHash('sha256');
  let written = 0;
  // HTTP chunks are small (16-64 KiB): they are written 1 MiB at a time, one thread-pool job each.
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const bufs = batch;
    batch = [];
    batched = 0;
    let left = bufs.reduce((n, b) => n + b.length, 0);
    while (left > 0) {
      const { bytesWritten } = await fh.writev(bufs);
      left -= bytesWritten;
      if (left > 0) {
        // A short write: drop what went out and write the rest.
        let skip = bytesWritten;
        while (skip > 0 && bufs.length > 0) {
          const b = bufs[0]!;
          if (b.length <= skip) { skip -= b.length; bufs.shift(); } else { bufs[0] = b.subarray(skip); skip = 0; }
        }
      }
    }
  };
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const { stream } = await session.openBlob(desc.digest, { offset: written, ...(opts.signal ? { signal: opts.signal } : {}) });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            if (written + chunk.length > desc.size) throw invalid(`blob ${desc.digest}: larger than the ${desc.size} bytes its descriptor gives`);
            hash.update(chunk);
            batch.push(chunk);
            batched += chunk.length;
            written += chunk.length;
            if (batched >= 1 << 20) await flush();
            opts.onProgress?.(written);
          }
        } finally {
          // What arrived is kept, so a retry resumes after it.
          await flush();
        }
        if (written !== desc.size) throw new EngineError('Unavailable', `blob ${desc.digest}: connection closed after ${written} of ${desc.size} bytes`);
        break;
      } catch (err) {
        if (opts.signal?.aborted || attempt >= attempts || !isTransient(err)) throw err;
        await sleep((opts.backoffMs ?? 250) * 2 ** (attempt - 1), undefined, opts.signal ? { signal: opts.signal } : {});
      }
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) throw invalid(`filesystem layer verification failed for digest ${desc.digest}`);
    await fh.sync();
    await fh.close();
    await store.adopt(temp, desc.digest);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

/** A network failure worth another try: a dropped connection, or a registry the client calls unavailable. */
function isTransient(err: unknown): boolean {
  if (err instanceof EngineError) return err.kind === 'Unavailable';
  return true;
}

/**
 * Docker's pull errors for a reference the registry does not serve: "manifest for busybox:nope
 * not found: …", "repository x not found: …", and "pull access denied for x, repository does not
 * exist or may require 'docker login': …" for a denied or unauthorized one.
 */
export function pullError(err: unknown, familiar: string, familiarName: string): unknown {
  if (!(err instanceof EngineError)) return err;
  const code = err instanceof RegistryError ? err.code : undefined;
  if (err.kind === 'Unauthorized' || err.kind === 'Forbidden' || code === 'DENIED' || code === 'UNAUTHORIZED') {
    return notFound(`pull access denied for ${familiarName}, repository does not exist or may require 'docker login': ${err.message}`, err);
  }
  if (code === 'NAME_UNKNOWN') return notFound(`repository ${familiarName} not found: ${err.message}`, err);
  if (err.kind === 'NotFound' && !err.message.startsWith('no matching manifest')) return notFound(`manifest for ${familiar} not found: ${err.message}`, err);
  return err;
}

/**
 * A single-platform image pulled with --platform must be of that platform; Docker's words when
 * it is not: "image with reference x was found but its platform (linux/amd64) does not match
 * the specified platform (linux/arm64)".
 */
export function checkPlatform(config: { os: string; architecture: string; variant?: string }, want: PlatformSpec, familiar: string): void {
  const have: PlatformSpec = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (have.os === want.os && have.architecture === want.architecture && (want.variant === undefined || have.variant === want.variant)) return;
  throw notFound(`image with reference ${familiar} was found but its platform (${platformString(have)}) does not match the specified platform (${platformString(want)})`);
}
