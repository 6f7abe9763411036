import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { EngineError, invalid, kindOf } from '../../lib/errors.ts';
import type { RootPathStat } from '../../lib/native-helper.ts';
import { decompress } from '../../image/index.ts';
import type { FileChange, PathStat } from '../contracts/containers.ts';
import type { ContainerRecord } from './record.ts';
import { lstatOrNull } from '../../lib/fs-probes.ts';

/** The helper operations this module needs (lib/native-helper's NativeHelper). */
export interface RootFsAccess {
  pathStat(root: string, path: string): Promise<RootPathStat>;
  tarOut(root: string, path: string, name: string, opts?: { whiteouts?: boolean }): Readable;
  tarIn(root: string, dir: string, input: Readable, opts?: { noOverwriteDirNonDir?: boolean; owner?: { uid: number; gid: number }; allowDevices?: boolean; allowAbsolute?: boolean; signal?: AbortSignal }): Promise<void>;
  walk(root: string): Promise<{ kind: 'dir' | 'opaque' | 'whiteout' | 'other'; path: string }[]>;
}

export interface ContainerFilesDeps {
  /** A visible container by ID, prefix or name (NotFound: "No such container: x"). */
  resolve(ref: string): ContainerRecord;
  /** Runs fn with the container's merged rootfs mounted (rootfs-users.ts SharedRootfs.use). */
  withRootfs<T>(id: string, fn: (rootfs: string) => Promise<T>): Promise<T>;
  /**
   * For a running container, the root of its own mount namespace as the helper takes it
   * ("DEV:INO@/proc/PID/root", checked against the merged rootfs): its volumes and the /etc
   * files berth bind-mounts are part of that view, as `docker cp` sees them. Undefined otherwise.
   */
  liveRoot?(c: ContainerRecord, rootfs: string): string | undefined;
  /** The container's volume and bind mounts (tmpfs mounts hold nothing while it is stopped). */
  mountsOf?(c: ContainerRecord): ContainerMount[];
  /** The container's writable layer (overlay upper dir). */
  upperPath(id: string): string;
  /** Unpacked directories of the container's image layers, top first. */
  imageLayerDirs(imageId: string): Promise<string[]>;
  files: RootFsAccess;
  /** Publishes a container event (archive-path, extract-to-dir, export). */
  event(action: string, c: ContainerRecord): void;
}

/** A volume or bind mount of a container, as cp needs to know it. */
export interface ContainerMount {
  destination: string;
  /** The host directory: the volume's data directory, or the bind's source. */
  source: string;
  rw: boolean;
  /** `volume-subpath`: the part of the volume mounted, relative to source. */
  subpath?: string;
}

/**
 * Where a container path is looked up: a root for the helper and the path under it; `isMountRoot`
 * when the path is a mount point looked up in its source (its stat name is then the mount point's).
 */
interface Located { root: string; path: string; mount: ContainerMount | undefined; isMountRoot: boolean }

/**
 * The mount whose destination holds `abs` (the deepest one), and the rest of the path below it.
 * "/vol1", "/vol1/" and "/vol1/." are in the mount at /vol1; "/vol10" is not.
 */
export function mountFor(mounts: readonly ContainerMount[], abs: string): { mount: ContainerMount; rest: string } | undefined {
  const destOf = (m: ContainerMount) => posix.join('/', m.destination).replace(/(.)\/+$/, '$1');
  let best: { mount: ContainerMount; dest: string } | undefined;
  for (const m of mounts) {
    const dest = destOf(m);
    const inside = dest === '/' || abs === dest || abs.startsWith(`${dest}/`);
    if (inside && (!best || dest.length > best.dest.length)) best = { mount: m, dest };
  }
  if (!best) return undefined;
  const rest = best.dest === '/' ? abs : abs.slice(best.dest.length);
  return { mount: best.mount, rest: rest === '' ? '/' : rest };
}

/** A stream that keeps the rootfs mounted until it ends. */
export interface ArchiveResult {
  stat: PathStat;
  stream: Readable;
}

