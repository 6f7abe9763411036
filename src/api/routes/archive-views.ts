import type * as api from '../types/index.ts';
import type { FileChange, PathStat } from '../../engine/index.ts';

// Go's os.FileMode bits, which the PathStat header carries (API: "mode" is a Go FileMode).
const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, char: 2 ** 21, sticky: 2 ** 20 };

/** st_mode → Go FileMode (type bits and permission/special bits). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & 0o170000) {
    case 0o040000: m += GO_MODE.dir; break;
    case 0o120000: m += GO_MODE.symlink; break;
    case 0o010000: m += GO_MODE.pipe; break;
    case 0o140000: m += GO_MODE.socket; break;
    case 0o060000: m += GO_MODE.device; break;
    case 0o020000: m += GO_MODE.device + GO_MODE.char; break;
  }
  if (mode & 0o4000) m += GO_MODE.setuid;
  if (mode & 0o2000) m += GO_MODE.setgid;
  if (mode & 0o1000) m += GO_MODE.sticky;
  return m;
}

/** The X-Docker-Container-Path-Stat header's JSON (before base64): Go FileMode, RFC 3339 mtime in ms. */
export function toApiPathStat(s: PathStat): api.ContainerPathStat {
  return {
    name: s.name, size: s.size, mode: goFileMode(s.mode),
    mtime: new Date(Math.floor(s.mtime * 1000)).toISOString(), linkTarget: s.linkTarget,
  };
}

const CHANGE_KINDS: Record<FileChange['kind'], api.ContainerChange['Kind']> = { modified: 0, added: 1, deleted: 2 };

/** GET /containers/{id}/changes: Docker's kinds are numbers (0 modified, 1 added, 2 deleted). */
export function toApiChanges(changes: readonly FileChange[]): api.ContainerChange[] {
  return changes.map((c) => ({ Path: c.path, Kind: CHANGE_KINDS[c.kind] }));
}
