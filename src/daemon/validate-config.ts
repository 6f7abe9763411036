import { isAbsolute } from 'node:path';
import { EngineError, invalid } from '../lib/errors.ts';
import { validateEngineConfig, type CheckedEngineConfig } from '../engine/index.ts';

/** What validateDaemonConfig looks at: the merged configuration, before anything touches the host. */
export interface CheckedConfig extends CheckedEngineConfig {
  hosts: readonly string[];
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  hostResolvConf: string;
}

/**
 * Every value berthd acts on, checked up front, so that a bad one stops the daemon before it has
 * made a directory, a bridge or an nft table (dockerd validates its whole config before it starts
 * the daemon, too). Throws InvalidParameter naming the flag or key.
 */
export function validateDaemonConfig(c: CheckedConfig): void {
  for (const h of c.hosts) checkHost(h);
  for (const [what, p] of [['data-root', c.dataRoot], ['exec-root', c.execRoot], ['pidfile', c.pidFile], ['host-resolv-conf', c.hostResolvConf]] as const) {
    if (!isAbsolute(p)) throw invalid(`invalid ${what} ${JSON.stringify(p)}: must be an absolute path`);
  }
  validateEngineConfig(c);
}

/**
 * `-H`: a unix socket path for now. TCP without TLS would hand root on this host to anyone who
 * can reach the port; dockerd refuses it unless told `--tls=false` explicitly, and berth has no
 * TLS listener yet, so every tcp:// host is refused with the reason.
 */
function checkHost(h: string): void {
  const m = /^([a-z]+):\/\/(.*)$/.exec(h);
  if (!m) throw invalid(`invalid bind address format: ${h}`);
  const [, proto, rest] = m as unknown as [string, string, string];
  if (proto === 'unix') {
    if (!isAbsolute(rest)) throw invalid(`invalid bind address format: ${h}: the socket path must be absolute`);
    return;
  }
  if (proto === 'tcp') {
    throw new EngineError('InvalidParameter', `host ${h}: berthd cannot listen on TCP yet: without TLS anyone who reaches the port gets root access on this machine, and TLS is not implemented; use a unix:// socket`);
  }
  throw invalid(`invalid bind address protocol: ${proto} (${h})`);
}
