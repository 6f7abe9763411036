import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as api from '../../api/types/index.ts';
import type { BuildBackend, BuildRootFs, RunRequest } from '../../build/backend.ts';
import { EngineError, kindOf } from '../../lib/errors.ts';
import type { Progress } from '../../lib/progress.ts';
import { followLogs } from '../containers/logs.ts';
import type { BuildCache } from './build-cache.ts';
import { rootFs, type RootHelper } from './build-root.ts';
import type { ImageConfig } from '../../image/index.ts';

/** The image service calls a build makes. */
export interface BuildImages {
  resolve(ref: string): Promise<{ id: string; config: ImageConfig; chainIds: string[] }>;
  storeBuilt(opts: { layer?: Readable; layerDir?: string; config: (diffId: string | undefined) => ImageConfig; signal?: AbortSignal }): Promise<string>;
  tag(source: string, target: string): Promise<void>;
  pull?(ref: string, opts: { signal?: AbortSignal }): AsyncIterable<Progress>;
}

/** The container service calls a RUN makes. */
export interface BuildContainers {
  create(body: api.ContainerCreateBody, name?: string): Promise<{ id: string; warnings: string[] }>;
  start(ref: string): Promise<void>;
  wait(ref: string, cond: 'next-exit', signal?: AbortSignal): Promise<api.ContainerWaitResponse>;
  kill(ref: string, signal?: string): Promise<void>;
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  paths(id: string): { logPath: string };
}

/** The snapshotter calls for COPY/WORKDIR snapshots. */
export interface BuildSnapshots {
  prepare(id: string, chainIds: readonly string[], opts?: { volatile?: boolean }): Promise<void>;
  mount(id: string): Promise<string>;
  unmount(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  upperPath(id: string): string;
  diffPath(chainId: string): string;
  setVolatile(id: string): Promise<void>;
  isMounted(id: string): Promise<boolean>;
}

export interface EngineBuildBackendDeps {
  images: BuildImages;
  containers: BuildContainers;
  snapshots: BuildSnapshots;
  helper: RootHelper;
  cache: BuildCache;
  /** <data-root>/build-cache-mounts holds RUN --mount=type=cache dirs. */
  cacheMountRoot: string;
  /** Messages a FROM pull produces go to the build stream. */
  emit?: (m: Progress) => void;
}

/** Label of RUN containers, so start-up recovery can remove those a crash left behind. */
export const BUILD_LABEL = 'io.berth.build';

/** Files the runtime bind-mounts into every container (their empty mount points stay out of layers). */
const ETC_MOUNTS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/** lstat, or null when absent. */
const lstatOrNull = (p: string) => lstat(p).catch(() => null);

/**
 * Removes from a RUN's upper dir the empty files and directories the runtime made as mount
 * points (for --mount targets, secrets, /etc/hosts…) where the image had nothing, so a secret's
 * or cache's mount point never enters the layer. Stops at anything with content, anything the
 * lower layers have, and never walks through a symlink.
 */
export async function pruneMountpoints(upper: string, lowers: readonly string[], targets: readonly string[]): Promise<void> {
  for (const t of targets) {
    const parts = posix.normalize(`/${t}`).split('/').filter(Boolean);
    // Every directory on the way must be a real directory in the upper dir.
    let safe = true;
    for (let i = 1; i < parts.length && safe; i++) {
      const st = await lstatOrNull(join(upper, ...parts.slice(0, i)));
      safe = st?.isDirectory() ?? false;
    }
    if (!safe) continue;
    for (let n = parts.length; n > 0; n--) {
      const rel = parts.slice(0, n);
      const inLower = await Promise.all(lowers.map((l) => lstatOrNull(join(l, ...rel))));
      if (inLower.some((x) => x !== null)) break;
      const host = join(upper, ...rel);
      const st = await lstatOrNull(host);
      if (!st) break;
      const empty = st.isDirectory() ? (await readdir(host)).length === 0 : st.isFile() && st.size === 0;
      if (!empty) break;
      await rm(host, { recursive: false, force: true }).catch(() => undefined);
      if (st.isDirectory()) await rmdir(host).catch(() => undefined);
    }
  }
}

/**
 * True when an overlay upper dir is a complete layer as it stands: with metacopy or redirect_dir
 * on, upper files may hold only metadata or redirects into the lowers, so it must be unpacked from
 * its tar instead. Read once from the overlay module's defaults (berth's mounts do not change them).
 */
let upperIsLayer: boolean | undefined;
function upperDirIsLayer(): boolean {
  if (upperIsLayer === undefined) {
    const param = (n: string) => { try { return readFileSync(`/sys/module/overlay/parameters/${n}`, 'utf8').trim(); } catch { return 'N'; } };
    upperIsLayer = param('metacopy') !== 'Y' && !['Y', 'on', 'follow'].includes(param('redirect_dir'));
  }
  return upperIsLayer;
}

const snapshotId = () => `build-${randomBytes(16).toString('hex')}`;

/** BuildBackend over the engine's services. One per build (it carries that build's emit). */
export class EngineBuildBackend implements BuildBackend {
  constructor(private readonly d: EngineBuildBackendDeps) {}

