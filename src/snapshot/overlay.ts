import { duBytes } from '../lib/disk-usage.ts';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, conflict, invalid, isErrno, notFound } from '../lib/errors.ts';
import type { ExecFn } from '../lib/exec.ts';
import { digestHex, isDigest } from '../lib/digest.ts';

/**
 * Layer snapshots and container root filesystems.
 *
 * Vocabulary: a *layer* is one image layer unpacked once per chain ID (read-only, shared by every
 * image and container above it). A container's *snapshot* is a writable upper dir over its image's
 * layers; *prepare* creates it, *mount* makes the merged view at `mergedPath`, *unmount* and
 * *remove* undo that. Layers are unpacked into a temp dir and renamed into place, so a crash never
 * leaves a half layer that looks complete; `recover` sweeps the leftovers.
 */
export interface Snapshotter {
  hasLayer(chainId: string): Promise<boolean>;
  /**
   * Unpacks a layer once: `unpack` fills a fresh directory; on success it becomes the layer of
   * chainId, on failure the directory is removed and the error rethrown. Concurrent calls for the
   * same chain ID share one unpack. Returns false when the layer already existed.
   */
  ensureLayer(chainId: string, unpack: (dir: string) => Promise<void>): Promise<boolean>;
  /** The unpacked directory of a layer (it may not exist). */
  diffPath(chainId: string): string;
  removeLayer(chainId: string): Promise<void>;
  /** Bytes used by a layer's files (lstat sizes); NotFound when absent. */
  layerSize(chainId: string): Promise<number>;
  /**
   * Creates a container's upper/work/merged dirs over the layers (chain IDs base first). NotFound for
   * a missing layer. `volatile`: mounted with overlay's `volatile` (no syncs, so no whole-disk sync at
   * unmount) for throwaway snapshots such as the builder's, never for a container's.
   */
  prepare(containerId: string, chainIds: readonly string[], opts?: { volatile?: boolean }): Promise<void>;
  /** Mounts the container's rootfs (no-op when mounted) and returns the merged path. */
  mount(containerId: string): Promise<string>;
  unmount(containerId: string): Promise<void>;
  /** Unmounts if needed and deletes the container's snapshot; absent is fine. */
  remove(containerId: string): Promise<void>;
  /** Makes the next mounts of a prepared snapshot `volatile` (see prepare); the builder's RUN containers. */
  setVolatile(containerId: string): Promise<void>;
  isMounted(containerId: string): Promise<boolean>;
  /** IDs of every container snapshot whose rootfs is mounted now (start-up recovery unmounts stray ones). */
  mountedContainers(): Promise<string[]>;
  mergedPath(containerId: string): string;
  upperPath(containerId: string): string;
  /** Start-up sweep: temp and half-deleted layers, dangling links. */
  recover(): Promise<void>;
}

export interface OverlaySnapshotterDeps {
  /** `<dataRoot>/overlay`. */
  root: string;
  /** Runs mount/umount (lib/exec's execFile in berthd). */
  exec: ExecFn;
  /** Where mounts are listed (tests may point elsewhere). */
  mountInfoPath?: string;
}

const LINK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** mount(2) copies options into one page; stay below it. */
const MAX_OPTIONS = 4095;

/** A short random name for `l/`, as docker's overlay2 uses (26 base32 characters). */
export function newLinkName(): string {
  return [...randomBytes(26)].map((b) => LINK_ALPHABET[b & 31]).join('');
}

/**
 * The `-o` options of a container's overlay mount, paths relative to the snapshotter root (the
 * mount runs with that cwd, which keeps 100+ lowerdirs within a page). `lowers` is top first.
 * InvalidParameter when they would not fit.
 */
export function overlayOptions(containerId: string, lowers: readonly string[]): string {
  const opts = `lowerdir=${lowers.join(':')},upperdir=containers/${containerId}/upper,workdir=containers/${containerId}/work`;
  if (opts.length > MAX_OPTIONS) throw invalid(`overlay mount options for ${containerId} are too long (${lowers.length} layers)`);
  return opts;
}

