/**
 * The built-in registry server (`berth registry serve|gc`): an OCI distribution (v2) registry
 * on a local filesystem, with htpasswd basic auth, optional TLS, and mark-and-sweep gc.
 */
import { readFile } from 'node:fs/promises';
import { HtpasswdAuth, parseHtpasswd } from './htpasswd.ts';
import { RegistryServer } from './server.ts';

export { RegistryServer, type RegistryServerOptions } from './server.ts';
export { collectGarbage, markReferenced, type GcOptions, type GcResult } from './gc.ts';
export { HtpasswdAuth, parseHtpasswd, parseBasicAuth } from './htpasswd.ts';
export { FsRegistryStorage } from './storage.ts';

/**
 * `host:port` as the --addr flag takes it: `:5000` listens on every address, a bracketed IPv6
 * host is unbracketed. @throws Error for anything else.
 */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(addr)}: expected host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** What `berth registry serve` takes: file paths rather than their contents. */
export interface ServeConfig {
  addr: string;
  root: string;
  htpasswdFile?: string;
  realm?: string;
  tlsCert?: string;
  tlsKey?: string;
  deleteEnabled?: boolean;
  log?: (line: string) => void;
}

/**
 * Reads the htpasswd file and TLS pair, builds the server and starts it listening.
 * @throws Error for an unreadable or malformed file, a bad address, or a port in use.
 */
export async function startRegistry(c: ServeConfig): Promise<{ server: RegistryServer; url: string }> {
  const { host, port } = parseListenAddress(c.addr);
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key must be given together');
  const auth = c.htpasswdFile === undefined ? undefined : new HtpasswdAuth(parseHtpasswd(await readFile(c.htpasswdFile, 'utf8')));
  const tls = c.tlsCert !== undefined && c.tlsKey !== undefined ? { cert: await readFile(c.tlsCert), key: await readFile(c.tlsKey) } : undefined;
  const server = new RegistryServer({
    root: c.root, host, port, realm: c.realm ?? 'Registry Realm', deleteEnabled: c.deleteEnabled ?? false,
    ...(auth ? { auth } : {}), ...(tls ? { tls } : {}), ...(c.log ? { log: c.log } : {}),
  });
  const bound = await server.listen();
  const shown = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
  return { server, url: `${tls ? 'https' : 'http'}://${shown}:${bound.port}` };
}
