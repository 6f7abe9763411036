import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { EngineError, isErrno } from '../../lib/errors.ts';
import { parseCapabilityMask } from './capabilities.ts';
import type { HostDevice } from './devices.ts';
import { parseProcLimits, type HostRlimit } from './rlimits.ts';

/**
 * Impure readers of the host facts buildSpec needs (it never reads the host itself). The daemon
 * reads them once at start-up and passes them into every SpecInput.
 */

/** Capabilities in the daemon's bounding set (/proc/self/status CapBnd). */
export async function readHostCapabilities(statusPath = '/proc/self/status'): Promise<string[]> {
  return parseCapabilityMask(await readFile(statusPath, 'utf8'));
}

/** The daemon's current rlimits by ulimit name (/proc/self/limits). */
export async function readHostRlimits(limitsPath = '/proc/self/limits'): Promise<Record<string, HostRlimit>> {
  return parseProcLimits(await readFile(limitsPath, 'utf8'));
}

/** Kernel release string ("6.1.0-18-amd64"), for seccomp minKernel rules. */
export const kernelRelease = (): string => release();

// Directories Docker (runc's HostDevices) skips, and nodes the runtime creates itself.
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
const SKIP_NODES = new Set(['console', 'ptmx']);

/** Linux dev_t → major/minor (glibc's encoding). */
function splitDev(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/**
 * The device node at `path` (symlinks followed, as `--device /dev/x` does). Throws NotFound when
 * it does not exist and InvalidParameter when it is not a character or block device
 * (`error gathering device information while adding custom device "X": not a device node`).
 */
export async function statDevice(path: string): Promise<HostDevice> {
  let st;
  try {
    st = await stat(path, { bigint: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new EngineError('NotFound', `error gathering device information while adding custom device "${path}": no such file or directory`, { cause: err });
    }
    throw err;
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) throw new EngineError('InvalidParameter', `error gathering device information while adding custom device "${path}": not a device node`);
  return { path, type, ...splitDev(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/**
 * Every character and block device under `root` (default /dev), for `--privileged`. Like runc's
 * HostDevices it skips pts, shm, fd, mqueue and console; ptmx too, since the runtime points
 * /dev/ptmx at the container's own devpts. Symlinks are not followed.
 */
export async function listHostDevices(root = '/dev'): Promise<HostDevice[]> {
  const out: HostDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'EACCES')) return;
      throw err;
    }
    for (const name of names.sort()) {
      const p = join(dir, name);
      const st = await lstatBigOrNull(p);
      if (!st) continue;
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) await walk(p);
      } else if ((st.isCharacterDevice() || st.isBlockDevice()) && !(dir === root && SKIP_NODES.has(name))) {
        out.push({ path: p, type: st.isCharacterDevice() ? 'c' : 'b', ...splitDev(st.rdev),
          fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
      }
    }
  };
  await walk(root);
  return out;
}

/** lstat with 64-bit device numbers, or null when the node has gone (a device unplugged meanwhile). */
async function lstatBigOrNull(p: string): Promise<BigIntStats | null> {
  try {
    return await lstat(p, { bigint: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}
