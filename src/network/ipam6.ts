/**
 * Pure IPv6 address management for dual-stack bridge networks, the IPv6 twin of ipam.ts:
 * parsing and formatting (Go's netip text form, which clients compare against), pool validation
 * (subnet, gateway, ip-range), serial allocation and release, overlap checks, and choosing a
 * subnet from the IPv6 entries of default-address-pools. Addresses are BigInts. No I/O.
 *
 * Errors: EngineError 'InvalidParameter' for bad input, 'Conflict' for an address or subnet
 * already taken, 'Unavailable' when a pool is full.
 */
import { isIPv6 } from 'node:net';
import { EngineError, invalid } from '../lib/errors.ts';
import type { DefaultPool } from './ipam.ts';

/** An IPv6 CIDR block; `network` is the masked address. */
export interface Cidr6 {
  network: bigint;
  prefix: number;
}

export interface Pool6 {
  subnet: string;
  gateway: string;
  ipRange?: string;
}

const ALL = (1n << 128n) - 1n;
const maskOf = (prefix: number): bigint => (ALL >> BigInt(128 - prefix)) << BigInt(128 - prefix);

/** Parses an IPv6 address (no zone, no IPv4-mapped form) to a 128-bit BigInt; undefined when malformed. */
export function parseIPv6(s: string): bigint | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  // ::ffff:a.b.c.d is an IPv4 address to Go's netip (Unmap); berth's IPv6 pools never hold one.
  if (n >> 32n === 0xffffn) return undefined;
  return n;
}

/** RFC 5952 text, as Go's netip.Addr.String: lower case, the longest run of two or more zero groups as "::". */
export function formatIPv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an IPv6 address, or undefined when it is not one. */
export function canonicalIPv6(s: string): string | undefined {
  const n = parseIPv6(s);
  return n === undefined ? undefined : formatIPv6(n);
}

/** Parses "addr/n" (IPv6). With `strict`, host bits must be zero (dockerd 27's ValidateIPAM). Throws InvalidParameter. */
export function parseCidr6(s: string, opts: { strict?: boolean } = {}): Cidr6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  const addr = m ? parseIPv6(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (addr === undefined || !(prefix >= 0 && prefix <= 128)) throw invalid(`invalid CIDR address: ${s}`);
  const network = addr & maskOf(prefix);
  if (opts.strict && network !== addr) throw invalid(`invalid subnet ${s}: it should be ${formatIPv6(network)}/${prefix}`);
  return { network, prefix };
}

export const formatCidr6 = (c: Cidr6): string => `${formatIPv6(c.network)}/${c.prefix}`;
export const lastOf6 = (c: Cidr6): bigint => c.network | (ALL >> BigInt(c.prefix));
export const cidr6Contains = (c: Cidr6, ip: bigint): boolean => (ip & maskOf(c.prefix)) === c.network;
export const cidrs6Overlap = (a: Cidr6, b: Cidr6): boolean => a.network <= lastOf6(b) && b.network <= lastOf6(a);

/** Whether text is an IPv6 CIDR (what routes an IPAM config entry to this module). */
export const isIPv6Cidr = (s: string): boolean => s.includes(':');

/**
 * Validates an IPv6 pool as `network create --ipv6 --subnet --gateway --ip-range` does: host
 * bits must be zero, the gateway (default: the first address after the subnet's own) and the
 * range lie in the subnet, and the subnet overlaps none of `existingSubnets`.
 */
export function createPool6(spec: { subnet: string; gateway?: string; ipRange?: string }, existingSubnets: readonly string[] = []): Pool6 {
  const subnet = parseCidr6(spec.subnet, { strict: true });
  if (subnet.prefix > 126) throw invalid(`invalid subnet ${spec.subnet}: too small for a bridge network`);
  for (const other of existingSubnets) {
    if (cidrs6Overlap(subnet, parseCidr6(other))) throw new EngineError('Conflict', 'Pool overlaps with other one on this address space');
  }
  let gateway = subnet.network + 1n;
  if (spec.gateway) {
    const g = parseIPv6(spec.gateway);
    if (g === undefined) throw invalid(`invalid gateway address ${spec.gateway}`);
    if (!cidr6Contains(subnet, g)) throw invalid(`no matching subnet for gateway ${spec.gateway}`);
    if (g === subnet.network) throw invalid(`invalid gateway address ${spec.gateway}: the subnet's own address`);
    gateway = g;
  }
  const pool: Pool6 = { subnet: formatCidr6(subnet), gateway: formatIPv6(gateway) };
  if (spec.ipRange) {
    const range = parseCidr6(spec.ipRange, { strict: true });
    if (!cidr6Contains(subnet, range.network) || range.prefix < subnet.prefix) throw invalid(`no matching subnet for range ${spec.ipRange}`);
    pool.ipRange = formatCidr6(range);
  }
  return pool;
}

/**
 * Leases of one IPv6 pool, reconstructed from the persisted leases like ipam.ts AddressPool.
 * Serial like dockerd 25+ (gateway ::1, then ::2, ::3, ...), continuing after the last address
 * handed out. The subnet's own address (the subnet-router anycast) is never handed out.
 */
export class AddressPool6 {
  readonly subnet: Cidr6;
  readonly range: Cidr6;
  readonly gateway: bigint;
  private readonly used = new Set<bigint>();
  private readonly reserved = new Set<bigint>();
  private cursor: bigint;

