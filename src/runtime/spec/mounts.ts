import { posix } from 'node:path';
import { EngineError } from '../../lib/errors.ts';
import type { OciMount } from './types.ts';

/** A bind mount the engine resolved (volume, `-v`, `--mount type=bind`). */
export interface BindMountInput {
  type: 'bind';
  source: string;
  destination: string;
  readonly?: boolean;
  /** private, rprivate (default), shared, rshared, slave, rslave. */
  propagation?: string;
  /** `bind-nonrecursive`: a plain bind instead of rbind. */
  nonRecursive?: boolean;
}

/** A tmpfs mount from `--mount type=tmpfs`. */
export interface TmpfsMountInput { type: 'tmpfs'; destination: string; sizeBytes?: number; mode?: number; readonly?: boolean }

export type MountInput = BindMountInput | TmpfsMountInput;

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const DEFAULT_TMPFS = ['noexec', 'nosuid', 'nodev'];
/** Flag pairs where a user option replaces its opposite. */
const OPPOSITE: Readonly<Record<string, string>> = {
  exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev',
  rw: 'ro', ro: 'rw', atime: 'noatime', noatime: 'atime', diratime: 'nodiratime', nodiratime: 'diratime',
  strictatime: 'nostrictatime', nostrictatime: 'strictatime', relatime: 'norelatime', norelatime: 'relatime',
};

/**
 * Options of a `--tmpfs /path:opts` mount: Docker's defaults (noexec, nosuid, nodev) merged with
 * the user's, where a flag replaces its opposite (`exec` drops `noexec`) and `key=value` replaces
 * the same key. Pure. Throws InvalidParameter for an empty option.
 */
export function mergeTmpfsOptions(userOptions: string): string[] {
  const out = [...DEFAULT_TMPFS];
  for (const raw of userOptions.split(',').map((s) => s.trim())) {
    if (userOptions.trim() === '') break;
    if (raw === '') throw new EngineError('InvalidParameter', `invalid tmpfs option: ${userOptions}`);
    const key = raw.split('=')[0]!;
    const drop = (o: string) => o === raw || o === OPPOSITE[raw] || (raw.includes('=') && o.startsWith(`${key}=`));
    for (let i = out.length - 1; i >= 0; i--) if (drop(out[i]!)) out.splice(i, 1);
    out.push(raw);
  }
  return out;
}

/** OCI mounts for Docker's `HostConfig.Tmpfs` map (`{"/run": "rw,size=64m"}`). */
export function tmpfsMounts(tmpfs: Readonly<Record<string, string>>): OciMount[] {
  return Object.entries(tmpfs).map(([dest, opts]) => {
    checkDestination(dest);
    return { destination: dest, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(opts) };
  });
}

/** OCI mount for one user mount (bind or tmpfs). Throws InvalidParameter for bad paths/propagation. */
export function userMount(m: MountInput): OciMount {
  checkDestination(m.destination);
  if (m.type === 'tmpfs') {
    const options = ['nosuid', 'nodev', 'noexec'];
    if (m.sizeBytes && m.sizeBytes > 0) options.push(`size=${m.sizeBytes}`);
    options.push(`mode=${(m.mode ?? 0o1777).toString(8)}`);
    if (m.readonly) options.push('ro');
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  if (!posix.isAbsolute(m.source)) throw new EngineError('InvalidParameter', `invalid mount config: bind source path must be absolute: ${m.source}`);
  const propagation = m.propagation || 'rprivate';
  if (!PROPAGATIONS.has(propagation)) throw new EngineError('InvalidParameter', `invalid propagation mode: ${propagation}`);
  const options = [m.nonRecursive ? 'bind' : 'rbind', propagation];
  if (m.readonly) options.push('ro');
  return { destination: m.destination, type: 'bind', source: m.source, options };
}

function checkDestination(dest: string): void {
  if (!posix.isAbsolute(dest)) throw new EngineError('InvalidParameter', `invalid mount config: mount destination must be absolute: ${dest}`);
  if (posix.normalize(dest) === '/') throw new EngineError('InvalidParameter', `invalid mount config: destination can't be '/'`);
}

/**
 * Orders mounts so a parent is mounted before anything below it (Docker sorts by path depth), and
 * lets a later mount at the same destination replace an earlier one (user mounts override the
 * defaults, e.g. a `--tmpfs /dev/shm`). Stable for equal depths.
 */
export function orderMounts(defaults: readonly OciMount[], user: readonly OciMount[]): OciMount[] {
  const clean = (d: string) => posix.normalize(d).replace(/\/$/, '');
  const userDests = new Set(user.map((m) => clean(m.destination)));
  const kept = defaults.filter((m) => !userDests.has(clean(m.destination)));
  const depth = (m: OciMount) => clean(m.destination).split('/').length;
  const sortedUser = user.map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map((x) => x.m);
  return [...kept, ...sortedUser];
}

/**
 * The rootfs propagation the user mounts need: a shared or slave bind only propagates when the
 * container's root is itself rshared/rslave (Docker sets it the same way).
 */
export function rootfsPropagationFor(mounts: readonly OciMount[]): string | undefined {
  const opts = mounts.flatMap((m) => (m.type === 'bind' ? m.options ?? [] : []));
  if (opts.some((o) => o === 'shared' || o === 'rshared')) return 'rshared';
  if (opts.some((o) => o === 'slave' || o === 'rslave')) return 'rslave';
  return undefined;
}
