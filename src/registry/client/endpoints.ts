import { BlockList, isIP } from 'node:net';
import type { RegistryOptions } from './contract.ts';
import { EngineError } from '../../lib/errors.ts';

/**
 * Where a registry is reached. Docker's rules (registry/config.go, service_v2.go): docker.io is
 * registry-1.docker.io behind the configured mirrors; any other registry is https://<domain>,
 * followed by http://<domain> when the registry is insecure. An insecure registry's HTTPS
 * certificate is not verified.
 */
export interface Endpoint {
  /** Base URL without trailing slash: "https://registry-1.docker.io", "http://127.0.0.1:5000". */
  base: string;
  /** Skip certificate verification (insecure registry over HTTPS). */
  skipVerify: boolean;
  /** A docker.io mirror: any error falls back to the next endpoint. */
  mirror: boolean;
  /** host[:port] whose /etc/docker/certs.d directory applies. */
  certsKey: string;
}

export const DOCKER_IO = 'docker.io';
export const DOCKER_IO_V2 = 'https://registry-1.docker.io';
/** Docker Hub's v1 index, where `docker search` goes. */
export const DOCKER_INDEX = 'https://index.docker.io';

const isDockerHub = (domain: string) => domain === DOCKER_IO || domain === 'index.docker.io' || domain === 'registry-1.docker.io';

/** Splits "host:port", "[v6]:port" or "host" into host (no brackets) and port. */
export function splitHostPort(domain: string): { host: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(domain);
  if (v6) return v6[2] ? { host: v6[1]!, port: v6[2] } : { host: v6[1]! };
  const i = domain.lastIndexOf(':');
  if (i > 0 && domain.indexOf(':') === i && /^\d+$/.test(domain.slice(i + 1))) return { host: domain.slice(0, i), port: domain.slice(i + 1) };
  return { host: domain };
}

/**
 * True when a registry domain is insecure: listed in `insecureRegistries` as host:port or host,
 * or its address is in a listed CIDR or loopback (127.0.0.0/8, ::1; Docker's default). Names
 * other than "localhost" are not resolved (berth sends no queries to the host resolver here), so
 * a CIDR only matches IP-literal domains.
 */
export function isInsecureRegistry(domain: string, insecureRegistries: readonly string[]): boolean {
  const { host } = splitHostPort(domain);
  const cidrs = new BlockList();
  for (const entry of insecureRegistries) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (e === domain || e === host) return true;
    const m = /^(.+)\/(\d{1,3})$/.exec(e);
    if (m && isIP(m[1]!)) cidrs.addSubnet(m[1]!, Number(m[2]), isIP(m[1]!) === 6 ? 'ipv6' : 'ipv4');
  }
  const addrs = host.toLowerCase() === 'localhost' ? ['127.0.0.1', '::1'] : isIP(host) ? [host] : [];
  for (const addr of addrs) {
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (isLoopback(addr) || cidrs.check(addr, family)) return true;
  }
  return false;
}

function isLoopback(addr: string): boolean {
  if (isIP(addr) === 4) return addr.startsWith('127.');
  const a = addr.toLowerCase();
  return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a);
}

/** A mirror as configured ("https://mirror.example:5000/") → base URL and its host. */
function mirrorEndpoint(mirror: string, options: RegistryOptions): Endpoint | undefined {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(mirror) ? mirror : `https://${mirror}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  return { base, skipVerify: url.protocol === 'https:' && isInsecureRegistry(url.host, options.insecureRegistries), mirror: true, certsKey: url.host };
}

/**
 * The endpoints to try for a registry domain, in order. `withMirrors` is for pulls: docker.io's
 * mirrors come first (pushes and logins go to the origin only).
 */
export function endpointsFor(domain: string, options: RegistryOptions, withMirrors: boolean): Endpoint[] {
  // A domain no URL can hold ("[::1" from `docker login http://[::1`) is the client's mistake, not a 500.
  if (!URL.canParse(`https://${domain}/`)) throw new EngineError('InvalidParameter', `invalid registry address: ${domain}`);
  if (isDockerHub(domain)) {
    const mirrors = withMirrors ? options.mirrors.map((m) => mirrorEndpoint(m, options)).filter((e): e is Endpoint => !!e) : [];
    return [...mirrors, { base: DOCKER_IO_V2, skipVerify: false, mirror: false, certsKey: 'registry-1.docker.io' }];
  }
  if (isInsecureRegistry(domain, options.insecureRegistries)) {
    return [
      { base: `https://${domain}`, skipVerify: true, mirror: false, certsKey: domain },
      { base: `http://${domain}`, skipVerify: false, mirror: false, certsKey: domain },
    ];
  }
  return [{ base: `https://${domain}`, skipVerify: false, mirror: false, certsKey: domain }];
}

/** Base URL of the v1 search index for a domain (Docker Hub's is index.docker.io). */
export function searchBases(domain: string, options: RegistryOptions): Endpoint[] {
  if (isDockerHub(domain)) return [{ base: DOCKER_INDEX, skipVerify: false, mirror: false, certsKey: 'index.docker.io' }];
  return endpointsFor(domain, options, false);
}