  constructor(readonly pool: Pool6, leases: Iterable<string> = [], reserved: Iterable<string> = []) {
    this.subnet = parseCidr6(pool.subnet);
    this.range = pool.ipRange ? parseCidr6(pool.ipRange) : this.subnet;
    this.gateway = mustIPv6(pool.gateway);
    for (const r of reserved) this.reserved.add(mustIPv6(r));
    this.cursor = this.range.network;
    for (const l of leases) {
      const n = mustIPv6(l);
      this.used.add(n);
      if (n > this.cursor && cidr6Contains(this.range, n)) this.cursor = n;
    }
  }

  leases(): string[] {
    return [...this.used].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(formatIPv6);
  }

  private isUsable(n: bigint): boolean {
    return n !== this.subnet.network && n !== this.gateway && !this.reserved.has(n);
  }

  /**
   * Leases `requested` (--ip6) or the next free address; returns it in canonical form. Throws
   * InvalidParameter (malformed, outside the subnet), Conflict (taken), Unavailable (pool full).
   */
  allocate(requested?: string): string {
    if (requested) {
      const n = parseIPv6(requested);
      if (n === undefined) throw invalid(`invalid IPv6 address: ${requested}`);
      if (!cidr6Contains(this.subnet, n)) throw invalid(`no configured subnet or ip-range contain the IP address ${requested}`);
      if (!this.isUsable(n) || this.used.has(n)) throw new EngineError('Conflict', 'Address already in use');
      this.used.add(n);
      return formatIPv6(n);
    }
    const size = lastOf6(this.range) - this.range.network + 1n;
    // Among this many consecutive candidates at least one is free (unless the range is smaller).
    const bound = BigInt(this.used.size + this.reserved.size + 3);
    const tries = size < bound ? size : bound;
    for (let i = 1n; i <= tries; i++) {
      const n = this.range.network + ((this.cursor - this.range.network + i) % size);
      if (this.isUsable(n) && !this.used.has(n)) {
        this.used.add(n);
        this.cursor = n;
        return formatIPv6(n);
      }
    }
    throw new EngineError('Unavailable', 'no available addresses on this pool');
  }

  release(ip: string): void {
    const n = parseIPv6(ip);
    if (n !== undefined) this.used.delete(n);
  }
}

function mustIPv6(s: string): bigint {
  const n = parseIPv6(s);
  if (n === undefined) throw invalid(`invalid IPv6 address: ${s}`);
  return n;
}

/**
 * IPv6 route destinations from `ip -6 -j route` text: the default route, link-local and
 * multicast entries (every interface has them) and routes via `ignoreDevs` are left out.
 */
export function parseHostRoutes6(ipJsonRoute: string, ignoreDevs: readonly string[] = []): Cidr6[] {
  let rows: unknown;
  try {
    rows = JSON.parse(ipJsonRoute.trim() === '' ? '[]' : ipJsonRoute);
  } catch (err) {
    throw invalid('parse ip -6 -j route output', err);
  }
  if (!Array.isArray(rows)) throw invalid('parse ip -6 -j route output: not an array');
  const linkLocal = parseCidr6('fe80::/10');
  const multicast = parseCidr6('ff00::/8');
  const out: Cidr6[] = [];
  for (const r of rows) {
    const dst = (r as { dst?: unknown }).dst;
    if (typeof dst !== 'string' || dst === 'default') continue;
    if (ignoreDevs.includes(String((r as { dev?: unknown }).dev))) continue;
    try {
      const c = parseCidr6(dst.includes('/') ? dst : `${dst}/128`);
      if (!cidrs6Overlap(c, linkLocal) && !cidrs6Overlap(c, multicast)) out.push(c);
    } catch {
      // IPv4 or unusual entries are not our concern.
    }
  }
  return out;
}

/**
 * The first IPv6 subnet from the IPv6 entries of `pools` (each split into blocks of `size`
 * bits) that overlaps neither `inUse` nor the host's routes. dockerd 27 has no built-in IPv6
 * pools: without one, `--ipv6` needs an explicit IPv6 --subnet (its error, word for word).
 */
export function pickDefaultSubnet6(opts: { pools?: readonly DefaultPool[]; inUse?: readonly string[]; hostRoutes?: readonly Cidr6[] }): string {
  const taken = [...(opts.inUse ?? []).map((s) => parseCidr6(s)), ...(opts.hostRoutes ?? [])];
  for (const p of (opts.pools ?? []).filter((x) => isIPv6Cidr(x.base))) {
    const base = parseCidr6(p.base);
    if (!(p.size >= base.prefix && p.size <= 126)) throw invalid(`invalid default address pool ${p.base} size ${p.size}`);
    const step = 1n << BigInt(128 - p.size);
    // A candidate overlapping a taken block skips to the end of that block: a /48 of /64s is 65536 candidates.
    for (let n = base.network; n <= lastOf6(base);) {
      const cand = { network: n, prefix: p.size };
      const hit = taken.find((t) => cidrs6Overlap(t, cand));
      if (!hit) return formatCidr6(cand);
      const next = lastOf6(hit) + 1n;
      n = next > n + step ? ((next + step - 1n) / step) * step : n + step;
    }
  }
  throw invalid('all predefined address pools have been fully subnetted');
}