  async baseImage(ref: string, opts: { pull: boolean; signal: AbortSignal }): Promise<{ id: string; config: ImageConfig }> {
    if (!opts.pull) {
      try {
        const img = await this.d.images.resolve(ref);
        return { id: img.id, config: img.config };
      } catch (err) {
        if (kindOf(err) !== 'NotFound' || !this.d.images.pull) throw err;
      }
    }
    if (this.d.images.pull) {
      for await (const m of this.d.images.pull(ref, { signal: opts.signal })) this.d.emit?.(m);
    }
    const img = await this.d.images.resolve(ref);
    return { id: img.id, config: img.config };
  }

  async imageConfig(id: string): Promise<ImageConfig> {
    return (await this.d.images.resolve(id)).config;
  }

  async cacheGet(key: string): Promise<string | undefined> {
    const id = this.d.cache.get(key);
    if (!id) return undefined;
    return this.d.images.resolve(id).then((i) => i.id, () => undefined);
  }

  cachePut(key: string, imageId: string, parentId: string | null): void {
    this.d.cache.put(key, imageId, parentId);
  }

  storeConfig(blob: ImageConfig): Promise<string> {
    return this.d.images.storeBuilt({ config: () => blob });
  }

  async #withSnapshot<T>(parent: string | null, use: (fs: BuildRootFs, id: string) => Promise<T>): Promise<T> {
    const chains = parent ? (await this.d.images.resolve(parent)).chainIds : [];
    const id = snapshotId();
    try {
      await this.d.snapshots.prepare(id, chains, { volatile: true });
      const root = await this.d.snapshots.mount(id);
      return await use(rootFs(root, this.d.helper), id);
    } finally {
      await this.d.snapshots.remove(id);
    }
  }