/** Mount points listed in a mountinfo text (octal escapes decoded). */
export function mountPoints(mountinfo: string): Set<string> {
  const out = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.add(field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** overlay2-style snapshots under `<dataRoot>/overlay`: layers/<hex>/{diff,link}, l/<short>, containers/<id>/. */
export class OverlaySnapshotter implements Snapshotter {
  readonly #deps: OverlaySnapshotterDeps;
  readonly #inflight = new Map<string, Promise<boolean>>();

  constructor(deps: OverlaySnapshotterDeps) {
    this.#deps = deps;
  }

  #layerDir(chainId: string): string {
    if (!isDigest(chainId)) throw invalid(`invalid chain ID: ${chainId}`);
    return join(this.#deps.root, 'layers', digestHex(chainId));
  }

  #containerDir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw invalid(`invalid container ID: ${id}`);
    return join(this.#deps.root, 'containers', id);
  }

  diffPath(chainId: string): string {
    return join(this.#layerDir(chainId), 'diff');
  }

  mergedPath(containerId: string): string {
    return join(this.#containerDir(containerId), 'merged');
  }

  upperPath(containerId: string): string {
    return join(this.#containerDir(containerId), 'upper');
  }

  async hasLayer(chainId: string): Promise<boolean> {
    return exists(join(this.#layerDir(chainId), 'link'));
  }

  ensureLayer(chainId: string, unpack: (dir: string) => Promise<void>): Promise<boolean> {
    const running = this.#inflight.get(chainId);
    if (running) return running;
    const p = this.#createLayer(chainId, unpack).finally(() => this.#inflight.delete(chainId));
    this.#inflight.set(chainId, p);
    return p;
  }

  async #createLayer(chainId: string, unpack: (dir: string) => Promise<void>): Promise<boolean> {
    const final = this.#layerDir(chainId);
    if (await this.hasLayer(chainId)) return false;
    const layers = join(this.#deps.root, 'layers');
    await mkdir(join(this.#deps.root, 'l'), { recursive: true });
    await mkdir(layers, { recursive: true });
    const tmp = join(layers, `.tmp-${digestHex(chainId)}-${randomBytes(4).toString('hex')}`);
    await mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    const short = newLinkName();
    try {
      await unpack(join(tmp, 'diff'));
      await writeFile(join(tmp, 'link'), short);
      // The link dangles until the rename; recover() removes dangling links after a crash.
      await symlink(`../layers/${digestHex(chainId)}/diff`, join(this.#deps.root, 'l', short));
      await rm(final, { recursive: true, force: true }); // a leftover without a link file
      await rename(tmp, final);
      return true;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      await rm(join(this.#deps.root, 'l', short), { force: true });
      throw err;
    }
  }

  async removeLayer(chainId: string): Promise<void> {
    const dir = this.#layerDir(chainId);
    const short = await readFile(join(dir, 'link'), 'utf8').catch(() => null);
    const doomed = join(this.#deps.root, 'layers', `.del-${digestHex(chainId)}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, doomed);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    if (short) await rm(join(this.#deps.root, 'l', short.trim()), { force: true });
    await rm(doomed, { recursive: true, force: true });
  }

  /** Bytes in a container's writable layer (docker's SizeRw); 0 when it has none. */
  async upperSize(containerId: string): Promise<number> {
    const upper = this.upperPath(containerId);
    return (await exists(upper)) ? duBytes(upper) : 0;
  }

  async layerSize(chainId: string): Promise<number> {
    const diff = this.diffPath(chainId);
    if (!(await exists(diff))) throw notFound(`layer ${chainId}: not found`);
    return duBytes(diff);
  }

  async #linkOf(chainId: string): Promise<string> {
    try {
      return `l/${(await readFile(join(this.#layerDir(chainId), 'link'), 'utf8')).trim()}`;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`layer ${chainId}: not found`, err);
      throw err;
    }
  }

  async prepare(containerId: string, chainIds: readonly string[], opts: { volatile?: boolean } = {}): Promise<void> {
    const dir = this.#containerDir(containerId);
    const lowers: string[] = [];
    for (const c of [...chainIds].reverse()) lowers.push(await this.#linkOf(c));
    if (lowers.length === 0) {
      // overlay needs a lowerdir: an image without layers gets an empty one.
      await mkdir(join(dir, 'empty'), { recursive: true });
      lowers.push(`containers/${containerId}/empty`);
    }
    overlayOptions(containerId, lowers);
    for (const sub of ['upper', 'work', 'merged']) await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
    await writeFile(join(dir, 'lower'), lowers.join(':'));
    if (opts.volatile) await writeFile(join(dir, 'volatile'), '');
  }

  async setVolatile(containerId: string): Promise<void> {
    await writeFile(join(this.#containerDir(containerId), 'volatile'), '');
  }

  async mount(containerId: string): Promise<string> {
    const merged = this.mergedPath(containerId);
    if (await this.isMounted(containerId)) return merged;
    let lower: string;
    try {
      lower = (await readFile(join(this.#containerDir(containerId), 'lower'), 'utf8')).trim();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`snapshot of container ${containerId}: not found`, err);
      throw err;
    }
    const volatile = await stat(join(this.#containerDir(containerId), 'volatile')).then(() => true, () => false);
    const opts = overlayOptions(containerId, lower.split(':')) + (volatile ? ',volatile' : '');
    const r = await this.#deps.exec('mount', ['-t', 'overlay', 'overlay', '-o', opts, merged], { cwd: this.#deps.root });
    if (r.exitCode !== 0) throw new EngineError('Internal', `mount overlay for ${containerId}: ${r.stderr.trim()}`);
    return merged;
  }

  async unmount(containerId: string): Promise<void> {
    if (!(await this.isMounted(containerId))) return;
    const r = await this.#deps.exec('umount', [this.mergedPath(containerId)]);
    if (r.exitCode !== 0 && (await this.isMounted(containerId))) {
      const kind = /busy/i.test(r.stderr) ? 'Conflict' : 'Internal';
      throw new EngineError(kind, `unmount rootfs of ${containerId}: ${r.stderr.trim()}`);
    }
  }

  async remove(containerId: string): Promise<void> {
    await this.unmount(containerId);
    if (await this.isMounted(containerId)) throw conflict(`rootfs of ${containerId} is still mounted`);
    await rm(this.#containerDir(containerId), { recursive: true, force: true });
  }

  async isMounted(containerId: string): Promise<boolean> {
    const info = await readFile(this.#deps.mountInfoPath ?? '/proc/self/mountinfo', 'utf8');
    return mountPoints(info).has(this.mergedPath(containerId));
  }

  async mountedContainers(): Promise<string[]> {
    const info = await readFile(this.#deps.mountInfoPath ?? '/proc/self/mountinfo', 'utf8');
    const prefix = `${join(this.#deps.root, 'containers')}/`;
    const out: string[] = [];
    for (const p of mountPoints(info)) {
      if (!p.startsWith(prefix) || !p.endsWith('/merged')) continue;
      const id = p.slice(prefix.length, -'/merged'.length);
      if (!id.includes('/')) out.push(id);
    }
    return out;
  }

  async recover(): Promise<void> {
    const layers = join(this.#deps.root, 'layers');
    for (const name of await readdir(layers).catch(() => [] as string[])) {
      if (name.startsWith('.tmp-') || name.startsWith('.del-')) await rm(join(layers, name), { recursive: true, force: true });
    }
    const l = join(this.#deps.root, 'l');
    for (const name of await readdir(l).catch(() => [] as string[])) {
      const target = await readlink(join(l, name)).catch(() => null);
      if (target === null || !(await exists(join(l, target)))) await rm(join(l, name), { force: true });
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

