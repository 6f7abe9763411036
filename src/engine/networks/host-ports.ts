/**
 * Choosing host ports for a container's published ports: the requested ones checked, random ones
 * picked Docker's way (sequentially through the kernel's ephemeral range), each checked against
 * ports other containers publish and against sockets host processes hold. Without a proxy
 * process per port nothing else would notice a host process already listening there: our DNAT
 * would silently steal its traffic.
 */
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import { readFileSync } from 'node:fs';
import { EngineError } from '../../lib/errors.ts';
import { parsePortKey, parsePortRange, publishAllMappings, type PortMapping, type PortRange, type Proto } from '../../network/index.ts';
import type { PortMap } from '../../api/types/index.ts';

/**
 * One binding to place (ports.ts PortMapping): `hostPort` is '' (any), '8080' or '8000-8010' (any
 * free one in the range); `hostIp` '' for all IPv4 addresses. `dual`: no HostIp given and the
 * container's network is dual-stack, so the port is published on IPv6 ('::') too, as dockerd
 * does, with the same host port.
 */
export type PortRequest = PortMapping & { dual?: boolean };

/** Requests from HostConfig.PortBindings, plus every exposed port with -P. */
export function portRequests(bindings: PortMap | null | undefined, exposed: Record<string, unknown> | null | undefined, publishAll: boolean, dualStack = false): PortRequest[] {
  const out: PortRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const [port, proto] = parsePortKey(key);
    seen.add(`${port}/${proto}`);
    for (const b of list ?? []) {
      // An explicit 0.0.0.0 stays IPv4 only (dockerd); only an unset HostIp covers both families.
      const dual = dualStack && !b.HostIp;
      out.push({ hostIp: normIp(b.HostIp), hostPort: b.HostPort ?? '', containerPort: port, proto, ...(dual ? { dual } : {}) });
    }
  }
  if (publishAll) {
    const all = publishAllMappings(exposed).filter((m) => !seen.has(`${m.containerPort}/${m.proto}`));
    out.push(...all.map((m) => (dualStack ? { ...m, dual: true } : m)));
  }
  return out;
}

const normIp = (ip: string | undefined) => (ip === undefined || ip === '0.0.0.0' ? '' : ip);

/** Whether two host addresses can receive the same packets: '' is every address, '::' every IPv6 one. */
function addressesOverlap(a: string, b: string): boolean {
  return a === '' || b === '' || a === b || (a === '::' && isIPv6(b)) || (b === '::' && isIPv6(a));
}

/** True when two bindings would catch the same packets (same proto and port, addresses overlap). */
export function bindingsClash(a: { hostIp: string; hostPort: number; proto: string; count?: number }, b: { hostIp: string; hostPort: number; proto: string; count?: number }): boolean {
  if (a.proto !== b.proto) return false;
  if (!addressesOverlap(a.hostIp, b.hostIp)) return false;
  const aEnd = a.hostPort + (a.count ?? 1) - 1;
  const bEnd = b.hostPort + (b.count ?? 1) - 1;
  return a.hostPort <= bEnd && b.hostPort <= aEnd;
}

/** The kernel's ephemeral port range, where random host ports come from (Docker does the same). */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch { /* not Linux: Docker's defaults */ }
  return [32768, 60999];
}

