import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, isErrno } from '../../lib/errors.ts';
import type { ExecFn } from '../../lib/exec.ts';
import { readdirOrEmpty } from '../../lib/fs-probes.ts';

/** The host's cgroup mounts. */
export interface CgroupLayout {
  /** 1: only v1 hierarchies; 2: unified only; 'hybrid': v1 controllers plus a cgroup2 mount. */
  version: 1 | 2 | 'hybrid';
  /** v1 controller (or `name=systemd`) → its mount point; co-mounted controllers share one. */
  v1Controllers: Map<string, string>;
  /** Mount point of the cgroup2 hierarchy (/sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid). */
  unifiedMount?: string;
  hugetlbOnV1: boolean;
}

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio',
  'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

/** Undoes the octal escapes (`\040`) the kernel uses for spaces etc. in mount paths. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * Reads the cgroup layout from /proc/self/mountinfo or /proc/mounts text (either format). Pure.
 * When a hierarchy is mounted twice, the first mount point wins.
 */
export function detectCgroups(mountsText: string): CgroupLayout {
  const v1Controllers = new Map<string, string>();
  let unifiedMount: string | undefined;
  for (const line of mountsText.split('\n')) {
    const f = line.trim().split(/\s+/);
    let fstype: string | undefined;
    let mountpoint: string | undefined;
    let options: string[] = [];
    const dash = f.indexOf('-');
    if (dash >= 6) { // mountinfo: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
      fstype = f[dash + 1];
      mountpoint = f[4];
      options = [...(f[5] ?? '').split(','), ...(f[dash + 3] ?? '').split(',')];
    } else if (f.length >= 4) { // mounts: source mountpoint fstype opts dump pass
      fstype = f[2];
      mountpoint = f[1];
      options = (f[3] ?? '').split(',');
    }
    if (!fstype || !mountpoint) continue;
    mountpoint = unescape(mountpoint);
    if (fstype === 'cgroup2') {
      unifiedMount ??= mountpoint;
    } else if (fstype === 'cgroup') {
      for (const o of options) {
        if ((V1_CONTROLLERS.has(o) || o.startsWith('name=')) && !v1Controllers.has(o)) v1Controllers.set(o, mountpoint);
      }
    }
  }
  const version = v1Controllers.size === 0 ? 2 : unifiedMount ? 'hybrid' : 1;
  const layout: CgroupLayout = { version, v1Controllers, hugetlbOnV1: v1Controllers.has('hugetlb') };
  if (unifiedMount) layout.unifiedMount = unifiedMount;
  return layout;
}

/**
 * Every directory a container's cgroup occupies for a cgroupfs `cgroupsPath` (`/berth-x/<id>`):
 * one per distinct v1 hierarchy plus the unified one (crun and runc both create it on hybrid
 * hosts). Pure. Throws InvalidParameter for a systemd-style (`slice:prefix:name`) or relative path.
 */
export function cgroupPathsFor(cgroupsPath: string, layout: CgroupLayout): string[] {
  if (!cgroupsPath.startsWith('/') || cgroupsPath.includes(':')) {
    throw new EngineError('InvalidParameter', `cgroup path ${cgroupsPath}: only absolute cgroupfs paths are supported`);
  }
  const rel = posix.normalize(cgroupsPath);
  if (rel === '/' || rel.split('/').includes('..')) throw new EngineError('InvalidParameter', `cgroup path ${cgroupsPath}: invalid`);
  const roots = new Set(layout.v1Controllers.values());
  if (layout.unifiedMount) roots.add(layout.unifiedMount);
  return [...roots].map((r) => join(r, rel));
}

/**
 * Names of the cgroups directly under `parent` (a cgroupfs path such as `/berth-x`) in any
 * hierarchy: the containers that have a cgroup, for start-up recovery. Absent parent → [].
 */
export async function cgroupChildren(parent: string, layout: CgroupLayout): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of cgroupPathsFor(parent, layout)) {
    const entries = await readdirOrEmpty(dir);
    for (const e of entries) if (e.isDirectory()) names.add(e.name);
  }
  return [...names];
}