/**
 * dockerd's absolute form of a path given by a client: joined to "/" and cleaned, with a trailing
 * "/" or "/." kept (they mean "the directory" and "its contents").
 */
export function containerPath(path: string): string {
  let abs = posix.join('/', path);
  if (abs.length > 1 && abs.endsWith('/')) abs = abs.slice(0, -1);
  const dot = path === '.' || path.endsWith('/.');
  if (dot && posix.basename(abs) !== '.') abs = abs === '/' ? '/.' : `${abs}/.`;
  else if (path.endsWith('/') && !abs.endsWith('/')) abs = `${abs}/`;
  return abs;
}

/** Go's filepath.Base for the absolute forms above ("/a/" → "a", "/a/." → ".", "/" → "/"). */
function baseOf(abs: string): string {
  const trimmed = abs.replace(/\/+$/, '');
  return trimmed === '' ? '/' : posix.basename(trimmed);
}

/** A mount point looked up in its source is named as in the container ("vol1", not "/" or the subpath's). */
const nameAs = (s: RootPathStat, at: Located, abs: string): RootPathStat => (at.isMountRoot ? { ...s, name: baseOf(abs) } : s);

/**
 * Files of a container's root filesystem, for cp (stat, archive, extract), export and diff.
 * Every access goes through the native helper chrooted into the rootfs: a path, and any symlink
 * on it, resolves with the container's rootfs as "/", whatever the container does meanwhile.
 * A running container is seen through its own mount namespace (deps.liveRoot), so volumes and the
 * /etc files berth bind-mounts are included; a stopped one through its rootfs alone.
 */
export class ContainerFiles {
  readonly #d: ContainerFilesDeps;

  constructor(deps: ContainerFilesDeps) {
    this.#d = deps;
  }

