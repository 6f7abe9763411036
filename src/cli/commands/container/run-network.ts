/**
 * The networking half of `run`/`create` flag handling, ported from docker CLI 28
 * (cli/command/container/opts.go, opts/network.go, go-connections/nat as vendored there):
 * `-p`/`--expose` into ExposedPorts and PortBindings, and `--network` (plain or advanced CSV
 * syntax), `--network-alias`, `--link`, `--ip`, `--ip6`, `--link-local-ip` and `--mac-address`
 * into NetworkingConfig.EndpointsConfig. Pure: errors are thrown as plain Errors carrying docker's
 * message; run-flags.ts decides how they are reported (flag error or "berth: ..." parse error).
 */
import { isIP } from 'node:net';
import type * as api from '../../../api/types/index.ts';

/** Go's strconv.ParseUint(s, 10, 16), with its error text. */
export function parseUint16(s: string): number {
  const q = JSON.stringify(s);
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${q}: invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${q}: value out of range`);
  return n;
}

/** nat.ParsePortRange: "80" or "8000-8010" (only the first two dash-separated parts count, as in Go). */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) { const p = parseUint16(ports); return [p, p]; }
  const parts = ports.split('-');
  const start = parseUint16(parts[0]!);
  const end = parseUint16(parts[1]!);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** nat.SplitProtoPort: "80/udp" → ['udp', '80']; no port → ['', '']; no proto → tcp. */
function splitProtoPort(raw: string): [string, string] {
  const i = raw.indexOf('/');
  const port = i < 0 ? raw : raw.slice(0, i);
  const proto = i < 0 ? '' : raw.slice(i + 1);
  if (port === '') return ['', ''];
  return [proto === '' ? 'tcp' : proto, port];
}

/** Go's net.ParseIP acceptance: dotted IPv4 without leading zeros, or IPv6 without a zone. */
export const isGoIP = (s: string): boolean => !s.includes('%') && isIP(s) !== 0;

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]!];
  if (n === 2) return ['', parts[0]!, parts[1]!];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, parts[n - 1]!];
}

/** `-p published=8080,target=80,protocol=udp` → "8080:80/udp" (convertToStandardNotation). */
function toStandardNotation(spec: string): string {
  if (!spec.includes('=')) return spec;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of spec.split(',')) {
    const i = param.indexOf('=');
    if (i <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, i)] = param.slice(i + 1);
  }
  return `${params['published'] ?? ''}:${params['target'] ?? ''}/${params['protocol']}`;
}

/** One `-p` value → [port key, binding] pairs, exactly as nat.ParsePortSpec in docker CLI 28. */
export function parsePortSpec(raw: string): [string, api.PortBinding][] {
  let [ip, hostPort, containerSpec] = splitParts(raw);
  const [protoRaw, containerPort] = splitProtoPort(containerSpec);
  const proto = protoRaw.toLowerCase();
  // docker 28 (checked against its CLI): an empty container port first, then the proto.
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!/^\[[^\]]*\]$/.test(ip)) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !isGoIP(ip)) throw new Error(`invalid IP address: ${ip}`);
  let c: [number, number];
  try { c = parsePortRange(containerPort); } catch { throw new Error(`invalid containerPort: ${containerPort}`); }
  let h: [number, number] | undefined;
  if (hostPort !== '') {
    try { h = parsePortRange(hostPort); } catch { throw new Error(`invalid hostPort: ${hostPort}`); }
    // A host range of another size is allowed only for a single container port: the daemon
    // picks one free port from it.
    if (c[1] - c[0] !== h[1] - h[0] && c[1] !== c[0]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const count = c[1] - c[0] + 1;
  const out: [string, api.PortBinding][] = [];
  for (let i = 0; i < count; i++) {
    let hp = h ? String(h[0] + i) : '';
    if (h && count === 1 && h[0] !== h[1]) hp += `-${h[1]}`;
    out.push([`${c[0] + i}/${proto}`, { HostIp: ip, HostPort: hp }]);
  }
  return out;
}

/** Ports from `-p` and `--expose`: Config.ExposedPorts and HostConfig.PortBindings. Throws Error. */
export function parsePorts(publish: readonly string[], expose: readonly string[]): { exposed: Record<string, object>; bindings: api.PortMap } {
  const exposed: Record<string, object> = {};
  const bindings: api.PortMap = {};
  for (const spec of publish.map(toStandardNotation)) {
    for (const [key, b] of parsePortSpec(spec)) {
      exposed[key] = {};
      (bindings[key] ??= []).push(b);
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let range: [number, number];
    try { range = parsePortRange(port); } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let p = range[0]; p <= range[1]; p++) exposed[`${p}/${proto}`] ??= {};
  }
  return { exposed, bindings };
}

/** One `--network` value (docker's NetworkAttachmentOpts). */
export interface NetworkAttachment {
  target: string;
  aliases: string[];
  links: string[];
  driverOpts?: Record<string, string>;
  ipv4: string;
  ipv6: string;
  linkLocalIps: string[];
  mac: string;
  gwPriority: number;
}

/** Go's encoding/csv for one line: comma-separated, double quotes group and "" escapes. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * `--network` as opts.NetworkOpt.Set parses it: a plain name, or the advanced syntax
 * `name=n,alias=a,ip=…,ip6=…,mac-address=…,link-local-ip=…,driver-opt=k=v,gw-priority=N`.
 * Docker 28 lowercases the whole field (values too); kept. Throws Error with docker's message.
 */
export function parseNetworkOpt(value: string): NetworkAttachment {
  const n: NetworkAttachment = { target: '', aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIps: [], mac: '', gwPriority: 0 };
  // Docker's regexp is unanchored: any "word=word" anywhere selects the advanced syntax.
  if (!/\w+=\w+/.test(value)) { n.target = value; return n; }
  for (const field of csvFields(value)) {
    const lower = field.toLowerCase();
    const i = lower.indexOf('=');
    if (i <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, i).trim();
    const val = lower.slice(i + 1).trim();
    switch (key) {
      case 'name': n.target = val; break;
      case 'alias': n.aliases.push(val); break;
      case 'ip': n.ipv4 = val; break;
      case 'ip6': n.ipv6 = val; break;
      case 'mac-address': n.mac = val; break;
      case 'link-local-ip': n.linkLocalIps.push(val); break;
      case 'driver-opt': {
        const j = val.indexOf('=');
        if (j <= 0) throw new Error('invalid key value pair format in driver options');
        (n.driverOpts ??= {})[val.slice(0, j).trim()] = val.slice(j + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?[0-9]+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
        n.gwPriority = Number(val);
        break;
      default: throw new Error(`invalid field key ${key}`);
    }
  }
  if (n.target === '') throw new Error('network name/id is not specified');
  return n;
}

/** opts.ValidateLink: `name` or `name:alias`; returns the value unchanged. Throws Error. */
export function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error(`bad format for links: ${val}`);
  return val;
}

/** Go's net.ParseMAC: 6, 8 or 20 bytes as xx:xx…, xx-xx… or xxxx.xxxx…. */
export function isMac(s: string): boolean {
  const colon = /^[0-9a-f]{2}(?:([:-])[0-9a-f]{2})*$/i.exec(s);
  if (colon) {
    const n = (s.length + 1) / 3;
    return [6, 8, 20].includes(n) && (!colon[1] || s.split(colon[1]).length === n);
  }
  return /^[0-9a-f]{4}(?:\.[0-9a-f]{4})*$/i.test(s) && [3, 4, 10].includes((s.length + 1) / 5);
}

/** container.NetworkMode.IsUserDefined on Linux. */
export const isUserDefined = (mode: string): boolean =>
  !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');

/** The container-wide options that apply to the first network (docker: applyContainerOptions). */
export interface ContainerNetOptions {
  aliases: readonly string[];
  links: readonly string[];
  ipv4: string;
  ipv6: string;
  linkLocalIps: readonly string[];
  mac: string;
}

function applyContainerOptions(n: NetworkAttachment, c: ContainerNetOptions): void {
  const conflict = (what: string): Error => new Error(`conflicting options: cannot specify both ${what}`);
  if (n.aliases.length && c.aliases.length) throw conflict('--network-alias and per-network alias');
  if (n.links.length && c.links.length) throw conflict('--link and per-network links');
  if (n.ipv4 && c.ipv4) throw conflict('--ip and per-network IPv4 address');
  if (n.ipv6 && c.ipv6) throw conflict('--ip6 and per-network IPv6 address');
  if (n.mac && c.mac) throw conflict('--mac-address and per-network MAC address');
  if (n.linkLocalIps.length && c.linkLocalIps.length) throw conflict('--link-local-ip and per-network link-local IP addresses');
  if (c.aliases.length) n.aliases = [...c.aliases];
  // On a user-defined network --link makes an alias; on the default bridge it is a legacy link
  // (HostConfig.Links only).
  if (isUserDefined(n.target) && c.links.length) n.links = [...c.links];
  if (c.ipv4) n.ipv4 = c.ipv4;
  if (c.ipv6) n.ipv6 = c.ipv6;
  if (c.mac) n.mac = c.mac;
  if (c.linkLocalIps.length) n.linkLocalIps = [...c.linkLocalIps];
}

/** parseNetworkAttachmentOpt: only the fields that were set (docker sends the rest as zero values). */
function toEndpoint(n: NetworkAttachment): api.EndpointSettings & { GwPriority?: number } {
  if (n.target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefined(n.target)) {
    if (n.aliases.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (n.links.length) throw new Error('links are only supported for user-defined networks');
  }
  const ep: api.EndpointSettings & { GwPriority?: number } = {};
  if (n.gwPriority) ep.GwPriority = n.gwPriority;
  if (n.aliases.length) ep.Aliases = [...n.aliases];
  if (n.driverOpts && Object.keys(n.driverOpts).length) ep.DriverOpts = n.driverOpts;
  if (n.links.length) ep.Links = [...n.links];
  if (n.ipv4 || n.ipv6 || n.linkLocalIps.length) {
    ep.IPAMConfig = {
      ...(n.ipv4 ? { IPv4Address: n.ipv4 } : {}), ...(n.ipv6 ? { IPv6Address: n.ipv6 } : {}),
      ...(n.linkLocalIps.length ? { LinkLocalIPs: [...n.linkLocalIps] } : {}),
    } as api.EndpointSettings['IPAMConfig'];
  }
  if (n.mac) {
    if (!isMac(n.mac.trim())) throw new Error(`${n.mac} is not a valid mac address`);
    ep.MacAddress = n.mac;
  }
  return ep;
}

/**
 * NetworkingConfig.EndpointsConfig as docker CLI 28's parseNetworkOpts builds it. Without
 * --network there is always a "default" entry (carrying --ip, --mac-address, ...); a single
 * --network with nothing to say about its endpoint gets no entry; the container-wide options
 * go to the first network. Throws Error with docker's messages.
 */
export function buildEndpointsConfig(networks: readonly NetworkAttachment[], c: ContainerNetOptions): Record<string, api.EndpointSettings> {
  const endpoints: Record<string, api.EndpointSettings> = {};
  if (networks.length === 0) {
    const n: NetworkAttachment = { target: 'default', aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIps: [], mac: '', gwPriority: 0 };
    applyContainerOptions(n, c);
    endpoints['default'] = toEndpoint(n);
  }
  let userDefined = false;
  let builtin = false;
  networks.forEach((orig, i) => {
    const n = { ...orig, aliases: [...orig.aliases], links: [...orig.links], linkLocalIps: [...orig.linkLocalIps] };
    if (isUserDefined(n.target)) userDefined = true; else builtin = true;
    if (i === 0) applyContainerOptions(n, c);
    const ep = toEndpoint(n);
    if (Object.hasOwn(endpoints, n.target)) throw new Error(`network ${JSON.stringify(n.target)} is specified multiple times`);
    if (i === 0 && networks.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[n.target] = ep;
  });
  if (userDefined && builtin) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return endpoints;
}
