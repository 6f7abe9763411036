import { invalid } from '../lib/errors.ts';
import { parseCidr, parseIPv4 } from '../network/index.ts';
import { createPool6, parseCidr6 } from '../network/ipam6.ts';

/** The values of an EngineConfig that validateEngineConfig checks. */
export interface CheckedEngineConfig {
  runtimes: Readonly<Record<string, string>>;
  bip?: string;
  ipv6?: boolean;
  fixedCidrV6?: string;
  defaultAddressPools?: readonly { base: string; size: number }[];
  registryMirrors: readonly string[];
  insecureRegistries: readonly string[];
}

/**
 * The engine's part of the configuration (runtimes, the default bridge and address pools,
 * registry mirrors and insecure registries), checked before anything touches the host, with
 * dockerd's words where it has some. Throws InvalidParameter naming the flag or key.
 */
export function validateEngineConfig(c: CheckedEngineConfig): void {
  for (const [name, path] of Object.entries(c.runtimes)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw invalid(`invalid runtime name ${JSON.stringify(name)}: only [A-Za-z0-9_.-] are allowed`);
    if (path === '') throw invalid(`invalid runtime ${name}: empty path`);
  }
  if (c.bip !== undefined) {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(c.bip);
    const addr = m ? parseIPv4(m[1]!) : undefined;
    if (addr === undefined || Number(m![2]) < 1 || Number(m![2]) > 30) {
      throw invalid(`invalid bip ${c.bip}: expected an IPv4 address with a prefix length of 1 to 30, e.g. 172.17.0.1/16`);
    }
    const cidr = parseCidr(c.bip);
    const hostBits = 2 ** (32 - cidr.prefix) - 1;
    const host = addr - cidr.network;
    if (host === 0 || host === hostBits) throw invalid(`invalid bip ${c.bip}: the address must be a host address of its subnet`);
  }
  // dockerd 27's words (daemon_unix.go initBridgeDriver).
  if (c.ipv6 && !c.fixedCidrV6) throw invalid('IPv6 is enabled for the default bridge, but no subnet is configured. Specify an IPv6 subnet using --fixed-cidr-v6');
  if (c.fixedCidrV6 !== undefined) {
    try { createPool6({ subnet: c.fixedCidrV6 }); } catch (err) { throw invalid(`invalid fixed-cidr-v6 ${c.fixedCidrV6}: ${(err as Error).message}`); }
  }
  for (const p of c.defaultAddressPools ?? []) checkPool(p);
  for (const m of c.registryMirrors) checkMirror(m);
  for (const r of c.insecureRegistries) checkInsecureRegistry(r);
}

function checkPool(p: { base: string; size: number }): void {
  const v6 = p.base.includes(':');
  let prefix: number;
  try { prefix = v6 ? parseCidr6(p.base).prefix : parseCidr(p.base).prefix; } catch { throw invalid(`invalid default address pool base ${JSON.stringify(p.base)}: expected a CIDR`); }
  const max = v6 ? 128 : 30;
  if (!Number.isInteger(p.size) || p.size < prefix || p.size > max) {
    throw invalid(`invalid default address pool ${p.base} size ${p.size}: the size must be between the base's prefix (${prefix}) and ${max}`);
  }
}

/** dockerd's wording (registry.ValidateMirror). */
function checkMirror(m: string): void {
  let u: URL;
  try { u = new URL(m); } catch { throw invalid(`invalid mirror: no scheme specified for "${m}": must use either 'https://' or 'http://'`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${m}"`);
  if (u.username || u.password) throw invalid(`invalid mirror: username/password not allowed in URI "${m}"`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw invalid(`invalid mirror: path, query, or fragment at end of the URI "${m}"`);
}

/** A host[:port] or a CIDR; dockerd refuses a scheme here ("insecure registry ... should not contain '://'"). */
function checkInsecureRegistry(r: string): void {
  if (r.includes('://')) throw invalid(`insecure registry ${r} should not contain '://'`);
  if (r.includes('/')) {
    try { parseCidr(r); return; } catch { throw invalid(`insecure registry ${r} is not a valid CIDR or host[:port]`); }
  }
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(r)) throw invalid(`insecure registry ${r} is not a valid CIDR or host[:port]`);
}