/**
 * Removes cgroup directories (children first, since a cgroup with sub-cgroups cannot go). A
 * missing directory is fine (idempotent). EBUSY — processes still inside, typically exiting — is
 * retried for about a second, then reported as Conflict `remove cgroup X: still in use`.
 */
export async function removeCgroup(paths: readonly string[], opts: { retries?: number } = {}): Promise<void> {
  const retries = opts.retries ?? 20;
  for (const p of paths) await removeTree(p, retries);
}

async function removeTree(dir: string, retries: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name), retries);
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      if (!isErrno(err, 'EBUSY') || attempt >= retries) {
        if (isErrno(err, 'EBUSY')) throw new EngineError('Conflict', `remove cgroup ${dir}: still in use`, { cause: err });
        throw err;
      }
      await sleep(50);
    }
  }
}

export interface EnsureRuntimeOptions {
  mountsPath?: string;
  /** Where to create v1 mount points (default: next to the other v1 hierarchies, /sys/fs/cgroup). */
  cgroupRoot?: string;
}

/**
 * Makes a hybrid host acceptable to crun 1.8, idempotently. Returns the controllers it moved.
 *
 * Finding on the dev/CI machine (kernel 6.18, Debian 12): v1 hierarchies are mounted for cpu,
 * cpuacct, cpuset, memory, devices, freezer, blkio, pids and name=systemd, and cgroup2 is at
 * /sys/fs/cgroup/unified, whose cgroup.controllers lists `hugetlb` — the one controller no v1
 * hierarchy took (net_cls, net_prio, perf_event are v1-only and never appear there). crun 1.8
 * then refuses every container with "cgroups in hybrid mode not supported, drop all controllers
 * from cgroupv2". A controller lives on exactly one hierarchy; mounting it as v1
 * (`mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb`) moves it off cgroup2, which the
 * kernel allows while no v2 cgroup has it in cgroup.subtree_control (it is empty here). After
 * that cgroup.controllers is empty and both crun and runc run containers. So: every controller
 * still listed in the unified cgroup.controllers gets a v1 mount; if it is enabled in the unified
 * root's subtree_control we disable it first. runc does not need this, but it does no harm.
 * Throws Unavailable when a controller cannot be moved (busy in a v2 subtree).
 */
export async function ensureRuntimeCanRun(exec: ExecFn, opts: EnsureRuntimeOptions = {}): Promise<{ moved: string[] }> {
  const layout = detectCgroups(await readFile(opts.mountsPath ?? '/proc/self/mountinfo', 'utf8'));
  if (layout.version !== 'hybrid' || !layout.unifiedMount) return { moved: [] };
  const available = (await readFile(join(layout.unifiedMount, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
  const moved: string[] = [];
  const root = opts.cgroupRoot ?? posix.dirname(layout.unifiedMount);
  for (const controller of available) {
    if (!V1_CONTROLLERS.has(controller) || layout.v1Controllers.has(controller)) continue;
    const target = join(root, controller);
    await makeMountPoint(exec, root, target);
    let r = await exec('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', target]);
    if (r.exitCode !== 0) {
      // Enabled for v2 children: take it out of the root's subtree_control and try once more.
      await writeFile(join(layout.unifiedMount, 'cgroup.subtree_control'), `-${controller}`).catch(() => undefined);
      r = await exec('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', target]);
    }
    if (r.exitCode !== 0) {
      throw new EngineError('Unavailable',
        `cgroup controller ${controller} is active on cgroup v2 at ${layout.unifiedMount} and cannot be moved to a v1 hierarchy ` +
        `(crun refuses hybrid hosts with v2 controllers): ${r.stderr.trim()}`);
    }
    moved.push(controller);
  }
  return { moved };
}

/** mkdir under the cgroup tmpfs, which systemd hosts mount read-only: then remount rw briefly. */
async function makeMountPoint(exec: ExecFn, root: string, target: string): Promise<void> {
  try {
    await mkdir(target, { recursive: true });
  } catch (err) {
    if (!isErrno(err, 'EROFS')) throw err;
    await exec('mount', ['-o', 'remount,rw', root]);
    try {
      await mkdir(target, { recursive: true });
    } finally {
      await exec('mount', ['-o', 'remount,ro', root]);
    }
  }
}