  mutate(parent: string | null, edit: (fs: BuildRootFs) => Promise<void>, config: (diffId: string) => ImageConfig, signal: AbortSignal): Promise<string> {
    return this.#withSnapshot(parent, async (fs, id) => {
      await edit(fs);
      await this.d.snapshots.unmount(id);
      const upper = this.d.snapshots.upperPath(id);
      const layer = this.d.helper.tarOut(upper, '/', '', { whiteouts: true });
      return this.d.images.storeBuilt({ layer, ...(upperDirIsLayer() ? { layerDir: upper } : {}), config: (diffId) => config(diffId!), signal });
    });
  }

  withImageRoot<T>(imageId: string | null, use: (fs: BuildRootFs) => Promise<T>): Promise<T> {
    return this.#withSnapshot(imageId, (fs) => use(fs));
  }

  dirFs(dir: string): BuildRootFs {
    return rootFs(dir, this.d.helper);
  }

  async run(req: RunRequest): Promise<{ exitCode: number; imageId?: string }> {
    if (req.parent === null) throw new EngineError('InvalidParameter', 'failed to create shim task: OCI runtime create failed: no such file or directory (RUN in an empty stage)');
    const binds = req.mounts.filter((m) => m.type === 'bind').map((m) => `${m.source}:${m.target}${m.readonly ? ':ro' : ''}`);
    const tmpfs = Object.fromEntries(req.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.target, '']));
    const body: api.ContainerCreateBody = {
      Image: req.parent, Cmd: req.argv, Entrypoint: [''], Env: req.env, User: req.user, WorkingDir: req.workdir,
      Healthcheck: { Test: ['NONE'] }, Labels: { [BUILD_LABEL]: 'run' },
      HostConfig: { NetworkMode: req.networkMode, ExtraHosts: req.extraHosts, Binds: binds, ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}) },
    };
    if (req.signal.aborted) throw new EngineError('Canceled', 'Build cancelled');
    const { id } = await this.d.containers.create(body);
    try {
      // A throwaway rootfs: no whole-disk sync when it is unmounted at the container's exit.
      await this.d.snapshots.setVolatile(id);
      req.started(id);
      const exited = this.d.containers.wait(id, 'next-exit');
      const follow = new AbortController();
      const pump = (async () => {
        for await (const e of followLogs(this.d.containers.paths(id).logPath, { stdout: true, stderr: true }, exited.then(() => undefined, () => undefined), follow.signal)) {
          req.output(e.stream, e.data);
        }
      })();
      const onAbort = () => void this.d.containers.kill(id, 'SIGKILL').catch(() => undefined);
      req.signal.addEventListener('abort', onAbort, { once: true });
      let status: api.ContainerWaitResponse;
      try {
        if (req.signal.aborted) throw new EngineError('Canceled', 'Build cancelled');
        await this.d.containers.start(id);
        // Aborted while starting: the listener fired before there was anything to kill.
        if (req.signal.aborted) onAbort();
        status = await exited;
        await pump;
      } finally {
        req.signal.removeEventListener('abort', onAbort);
        follow.abort();
        await pump.catch(() => undefined);
      }
      if (req.signal.aborted) throw new EngineError('Canceled', 'Build cancelled');
      if (status.StatusCode !== 0) return { exitCode: status.StatusCode };
      const lowers = (await this.d.images.resolve(req.parent)).chainIds.map((c) => this.d.snapshots.diffPath(c));
      await pruneMountpoints(this.d.snapshots.upperPath(id), lowers, [...req.mounts.map((m) => m.target), ...ETC_MOUNTS]);
      const upper = this.d.snapshots.upperPath(id);
      const layer = this.d.helper.tarOut(upper, '/', '', { whiteouts: true });
      // The exited container's rootfs is unmounted: its upper dir can become the layer as it is.
      const layerDir = upperDirIsLayer() && !(await this.d.snapshots.isMounted(id)) ? upper : undefined;
      const imageId = await this.d.images.storeBuilt({ layer, ...(layerDir ? { layerDir } : {}), config: (diffId) => req.config(diffId!), signal: req.signal });
      return { exitCode: 0, imageId };
    } finally {
      // With its anonymous volumes (a VOLUME in the image makes one per RUN), as dockerd's
      // builder removes its containers (RemoveVolume: true).
      await this.d.containers.remove(id, { force: true, volumes: true });
    }
  }

  tag(imageId: string, ref: string): Promise<void> {
    return this.d.images.tag(imageId, ref);
  }

  async cacheMountDir(id: string): Promise<string> {
    const dir = join(this.d.cacheMountRoot, createHash('sha256').update(id).digest('hex').slice(0, 32));
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  async download(url: string, dir: string, signal: AbortSignal): Promise<string> {
    const name = posix.basename(new URL(url).pathname);
    if (!name) throw new EngineError('InvalidParameter', `cannot determine filename from url: ${url}`);
    let res: Response;
    try {
      res = await fetch(url, { signal, redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new EngineError('InvalidParameter', `failed to GET ${url}: ${cause}`, { cause: err });
    }
    if (!res.ok || !res.body) throw new EngineError('InvalidParameter', `failed to GET ${url} with status ${res.status} ${res.statusText}`);
    const sub = join(dir, `download-${randomBytes(6).toString('hex')}`);
    await mkdir(sub, { recursive: true });
    const file = join(sub, name);
    await pipeline(res.body as unknown as Readable, createWriteStream(file, { mode: 0o600 }));
    return file;
  }
}
