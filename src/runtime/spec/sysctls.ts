import { EngineError } from '../../lib/errors.ts';

/** IPC-namespaced sysctls a container may set (Docker's list). */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall',
  'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/**
 * Sysctls Docker sets in every container with its own network namespace unless the user set them:
 * binding ports below 1024 and ICMP echo sockets need no capability inside a container.
 */
export const DEFAULT_NETNS_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

/**
 * Checks `--sysctl` names: only namespaced sysctls (IPC ones, fs.mqueue.*, net.*, and
 * kernel.domainname) are allowed, and never in a namespace shared with the host.
 * Throws InvalidParameter with Docker's wording.
 */
export function validateSysctls(sysctls: Readonly<Record<string, string>>, ns: { netHost: boolean; utsHost: boolean; ipcHost: boolean }): void {
  for (const name of Object.keys(sysctls)) {
    if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) {
      if (ns.ipcHost) throw new EngineError('InvalidParameter', `sysctl "${name}" not allowed with host IPC namespace`);
    } else if (name.startsWith('net.')) {
      if (ns.netHost) throw new EngineError('InvalidParameter', `sysctl "${name}" not allowed in host network namespace`);
    } else if (name === 'kernel.domainname') {
      if (ns.utsHost) throw new EngineError('InvalidParameter', `sysctl "${name}" not allowed with host UTS namespace`);
    } else {
      throw new EngineError('InvalidParameter', `sysctl "${name}" is not whitelisted`);
    }
  }
}
