import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type * as api from '../../api/types/index.ts';
import { duBytes } from '../../lib/disk-usage.ts';
import { EngineError, conflict, invalid, notFound } from '../../lib/errors.ts';
import type { ExecFn } from '../../lib/exec.ts';
import { checkFilterKeys, matchLabels, type Filters } from '../../lib/filters.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import type { MountInput } from '../../runtime/spec/mounts.ts';
import type { Db } from '../../store/db.ts';
import type { EventBus } from '../events.ts';
import { VolumeHost, mountPoints } from './host.ts';
import { parseBind, parseLocalOptions, parseMountSpec, parseVolumesFrom, volumeNameProblem, type PlannedMount } from './parse.ts';
import { volumePrunePredicate } from './prune.ts';
import { VolumeRepo, type MountRecord, type VolumeRecord } from './record.ts';

/** The label dockerd (23+) puts on anonymous volumes; `volume prune` without --all takes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** What the volume service needs to know of a container. */
export interface VolumeContainer {
  id: string;
  config: Pick<api.ContainerConfig, 'Volumes'>;
  hostConfig: Pick<api.HostConfig, 'Binds' | 'Mounts' | 'VolumesFrom' | 'Tmpfs' | 'VolumeDriver'>;
}

export interface VolumeServiceDeps {
  db: Db;
  events: EventBus;
  /** <data-root>/volumes */
  root: string;
  exec: ExecFn;
  /** The host path of `path` inside `root`, never outside it (native helper, openat2 RESOLVE_IN_ROOT). */
  resolveInRoot(root: string, path: string): Promise<string>;
  /** A visible container's ID by ID, prefix or name (for --volumes-from); throws NotFound. */
  resolveContainer(ref: string): string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

export interface CreateVolumeRequest {
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/**
 * Local volumes: directories under `<data-root>/volumes/<name>/_data`, or a tmpfs / host directory
 * mounted there (the local driver's `-o type=... device=... o=...`) while a container using the
 * volume runs. A volume is in use while any container, running or not, has a mount point on it.
 *
 * Containers come through four hooks: `plan` at create (parse and check every mount, make the
 * volumes, record the mount points), `setUp` at start (mount, copy-up once, OCI mount inputs),
 * `release` when a run ends, `forget` at rm (with `rm -v`, the anonymous volumes go too).
 * Throws InvalidParameter for bad specs, NotFound for unknown volumes and drivers, Conflict for
 * volumes in use.
 */
export class VolumeService {
  readonly repo: VolumeRepo;
  readonly #host: VolumeHost;
  /** plan, create, remove and prune run one at a time: a volume cannot go while a container takes it. */
  readonly #store = new KeyedMutex();
  /** Per volume: mount, unmount, copy-up. */
  readonly #vol = new KeyedMutex();
  /** Running containers per volume that needs a host mount. */
  readonly #active = new Map<string, Set<string>>();

  constructor(readonly deps: VolumeServiceDeps) {
    this.repo = new VolumeRepo(deps.db);
    this.#host = new VolumeHost(deps.exec);
  }

