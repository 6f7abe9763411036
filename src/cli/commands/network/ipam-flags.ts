/**
 * `network create` IPAM flags consolidated into the API's IPAM object the way docker CLI 28's
 * createIPAMConfig does: each --ip-range, --gateway and --aux-address is attached to the
 * --subnet that contains it, with docker's error messages. Pure.
 */
import { isIP } from 'node:net';
import type * as api from '../../../api/types/index.ts';

/** Parsed address bytes (4 for IPv4, 16 for IPv6), or undefined when Go's net.ParseIP says nil. */
export function ipBytes(s: string): number[] | undefined {
  if (s.includes('%')) return undefined;
  const v = isIP(s);
  if (v === 4) return s.split('.').map(Number);
  if (v !== 6) return undefined;
  let text = s;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    text = `${text.slice(0, -dotted[1]!.length)}0:0`;
  }
  const [head = '', rest] = text.split('::') as [string, string?];
  const groups = (p: string): number[] => (p === '' ? [] : p.split(':').map((g) => parseInt(g, 16)));
  const hi = groups(head);
  const lo = rest === undefined ? [] : groups(rest);
  const words = [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  // An IPv4-mapped IPv6 address is an IPv4 address to Go (ip.To4() != nil).
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

interface Cidr { ip: number[]; bits: number }

/** Go's net.ParseCIDR; throws `invalid CIDR address: S`. */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  const ip = slash > 0 ? ipBytes(s.slice(0, slash)) : undefined;
  const mask = s.slice(slash + 1);
  const bits = Number(mask);
  if (!ip || !/^[0-9]+$/.test(mask) || bits > ip.length * 8) throw new Error(`invalid CIDR address: ${s}`);
  return { ip, bits };
}

function contains(net: Cidr, ip: number[] | undefined): boolean {
  if (!ip || ip.length !== net.ip.length) return false;
  for (let bit = 0; bit < net.bits; bit++) {
    const byte = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((net.ip[byte]! & m) !== (ip[byte]! & m)) return false;
  }
  return true;
}

/** docker's subnetMatches: is `data` (an address or a CIDR's address) inside `subnet`? */
function subnetMatches(subnet: string, data: string): boolean {
  let net: Cidr;
  try { net = parseCidr(subnet); } catch (err) { throw new Error(`invalid subnet: ${(err as Error).message}`); }
  return contains(net, data.includes('/') ? parseCidr(data).ip : ipBytes(data));
}

/** The IPAM flags of `network create`. Repeated flags keep their order; aux addresses are key=value. */
export interface IpamFlags {
  driver: string;
  subnets: readonly string[];
  ipRanges: readonly string[];
  gateways: readonly string[];
  auxAddresses: ReadonlyMap<string, string>;
  options: Readonly<Record<string, string>>;
}

/**
 * createIPAMConfig from docker CLI 28. Configs come out in --subnet order (docker iterates a Go
 * map, so its order is random). Throws Error with docker's message.
 */
export function createIpamConfig(o: IpamFlags): api.IpamConfigWire {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) {
    throw new Error('every ip-range or gateway must have a corresponding subnet');
  }
  const data = new Map<string, api.IpamPoolConfig & { AuxiliaryAddresses: Record<string, string> }>();
  for (const s of o.subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of o.ipRanges) {
    let match = false;
    for (const s of o.subnets) {
      parseCidr(r);
      if (!subnetMatches(s, r)) continue;
      const d = data.get(s)!;
      if (d.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${d.IPRange}) on the same subnet (${s})`);
      d.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of o.gateways) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, g)) continue;
      const d = data.get(s)!;
      if (d.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${d.Gateway}) for the same subnet (${s})`);
      d.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  for (const [key, aa] of o.auxAddresses) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, aa)) continue;
      data.get(s)!.AuxiliaryAddresses[key] = aa;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${aa}`);
  }
  // AuxiliaryAddresses is omitempty in Go's IPAMConfig.
  const config = [...data.values()].map(({ AuxiliaryAddresses, ...rest }) =>
    (Object.keys(AuxiliaryAddresses).length ? { ...rest, AuxiliaryAddresses } : rest));
  return { Driver: o.driver, Options: { ...o.options }, Config: config };
}
