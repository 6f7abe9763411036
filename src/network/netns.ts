/**
 * Named network namespaces kept as files under the daemon's exec root (not /run/netns, so two
 * daemons never see each other's): `unshare --net=FILE` creates the namespace and bind-mounts
 * its nsfs handle on FILE, which the OCI runtime then joins by path. `ip -n` only knows
 * /run/netns, so commands inside a namespace run as `nsenter --net=FILE ip -batch -` — one
 * process for any number of commands.
 *
 * Errors: Conflict when the file already exists, Internal when a host tool fails (its stderr in
 * the message). Removal is idempotent.
 */
import { open, unlink } from 'node:fs/promises';
import { EngineError, isErrno } from '../lib/errors.ts';
import type { ExecFn } from '../lib/exec.ts';

export interface NetnsDeps {
  exec: ExecFn;
}

/** Turns a failed `ip` run into an EngineError; "File exists" is a Conflict (name taken). */
export function ipError(what: string, stderr: string): EngineError {
  const msg = `${what}: ${stderr.trim().replace(/\s*\n\s*/g, '; ') || 'failed'}`;
  if (/File exists/.test(stderr)) return new EngineError('Conflict', msg);
  if (/Cannot find device|does not exist/.test(stderr)) return new EngineError('NotFound', msg);
  return new EngineError('Internal', msg);
}

/**
 * Creates a namespace bound at `path` and runs `commands` (ip batch lines, e.g. from
 * link.ts endpointCommands) inside it in the same process, so a new namespace with its
 * interface configured costs one exec. Loopback is always brought up. On any failure nothing
 * is left behind (the namespace, and interfaces created inside it, die with the unmount).
 */
export async function createNetns(deps: NetnsDeps, path: string, commands: readonly string[] = []): Promise<void> {
  try {
    await (await open(path, 'wx')).close();
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw new EngineError('Conflict', `network namespace ${path} already exists`, { cause: err });
    throw new EngineError('Internal', `create network namespace ${path}`, { cause: err });
  }
  const batch = ['link set lo up', ...commands, ''].join('\n');
  const r = await deps.exec('unshare', [`--net=${path}`, 'ip', '-batch', '-'], { input: batch }).catch((err: unknown) => ({
    exitCode: -1,
    stdout: '',
    stderr: String(err),
  }));
  if (r.exitCode !== 0) {
    await removeNetns(deps, path).catch(() => undefined);
    throw ipError(`create network namespace ${path}`, r.stderr);
  }
}

/** Runs ip batch lines inside an existing namespace (e.g. `network connect` adding eth1). */
export async function runInNetns(deps: NetnsDeps, path: string, commands: readonly string[]): Promise<void> {
  if (commands.length === 0) return;
  const r = await deps.exec('nsenter', [`--net=${path}`, 'ip', '-batch', '-'], { input: [...commands, ''].join('\n') });
  if (r.exitCode !== 0) throw ipError(`configure network namespace ${path}`, r.stderr);
}

/**
 * Unmounts and deletes the namespace file. Idempotent: a missing file or an already unmounted
 * one is fine. The kernel frees the namespace (and its interfaces, hence their veth peers) when
 * the last process inside it exits.
 */
export async function removeNetns(deps: NetnsDeps, path: string): Promise<void> {
  const r = await deps.exec('umount', [path]);
  if (r.exitCode !== 0 && !/not mounted|no mount point|No such file|not found/i.test(r.stderr)) {
    throw new EngineError('Internal', `unmount network namespace ${path}: ${r.stderr.trim()}`);
  }
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw new EngineError('Internal', `remove network namespace ${path}`, { cause: err });
  }
}

/** Paths in `/proc/self/mountinfo` text that are nsfs network-namespace mounts (recovery, leak checks). */
export function netnsMounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || !post.startsWith('nsfs ')) continue;
    const f = pre.split(' ');
    if (f[3]?.startsWith('net:')) out.push(unescapeMountPath(f[4] ?? ''));
  }
  return out;
}

const unescapeMountPath = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
