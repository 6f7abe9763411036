import type * as api from '../types/index.ts';
import type { ExecDetails } from '../../engine/index.ts';

/** GET /exec/{id}/json, keys in dockerd's order. */
export function toApiExecInspect(e: ExecDetails): api.ExecInspect {
  const [entrypoint = '', ...args] = e.cmd;
  return {
    CanRemove: false, DetachKeys: e.detachKeys, ID: e.id, Running: e.running, ExitCode: e.exitCode,
    ProcessConfig: { privileged: e.privileged, user: e.user, tty: e.tty, entrypoint, arguments: args },
    OpenStdin: e.attachStdin, OpenStderr: e.attachStderr, OpenStdout: e.attachStdout,
    ContainerID: e.containerId, Pid: e.pid,
  };
}