  /** `<root>/<name>/_data`: what inspect calls the Mountpoint. */
  mountpoint(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  // ---- the volume API ----------------------------------------------------------------------

  async create(req: CreateVolumeRequest): Promise<VolumeRecord> {
    return this.#store.run('store', () => this.#create(req, false));
  }

  /** Checks a request without making anything; returns the name to use. */
  #check(req: CreateVolumeRequest, name: string): void {
    const driver = req.driver || 'local';
    if (driver !== 'local') throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const why = volumeNameProblem(name);
    if (why) throw invalid(`create ${name}: ${why}`);
    try { parseLocalOptions(req.options ?? {}); } catch (err) {
      if (err instanceof EngineError) throw new EngineError(err.kind, `create ${name}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  async #create(req: CreateVolumeRequest, anonymous: boolean): Promise<VolumeRecord> {
    const name = req.name || randomBytes(32).toString('hex');
    const existing = this.repo.get(name);
    // dockerd hands back an existing volume of the same name (and driver).
    if (existing) {
      if (req.driver && req.driver !== existing.driver) throw conflict(`create ${name}: volume name must be unique`);
      return existing;
    }
    this.#check(req, name);
    const labels = { ...(req.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
    const v: VolumeRecord = { name, driver: 'local', createdAt: new Date().toISOString(), labels, options: { ...(req.options ?? {}) }, anonymous, populated: false };
    // The directory first: a row never points at nothing; a directory without a row is swept at start-up.
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    this.repo.insert(v);
    this.deps.events.publish('volume', 'create', name, { driver: v.driver });
    return v;
  }

  /** @throws NotFound `get <name>: no such volume` */
  inspect(name: string): VolumeRecord {
    const v = this.repo.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /**
   * `system df`'s volumes (dockerd's LocalVolumesSize): those without options (a tmpfs or a host
   * directory holds nothing of its own, so dockerd leaves them out), each with the bytes in its
   * directory (-1 when they cannot be counted) and the containers that use it.
   */
  async diskUsage(): Promise<Array<{ volume: VolumeRecord; size: number; refCount: number }>> {
    const out = [];
    for (const v of this.repo.all()) {
      if (Object.keys(v.options).length) continue;
      const size = await duBytes(this.mountpoint(v.name)).catch((err: unknown) => {
        this.deps.log.warn({ err, volume: v.name }, 'volume size');
        return -1;
      });
      out.push({ volume: v, size, refCount: this.repo.usersOf(v.name).length });
    }
    return out;
  }

  /** Filters: dangling, name (substring), label, driver. */
  list(filters: Filters): VolumeRecord[] {
    checkFilterKeys(filters, ['dangling', 'name', 'label', 'driver']);
    const dangling = filters.get('dangling');
    const want = dangling?.length ? dangling.map((d) => parseBoolFilter('dangling', d)) : undefined;
    const used = this.repo.inUse();
    return this.repo.all().filter((v) => {
      if (want && !want.includes(!used.has(v.name))) return false;
      const names = filters.get('name');
      if (names?.length && !names.some((n) => v.name.includes(n))) return false;
      const drivers = filters.get('driver');
      if (drivers?.length && !drivers.includes(v.driver)) return false;
      return matchLabels(v.labels, filters.get('label'));
    });
  }

  /**
   * `force` only forgives a missing volume (dockerd's PurgeOnError); one in use is never removed.
   * @throws NotFound, Conflict `remove <name>: volume is in use - [<ids>]`
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#store.run('store', async () => {
      if (!this.repo.get(name)) {
        if (opts.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.repo.usersOf(name);
      if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      await this.#destroy(name);
    });
  }

  /**
   * Removes unused volumes: anonymous ones, or all with the filter `all=true` (API < 1.42 clients
   * get that from the route); `label` / `label!` as dockerd. InvalidParameter for other filters.
   * @returns the names removed and the bytes they held
   */
  async prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }> {
    volumePrunePredicate(filters, new Set()); // the filters are refused before the lock is taken
    return this.#store.run('store', async () => {
      const takes = volumePrunePredicate(filters, this.repo.inUse());
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const v of this.repo.all()) {
        if (!takes(v)) continue;
        // A volume with options holds nothing of its own (a tmpfs, or someone's host directory).
        const size = Object.keys(v.options).length ? 0 : await duBytes(this.mountpoint(v.name));
        await this.#destroy(v.name);
        deleted.push(v.name);
        reclaimed += size;
      }
      this.deps.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
      return { deleted, reclaimed };
    });
  }

  /** Row first, then the directory (renamed aside, then deleted); never through a mount. */
  async #destroy(name: string): Promise<void> {
    const v = this.repo.get(name);
    this.repo.delete(name);
    await this.#removeDir(name, v ? Object.keys(v.options).length > 0 : false);
    this.deps.events.publish('volume', 'destroy', name, { driver: v?.driver ?? 'local' });
  }

  async #removeDir(name: string, hasOptions: boolean): Promise<void> {
    const dir = join(this.deps.root, name);
    await this.#unmountUnder(dir);
    if (hasOptions) {
      // Its _data was only a mountpoint: an rmdir can never delete anything else.
      await rmdir(join(dir, '_data')).catch(() => undefined);
    }
    const trash = join(this.deps.root, `.trash-${randomBytes(6).toString('hex')}`);
    await rename(dir, trash).catch(() => undefined);
    await rm(trash, { recursive: true, force: true });
  }

  /** Unmounts anything mounted at or below `dir`, deepest first. */
  async #unmountUnder(dir: string): Promise<void> {
    const under = (await mountPoints()).filter((p) => p === dir || p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
    for (const p of under) await this.#host.unmount(p);
  }

  // ---- containers --------------------------------------------------------------------------

  /**
   * A new container's mount points from VolumesFrom, Binds, Mounts and Config.Volumes (dockerd's
   * order); every spec is checked before anything is made. Named volumes are created when missing,
   * anonymous ones get 64-hex names. Records the mount points.
   */
  async plan(c: VolumeContainer): Promise<void> {
    await this.#store.run('store', async () => {
      const points = new Map<string, PlannedMount>();
      const explicit = new Set<string>();
      const tmpfs = new Set(Object.keys(c.hostConfig.Tmpfs ?? {}).map((d) => posix.normalize(d)));
      const dup = (dest: string) => invalid(`Duplicate mount point: ${dest}`);
      for (const spec of c.hostConfig.VolumesFrom ?? []) {
        const { container, readonly } = parseVolumesFrom(spec);
        let from: string;
        try { from = this.deps.resolveContainer(container); } catch (err) { throw invalid((err as Error).message, err); }
        for (const m of this.repo.mountsOf(from)) {
          points.set(m.destination, { ...m, rw: m.rw && !readonly, copyData: false });
        }
      }
      // --volume-driver names the driver of the volumes -v and the image's VOLUMEs create (dockerd's
      // registerMountPoints and createContainerOSSpecificSettings); --mount names its own.
      const volumeDriver = c.hostConfig.VolumeDriver || 'local';
      for (const raw of c.hostConfig.Binds ?? []) {
        const m = parseBind(raw);
        if (m.type === 'volume') m.driver = volumeDriver;
        if (explicit.has(m.destination) || tmpfs.has(m.destination)) throw dup(m.destination);
        explicit.add(m.destination);
        points.set(m.destination, m);
      }
      for (const spec of c.hostConfig.Mounts ?? []) {
        const m = parseMountSpec(spec, (p) => existsSync(p));
        if (explicit.has(m.destination)) throw dup(spec.Target);
        explicit.add(m.destination);
        points.set(m.destination, m);
      }
      for (const dest of Object.keys(c.config.Volumes ?? {})) {
        const d = posix.normalize(dest);
        if (!posix.isAbsolute(d) || d === '/') throw invalid(`invalid volume specification: '${dest}'`);
        if (points.has(d) || tmpfs.has(d)) continue;
        points.set(d, { type: 'volume', source: '', destination: d, driver: volumeDriver, mode: '', rw: true, propagation: '', copyData: true });
      }
      // Every named volume this would create must be creatable: nothing is made otherwise.
      for (const m of points.values()) {
        if (m.type !== 'volume') continue;
        if (m.driver && m.driver !== 'local') this.#check({ driver: m.driver }, m.name ?? '');
        if (m.name && !this.repo.get(m.name)) this.#check({ name: m.name, ...(m.create ? { options: m.create.options } : {}) }, m.name);
      }
      const made: string[] = [];
      try {
        const records: MountRecord[] = [];
        for (const m of points.values()) {
          const { create, ...rec } = m;
          if (rec.type === 'volume') {
            const anonymous = !rec.name;
            const v = await this.#create({ ...(rec.name ? { name: rec.name } : {}), ...(create ? { options: create.options, labels: create.labels } : {}) }, anonymous);
            if (anonymous) made.push(v.name);
            rec.name = v.name;
            rec.source = this.mountpoint(v.name);
            rec.driver = v.driver;
          }
          records.push(rec);
        }
        this.repo.setMounts(c.id, records);
      } catch (err) {
        for (const n of made) await this.#destroy(n).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Before a start: volumes with options mounted on the host, image content copied into new
   * volumes (once), bind sources resolved (a symlink is followed, as Docker does; a missing `-v`
   * source directory is created). Returns the OCI mount inputs.
   */
  async setUp(c: { id: string }, rootfs: string): Promise<MountInput[]> {
    const out: MountInput[] = [];
    const acquired: string[] = [];
    try {
      for (const m of this.repo.mountsOf(c.id)) {
        if (m.type === 'tmpfs') {
          out.push({ type: 'tmpfs', destination: m.destination, ...(m.tmpfs?.sizeBytes ? { sizeBytes: m.tmpfs.sizeBytes } : {}), ...(m.tmpfs?.mode ? { mode: m.tmpfs.mode } : {}), readonly: !m.rw });
          continue;
        }
        if (m.type === 'bind') {
          if (!existsSync(m.source)) {
            if (!m.createSource) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
            await mkdir(m.source, { recursive: true, mode: 0o755 });
          }
          out.push({ type: 'bind', source: await realpath(m.source), destination: m.destination, readonly: !m.rw, propagation: m.propagation, ...(m.nonRecursive ? { nonRecursive: true } : {}) });
          continue;
        }
        const name = m.name!;
        const v = this.repo.get(name);
        if (!v) throw notFound(`get ${name}: no such volume`);
        await this.#acquire(v, c.id);
        acquired.push(name);
        if (m.copyData && !v.populated) await this.#copyUp(v, rootfs, m.destination);
        let source = this.mountpoint(name);
        if (m.subpath) {
          // Resolved inside the volume: a symlink in it cannot lead the mount elsewhere on the host.
          source = await this.deps.resolveInRoot(source, m.subpath).catch((err: unknown) => {
            throw invalid(`cannot access path ${join(source, m.subpath!)}: no such file or directory`, err);
          });
        }
        out.push({ type: 'bind', source, destination: m.destination, readonly: !m.rw, propagation: 'rprivate' });
        this.deps.events.publish('volume', 'mount', name, {
          container: c.id, destination: m.destination, driver: v.driver, propagation: m.propagation, 'read/write': String(m.rw),
        });
      }
    } catch (err) {
      for (const n of acquired) await this.#releaseOne(n, c.id).catch(() => undefined);
      throw err;
    }
    return out;
  }

  /** After a run: volumes with options unmounted from the host once their last container stops. */
  async release(c: { id: string }): Promise<void> {
    for (const m of this.repo.mountsOf(c.id)) {
      if (m.type !== 'volume' || !m.name) continue;
      await this.#releaseOne(m.name, c.id);
      this.deps.events.publish('volume', 'unmount', m.name, { container: c.id, driver: m.driver ?? 'local' });
    }
  }

  /** At rm: the mount points go; with `anonymous`, so do the container's anonymous volumes nobody else uses. */
  async forget(c: { id: string }, opts: { anonymous: boolean }): Promise<void> {
    const mounts = this.repo.mountsOf(c.id);
    for (const m of mounts) if (m.type === 'volume' && m.name) await this.#releaseOne(m.name, c.id).catch(() => undefined);
    await this.#store.run('store', async () => {
      this.repo.deleteMounts(c.id);
      if (!opts.anonymous) return;
      for (const m of mounts) {
        if (m.type !== 'volume' || !m.name) continue;
        const v = this.repo.get(m.name);
        if (v?.anonymous && this.repo.usersOf(v.name).length === 0) await this.#destroy(v.name).catch((err) => this.deps.log.warn({ err, volume: v.name }, 'remove anonymous volume'));
      }
    });
  }

  async #acquire(v: VolumeRecord, containerId: string): Promise<void> {
    await mkdir(this.mountpoint(v.name), { recursive: true, mode: 0o755 });
    const o = parseLocalOptions(v.options);
    if (!o) return;
    await this.#vol.run(v.name, async () => {
      const users = this.#active.get(v.name) ?? new Set<string>();
      if (users.size === 0 && !(await mountPoints()).includes(this.mountpoint(v.name))) await this.#host.mount(this.mountpoint(v.name), o);
      users.add(containerId);
      this.#active.set(v.name, users);
    });
  }

  async #releaseOne(name: string, containerId: string): Promise<void> {
    await this.#vol.run(name, async () => {
      const users = this.#active.get(name);
      if (!users?.delete(containerId) || users.size > 0) return;
      this.#active.delete(name);
      if ((await mountPoints()).includes(this.mountpoint(name))) await this.#host.unmount(this.mountpoint(name));
    });
  }

  /** Docker's copy-up: the image's content at `destination` goes into a new, empty volume, once. */
  async #copyUp(v: VolumeRecord, rootfs: string, destination: string): Promise<void> {
    await this.#vol.run(v.name, async () => {
      if (this.repo.get(v.name)?.populated) return;
      const dst = this.mountpoint(v.name);
      if ((await readdir(dst)).length > 0) return;
      let src: string;
      try { src = await this.deps.resolveInRoot(rootfs, destination); } catch { return; }
      const st = await stat(src).catch(() => undefined);
      if (!st?.isDirectory() || (await readdir(src)).length === 0) return;
      await this.#host.copyInto(src, dst);
      this.repo.markPopulated(v.name);
    });
  }

  /**
   * Start-up: the running containers' volumes count as mounted again; any other volume mount is
   * stale and goes; directories without a row (a create or remove cut short) are swept.
   */
  async recover(running: readonly string[]): Promise<void> {
    await mkdir(this.deps.root, { recursive: true, mode: 0o700 });
    const runningSet = new Set(running);
    const mounted = new Set(await mountPoints());
    for (const v of this.repo.all()) {
      if (!parseLocalOptions(v.options)) continue;
      const users = new Set(this.repo.usersOf(v.name).filter((id) => runningSet.has(id)));
      if (users.size) this.#active.set(v.name, users);
      else if (mounted.has(this.mountpoint(v.name))) await this.#host.unmount(this.mountpoint(v.name)).catch((err) => this.deps.log.warn({ err, volume: v.name }, 'unmount stale volume'));
    }
    for (const e of await readdir(this.deps.root)) {
      if (e.startsWith('.trash-')) { await rm(join(this.deps.root, e), { recursive: true, force: true }); continue; }
      if (this.repo.get(e)) continue;
      this.deps.log.info({ volume: e }, 'recovery: removing volume directory without a record');
      await this.#removeDir(e, false);
    }
  }

  /** At shutdown nothing is unmounted: running containers keep their volumes. */
  close(): void { /* nothing held */ }
}

function parseBoolFilter(key: string, v: string): boolean {
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw invalid(`invalid filter '${key}=${v}'`);
}

