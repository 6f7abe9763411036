/**
 * Published ports, pure: parsing `-p` specs the way Docker's go-connections/nat ParsePortSpec
 * does, `-P` from ExposedPorts, grouping assigned ports into ranges (one nft rule per range), and
 * the text `docker port` and `docker ps` print. All parse errors are EngineError 'InvalidParameter'
 * with Docker's messages (clients show them verbatim).
 */
import { isIPv6 } from 'node:net';
import { invalid } from '../lib/errors.ts';
import type { Port, PortMap } from '../api/types/index.ts';
import { parseIPv4 } from './ipam.ts';

export type Proto = 'tcp' | 'udp' | 'sctp';

/**
 * One container port as Docker stores it in HostConfig.PortBindings: `hostPort` is '' (pick a
 * free port), '8080', or '8000-8010' (pick one free port from the range; only when the container
 * side is a single port). `hostIp` is '' for all addresses.
 */
export interface PortMapping {
  hostIp: string;
  hostPort: string;
  containerPort: number;
  proto: Proto;
}

/** A contiguous run of published ports after host ports are assigned: one DNAT rule. */
export interface PortRange {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  /** Number of ports in the run (1 for a single port). */
  count: number;
  proto: Proto;
}

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return ['', '', container];
  if (n === 2) return ['', parts[0]!, container];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, container];
}

/** "80/udp" → ['udp', '80']; a missing or empty proto is tcp, as in Docker. */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1 || parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

/** "8000" or "8000-8010" → [start, end]; undefined when malformed. */
export function parsePortRange(s: string): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return [start, end];
}

/**
 * Parses one `-p` value: `80`, `8080:80`, `127.0.0.1:8081:80`, `127.0.0.1::80`,
 * `192.0.2.1:83:80/udp`, `9000-9002:9000-9002`, `8000-8010:80`, `[::1]:80:80`. Ranges expand to
 * one mapping per container port (as Docker stores them). Throws InvalidParameter.
 */
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerSpec] = splitParts(raw);
  const [protoRaw, containerPort] = splitProtoPort(containerSpec);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && parseIPv4(ip) === undefined && !isIPv6(ip)) throw invalid(`invalid IP address: ${ip}`);
  if (containerPort === '') throw invalid(`no port specified: ${raw}<empty>`);
  const c = parsePortRange(containerPort);
  if (!c || c[0] === 0) throw invalid(`invalid containerPort: ${containerPort}`);
  let h: [number, number] | undefined;
  if (hostPort !== '') {
    h = parsePortRange(hostPort);
    if (!h) throw invalid(`invalid hostPort: ${hostPort}`);
  }
  // A host range may only differ in size when the container side is a single port.
  if (h && h[1] - h[0] !== c[1] - c[0] && c[0] !== c[1]) {
    throw invalid(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const proto = protoRaw.toLowerCase();
  if (!PROTOS.includes(proto)) throw invalid(`invalid proto: ${proto}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= c[1] - c[0]; i++) {
    let hp = h ? String(h[0] + i) : '';
    if (h && c[0] === c[1] && h[0] !== h[1]) hp = `${h[0]}-${h[1]}`;
    out.push({ hostIp: ip, hostPort: hp, containerPort: c[0] + i, proto: proto as Proto });
  }
  return out;
}

/** "80/tcp" (an ExposedPorts or PortMap key, proto optional) → [port, proto]. Throws InvalidParameter. */
export function parsePortKey(key: string): [number, Proto] {
  const [proto, port] = splitProtoPort(key);
  const r = parsePortRange(port);
  if (!r || r[0] !== r[1] || r[0] === 0 || !PROTOS.includes(proto.toLowerCase())) throw invalid(`invalid port: ${key}`);
  return [r[0], proto.toLowerCase() as Proto];
}

/** `-P`: every exposed port published to a random host port on all addresses. */
export function publishAllMappings(exposed: Record<string, unknown> | null | undefined): PortMapping[] {
  return Object.keys(exposed ?? {}).map((k) => {
    const [containerPort, proto] = parsePortKey(k);
    return { hostIp: '', hostPort: '', containerPort, proto };
  });
}

/** Mappings → HostConfig.PortBindings shape ({"80/tcp": [{HostIp, HostPort}]}), order kept. */
export function toPortMap(mappings: readonly PortMapping[]): PortMap {
  const map: PortMap = {};
  for (const m of mappings) {
    const key = `${m.containerPort}/${m.proto}`;
    (map[key] ??= []).push({ HostIp: m.hostIp, HostPort: m.hostPort });
  }
  return map;
}

/** Assigned bindings (host ports concrete) from a PortMap, e.g. NetworkSettings.Ports. */
export function fromPortMap(map: PortMap | null | undefined): PortRange[] {
  const out: PortRange[] = [];
  for (const [key, bindings] of Object.entries(map ?? {})) {
    const [containerPort, proto] = parsePortKey(key);
    for (const b of bindings ?? []) {
      const hp = parsePortRange(b.HostPort);
      if (!hp || hp[0] !== hp[1] || hp[0] === 0) throw invalid(`invalid hostPort: ${b.HostPort}`);
      out.push({ hostIp: b.HostIp, hostPort: hp[0], containerPort, proto, count: 1 });
    }
  }
  return out;
}

/**
 * Merges single assigned ports into contiguous runs (same host IP and proto, host and container
 * ports both consecutive) so `-p 9000-9002:9000-9002` becomes one DNAT rule.
 */
export function groupRanges(ports: readonly PortRange[]): PortRange[] {
  const sorted = [...ports].sort(
    (a, b) => a.hostIp.localeCompare(b.hostIp) || a.proto.localeCompare(b.proto) || a.hostPort - b.hostPort,
  );
  const out: PortRange[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (
      last && last.hostIp === p.hostIp && last.proto === p.proto &&
      last.hostPort + last.count === p.hostPort && last.containerPort + last.count === p.containerPort
    ) {
      last.count += p.count;
    } else {
      out.push({ ...p });
    }
  }
  return out;
}

/**
 * `docker port` lines: "80/tcp -> 0.0.0.0:8080", sorted by container port then proto; an empty
 * HostIp prints as 0.0.0.0 (IPv4-only engine).
 */
export function formatPortLines(map: PortMap | null | undefined): string[] {
  const entries = Object.entries(map ?? {})
    .map(([k, v]) => [parsePortKey(k), v] as const)
    .sort(([[pa, ta]], [[pb, tb]]) => pa - pb || ta.localeCompare(tb));
  const lines: string[] = [];
  for (const [[port, proto], bindings] of entries) {
    for (const b of bindings ?? []) lines.push(`${port}/${proto} -> ${joinHostPort(b.HostIp || '0.0.0.0', b.HostPort)}`);
  }
  return lines;
}

const joinHostPort = (ip: string, port: string | number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The API's ContainerSummary.Ports from ExposedPorts and the assigned NetworkSettings.Ports. */
export function toApiPorts(exposed: Record<string, unknown> | null | undefined, assigned: PortMap | null | undefined): Port[] {
  const out: Port[] = [];
  const keys = new Set([...Object.keys(exposed ?? {}), ...Object.keys(assigned ?? {})]);
  for (const key of keys) {
    const [PrivatePort, Type] = parsePortKey(key);
    const bindings = assigned?.[key] ?? [];
    if (bindings.length === 0) out.push({ PrivatePort, Type });
    for (const b of bindings) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort, PublicPort: Number(b.HostPort), Type });
  }
  return out;
}