/** Whether a host process could be holding the port: we try to bind it ourselves, briefly. */
export async function hostPortFree(hostIp: string, port: number, proto: Proto): Promise<true | string> {
  const address = hostIp || '0.0.0.0';
  if (proto === 'udp') {
    // A '::' socket without IPV6_V6ONLY (Node's default) also checks the IPv4 side.
    const s = dgram.createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    return new Promise((resolve) => {
      s.once('error', (err: NodeJS.ErrnoException) => { s.close(); resolve(err.code ?? 'error'); });
      s.bind(port, address, () => s.close(() => resolve(true)));
    });
  }
  if (proto === 'sctp') return true; // Node has no SCTP sockets; nft still catches a duplicate among ours.
  const srv = net.createServer();
  return new Promise((resolve) => {
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    srv.listen({ port, host: address, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export interface PortPicker {
  /** Ports other running containers publish. */
  taken(): { hostIp: string; hostPort: number; proto: string; count: number }[];
  /** Host-socket check (swappable in unit tests). */
  free(hostIp: string, port: number, proto: Proto): Promise<true | string>;
}

/**
 * Assigns a concrete host port to every request. Throws Conflict with Docker's wording when a
 * requested port is published by another container ("port is already allocated") or held by a
 * host process ("address already in use"); Unavailable when a range has no free port.
 */
export async function assignHostPorts(reqs: readonly PortRequest[], picker: PortPicker, cursor: { next: number }): Promise<PortRange[]> {
  const out: PortRange[] = [];
  const taken = picker.taken();
  const clashes = (b: { hostIp: string; hostPort: number; proto: string }) => [...taken, ...out].some((t) => bindingsClash(t, b));
  const [lo, hi] = ephemeralRange();
  if (cursor.next < lo || cursor.next > hi) cursor.next = lo;
  for (const r of reqs) {
    const shown = `${r.hostIp || '0.0.0.0'}`;
    // A dual request holds the port on both families: checked against both, probed on '::'.
    const holds = (p: number) => [{ hostIp: r.hostIp, hostPort: p, proto: r.proto }, ...(r.dual ? [{ hostIp: '::', hostPort: p, proto: r.proto }] : [])];
    const probe = r.dual ? '::' : r.hostIp;
    const place = (p: number) => {
      out.push({ hostIp: r.hostIp, hostPort: p, containerPort: r.containerPort, proto: r.proto, count: 1 });
      if (r.dual) out.push({ hostIp: '::', hostPort: p, containerPort: r.containerPort, proto: r.proto, count: 1 });
    };
    if (r.hostPort !== '' && r.hostPort !== '0') {
      const range = parsePortRange(r.hostPort);
      if (!range || range[0] < 1 || range[1] > 65535) throw new EngineError('InvalidParameter', `invalid port specification: "${r.hostPort}"`);
      let chosen: number | undefined;
      let lastErr = '';
      for (let p = range[0]; p <= range[1] && chosen === undefined; p++) {
        if (holds(p).some(clashes)) { lastErr = 'allocated'; continue; }
        const free = await picker.free(probe, p, r.proto);
        if (free === true) chosen = p;
        else lastErr = free;
      }
      if (chosen === undefined) {
        if (range[0] === range[1]) throw portError(shown, range[0], r.proto, lastErr);
        throw new EngineError('Unavailable', `Bind for ${joinHostPort(shown, r.hostPort)} failed: no free port in the range`);
      }
      place(chosen);
      continue;
    }
    let chosen: number | undefined;
    for (let i = 0; i <= hi - lo && chosen === undefined; i++) {
      const p = lo + ((cursor.next - lo + i) % (hi - lo + 1));
      if (holds(p).some(clashes)) continue;
      const free = await picker.free(probe, p, r.proto);
      if (free === true) chosen = p;
      else if (free === 'EADDRNOTAVAIL') throw portError(shown, p, r.proto, free);
    }
    if (chosen === undefined) throw new EngineError('Unavailable', `all ports are allocated`);
    cursor.next = chosen + 1 > hi ? lo : chosen + 1;
    place(chosen);
  }
  return out;
}

const joinHostPort = (ip: string, port: number | string): string => (isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`);

function portError(ip: string, port: number, proto: string, why: string): EngineError {
  if (why === 'allocated') return new EngineError('Conflict', `Bind for ${joinHostPort(ip, port)} failed: port is already allocated`);
  const text = why === 'EADDRINUSE' ? 'address already in use' : why === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : why;
  const at = joinHostPort(ip, port);
  return new EngineError('Conflict', `failed to bind port ${at}/${proto}: listen ${proto}${isIPv6(ip) ? 6 : 4} ${at}: bind: ${text}`);
}

/** Assigned ranges back to the NetworkSettings.Ports shape, with every exposed port listed. */
export function assignedPortMap(exposed: Record<string, unknown> | null | undefined, ports: readonly PortRange[]): PortMap {
  const map: PortMap = {};
  for (const key of Object.keys(exposed ?? {})) map[key] = null;
  for (const p of ports) {
    for (let i = 0; i < p.count; i++) {
      const key = `${p.containerPort + i}/${p.proto}`;
      const list = map[key] ?? [];
      list.push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort + i) });
      map[key] = list;
    }
  }
  return map;
}
