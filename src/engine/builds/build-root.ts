import { chown, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildRootFs } from '../../build/backend.ts';
import { EngineError, kindOf } from '../../lib/errors.ts';

/** The native helper calls a build root needs (chrooted path resolution and tar in/out). */
export interface RootHelper {
  resolveInRoot(root: string, path: string, opts?: { followSymlinks?: boolean }): Promise<string>;
  tarOut(root: string, path: string, name: string, opts?: { whiteouts?: boolean }): Readable;
  tarIn(root: string, dir: string, input: Readable, opts?: { owner?: { uid: number; gid: number }; allowDevices?: boolean; allowAbsolute?: boolean }): Promise<void>;
}

const notFound = (err: unknown) => err instanceof EngineError && kindOf(err) === 'NotFound';

/**
 * A BuildRootFs over a host directory (a mounted snapshot or the build context): every path goes
 * through the helper's chrooted resolution, so symlinks in the tree cannot lead out of it.
 */
export function rootFs(root: string, h: RootHelper): BuildRootFs {
  const resolve = (p: string, o: { followSymlinks?: boolean } = {}) => h.resolveInRoot(root, p, o);
  const tryResolve = (p: string) => resolve(p).catch((err: unknown) => {
    if (notFound(err)) return undefined;
    throw err;
  });
  const fs: BuildRootFs = {
    root,
    resolve,
    async stat(p) {
      const host = await tryResolve(p);
      if (host === undefined) return null;
      const st = await stat(host).catch(() => null);
      return st && { isDir: st.isDirectory(), mode: st.mode };
    },
    async mkdirp(p, owner) {
      const clean = posix.normalize(`/${p}`);
      if (clean === '/') return;
      const host = await tryResolve(clean);
      if (host !== undefined) return;
      await fs.mkdirp(posix.dirname(clean), owner);
      const parent = await resolve(posix.dirname(clean));
      const dir = `${parent}/${basename(clean)}`;
      await mkdir(dir, { mode: 0o755 });
      if (owner && (owner.uid !== 0 || owner.gid !== 0)) await chown(dir, owner.uid, owner.gid);
    },
    // COPY and ADD keep device nodes and take absolute names in an ADDed archive relative to the
    // destination, as dockerd does; the build context itself is extracted under the layer policy.
    extract: (dir, tar, owner) => h.tarIn(root, dir, tar, { allowDevices: true, allowAbsolute: true, ...(owner ? { owner } : {}) }),
    async readText(p) {
      const host = await tryResolve(p);
      return host === undefined ? '' : readFile(host, 'utf8').catch(() => '');
    },
    async readdir(p) {
      const host = await tryResolve(p);
      return host === undefined ? [] : (await readdir(host).catch(() => [] as string[])).sort();
    },
    tar: (p, name) => h.tarOut(root, p, name),
  };
  return fs;
}