  #live(c: ContainerRecord, rootfs: string): string {
    return this.#d.liveRoot?.(c, rootfs) ?? rootfs;
  }

  /**
   * Where `abs` is looked up. A running container is seen through its own mount namespace, its
   * mounts included. A stopped one has none in place: a path under a mount point is looked up in
   * the mount's source, which the helper then takes as "/", so neither ".." nor a symlink in the
   * volume leads out of it (dockerd mounts the volumes into the rootfs for the copy instead).
   */
  #locate(c: ContainerRecord, rootfs: string, abs: string): Located {
    const found = mountFor(this.#d.mountsOf?.(c) ?? [], abs);
    const live = this.#d.liveRoot?.(c, rootfs);
    if (live) return { root: live, path: abs, mount: found?.mount, isMountRoot: false };
    if (!found) return { root: rootfs, path: abs, mount: undefined, isMountRoot: false };
    const { mount, rest } = found;
    const sub = (mount.subpath ?? '').replace(/^\/+|\/+$/g, '');
    return { root: mount.source, path: sub ? `/${sub}${rest}` : rest, mount, isMountRoot: rest === '/' };
  }

  /** HEAD /containers/{id}/archive. NotFound: "Could not find the file <path> in container <ref>". */
  async stat(ref: string, path: string): Promise<PathStat> {
    const c = this.#d.resolve(ref);
    const abs = containerPath(checkPath(path));
    return this.#d.withRootfs(c.id, async (rootfs) => {
      const at = this.#locate(c, rootfs, abs);
      return nameAs(await this.#stat(at.root, at.path, path, ref), at, abs);
    });
  }

  async #stat(root: string, abs: string, path: string, ref: string): Promise<RootPathStat> {
    try {
      return await this.#d.files.pathStat(root, abs);
    } catch (err) {
      throw notFoundInContainer(err, path, ref);
    }
  }

  /**
   * GET /containers/{id}/archive: the stat and a tar of the path (a file as its base name, a
   * directory as "<base>/..." or, for "dir/.", "./..."). The rootfs stays mounted until the
   * stream ends or is destroyed.
   */
  async archive(ref: string, path: string): Promise<ArchiveResult> {
    const c = this.#d.resolve(ref);
    const abs = containerPath(checkPath(path));
    let result!: (r: ArchiveResult) => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<ArchiveResult>((res, rej) => { result = res; failed = rej; });
    // The rootfs is held by a use() that lasts as long as the stream.
    void this.#d.withRootfs(c.id, async (rootfs) => {
      const at = this.#locate(c, rootfs, abs);
      const s = nameAs(await this.#stat(at.root, at.path, path, ref), at, abs);
      const base = baseOf(abs);
      const stream = this.#d.files.tarOut(at.root, at.path, base === '/' ? '.' : base);
      const finished = new Promise<void>((r) => stream.once('close', r));
      result({ stat: s, stream });
      await finished;
    }).catch((err: unknown) => failed(err));
    const r = await ready;
    this.#d.event('archive-path', c);
    return r;
  }

  /**
   * PUT /containers/{id}/archive: extracts a tar (plain or compressed) into the directory `path`
   * (symlinks followed, the last one too). InvalidParameter: not a directory, read-only rootfs,
   * entries climbing out, dir/non-dir overwrites with `noOverwriteDirNonDir`; NotFound as stat.
   * `copyUIDGID` with a container User chowns everything to that user, as dockerd does.
   */
  async extract(ref: string, path: string, input: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const c = this.#d.resolve(ref);
    const abs = containerPath(checkPath(path));
    // dockerd (extractToDir): a read-only rootfs refuses only what does not go into a mount.
    const target = mountFor(this.#d.mountsOf?.(c) ?? [], abs)?.mount;
    if (target && !target.rw) throw invalid('mounted volume is marked read-only');
    if (!target && c.hostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
    // Decompressed here, never by a program from the container (CVE-2019-14271's lesson).
    const plain = await decompress(input, { spaceRoot: this.#d.upperPath(c.id), what: 'extract' });
    await this.#d.withRootfs(c.id, async (rootfs) => {
      const at = this.#locate(c, rootfs, abs);
      // The user is the container's, from its own /etc files, wherever the files go.
      const owner = opts.copyUIDGID && c.config.User ? await this.#lookupUser(this.#live(c, rootfs), c.config.User) : undefined;
      try {
        // dockerd's cp creates device nodes and takes absolute names relative to the destination.
        await this.#d.files.tarIn(at.root, at.path, plain, {
          allowDevices: true, allowAbsolute: true,
          ...(opts.noOverwriteDirNonDir ? { noOverwriteDirNonDir: true } : {}), ...(owner ? { owner } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (err) {
        throw notFoundInContainer(err, path, ref);
      }
    });
    this.#d.event('extract-to-dir', c);
  }

  /** uid:gid of a container's User ("name", "uid", "name:group", "uid:gid") from its /etc/passwd and /etc/group. */
  async #lookupUser(root: string, spec: string): Promise<{ uid: number; gid: number }> {
    const [user = '', group = ''] = spec.split(':', 2);
    let uid = 0;
    let gid = 0;
    if (user !== '') {
      if (/^\d+$/.test(user)) {
        uid = Number(user);
        const row = (await this.#readTable(root, '/etc/passwd')).find((r) => r[2] === user);
        gid = row ? Number(row[3]) : 0;
      } else {
        const row = (await this.#readTable(root, '/etc/passwd')).find((r) => r[0] === user);
        if (!row) throw invalid(`unable to find user ${user}: no matching entries in passwd file`);
        uid = Number(row[2]);
        gid = Number(row[3]);
      }
    }
    if (group !== '') {
      if (/^\d+$/.test(group)) gid = Number(group);
      else {
        const row = (await this.#readTable(root, '/etc/group')).find((r) => r[0] === group);
        if (!row) throw invalid(`unable to find group ${group}: no matching entries in group file`);
        gid = Number(row[2]);
      }
    }
    return { uid, gid };
  }

  /** A colon-separated table file of the container, read through the helper (it may be a symlink anywhere). */
  async #readTable(root: string, file: string): Promise<string[][]> {
    const text = await readTarFile(this.#d.files.tarOut(root, file, 'f'), 1024 * 1024).catch(() => '');
    return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  }

  /** GET /containers/{id}/export: the merged filesystem as one tar, entries relative to "/". */
  async export(ref: string): Promise<Readable> {
    const c = this.#d.resolve(ref);
    let result!: (r: Readable) => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<Readable>((res, rej) => { result = res; failed = rej; });
    void this.#d.withRootfs(c.id, async (root) => {
      const stream = this.#d.files.tarOut(root, '/', '');
      const finished = new Promise<void>((r) => stream.once('close', r));
      result(stream);
      await finished;
    }).catch((err: unknown) => failed(err));
    const stream = await ready;
    this.#d.event('export', c);
    return stream;
  }

  /**
   * `diff`: what the writable layer adds, modifies and deletes, by path, sorted. A directory that is only a parent of changes and whose own metadata is
   * unchanged is left out, as dockerd does.
   */
  async changes(ref: string): Promise<FileChange[]> {
    const c = this.#d.resolve(ref);
    const upper = this.#d.upperPath(c.id);
    const lowers = await this.#d.imageLayerDirs(c.imageId);
    const entries = await this.#d.files.walk(upper).catch((err: unknown) => {
      if (kindOf(err) === 'NotFound') return [];
      throw err;
    });
    const out: FileChange[] = [];
    /** Directories changed only in mtime: kept only when something below them is reported. */
    const touched = new Set<string>();
    for (const e of entries) {
      const path = `/${e.path}`;
      if (e.kind === 'whiteout') {
        out.push({ path, kind: 'deleted' });
        continue;
      }
      // Mount targets the runtime creates; dockerd keeps them in an init layer diff never shows.
      if (INIT_PATHS.has(path)) continue;
      const mine = await lstatOrNull(join(upper, e.path));
      if (!mine) continue;
      let kind: 'modified' | 'added' | null = 'added';
      for (const dir of lowers) {
        const theirs = await lstatOrNull(join(dir, e.path));
        if (!theirs) continue;
        if (theirs.isCharacterDevice() && theirs.rdev === 0) break; // whited out below: added again
        kind = 'modified';
        if (e.kind === 'dir' && theirs.isDirectory() && theirs.mode === mine.mode) {
          if (Math.floor(theirs.mtimeMs / 1000) === Math.floor(mine.mtimeMs / 1000)) kind = null; // an unchanged parent
          else touched.add(path);
        }
        break;
      }
      if (kind !== null) out.push({ path, kind });
    }
    const reported = out.filter((c) => !touched.has(c.path));
    const kept = out.filter((c) => !touched.has(c.path) || reported.some((r) => r.path.startsWith(`${c.path}/`)));
    return kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

const INIT_PATHS = new Set(['/.dockerenv', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/dev/console', '/dev/pts', '/dev/shm']);

function checkPath(path: string | null | undefined): string {
  if (!path) throw invalid('path cannot be empty');
  return path;
}

/** dockerd's containerFileNotFound for a missing path; other errors pass through. */
function notFoundInContainer(err: unknown, path: string, ref: string): unknown {
  if (kindOf(err) === 'NotFound') return new EngineError('NotFound', `Could not find the file ${path} in container ${ref}`, { cause: err });
  return err;
}

/** The content of the first regular file in a tar stream, up to `max` bytes. */
async function readTarFile(stream: Readable, max: number): Promise<string> {
  const extract = tar.extract();
  stream.pipe(extract);
  stream.once('error', (e) => extract.destroy(e));
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const b of entry) {
      n += (b as Buffer).length;
      if (n > max) throw invalid('file too large');
      chunks.push(b as Buffer);
    }
    if (entry.header.type === 'file') {
      stream.destroy();
      return Buffer.concat(chunks).toString('utf8');
    }
  }
  return '';
}
