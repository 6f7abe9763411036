/**
 * Pure IPv4 address management: CIDR parsing, pool validation (subnet, gateway, --ip-range),
 * address allocation and release, overlap checks, and choosing a free subnet from
 * default-address-pools. No I/O: the host's routes come in as the text of `ip -j route`, and a
 * pool's leases are reconstructed from whatever the caller persisted.
 *
 * Errors are EngineError 'InvalidParameter' for bad input, 'Conflict' for an address or subnet
 * already taken, 'Unavailable' when a pool or the default pools are exhausted. Messages keep
 * Docker's wording where users match on it.
 */
import { EngineError, invalid } from '../lib/errors.ts';

/** An IPv4 CIDR block; `network` is the masked address as an unsigned 32-bit integer. */
export interface Cidr {
  network: number;
  prefix: number;
}

/** A validated address pool, all fields as dotted strings ("172.17.0.0/16", "172.17.0.1"). */
export interface Pool {
  subnet: string;
  gateway: string;
  /** Sub-range containers are allocated from (--ip-range); the whole subnet when absent. */
  ipRange?: string;
}

export interface PoolSpec {
  subnet: string;
  gateway?: string;
  ipRange?: string;
}

/** One entry of daemon.json's default-address-pools. */
export interface DefaultPool {
  base: string;
  size: number;
}

/** Docker's built-in default-address-pools (libnetwork ipamutils, Docker 28). */
export const DOCKER_DEFAULT_POOLS: readonly DefaultPool[] = Object.freeze([
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]);

/** Parses a dotted IPv4 address to an unsigned 32-bit integer; undefined when malformed. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    // Reject "01", "+1", "" and friends: Go's net.ParseIP does too.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Formats an unsigned 32-bit integer as a dotted IPv4 address. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/**
 * Parses "a.b.c.d/n". With `strict`, host bits must be zero (Docker rejects "10.0.0.5/24" as a
 * --subnet only in newer versions; we keep the lenient masking by default, as Docker 28 does).
 * Throws InvalidParameter.
 */
export function parseCidr(s: string, opts: { strict?: boolean } = {}): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  const addr = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (addr === undefined || !(prefix >= 0 && prefix <= 32)) throw invalid(`invalid CIDR address: ${s}`);
  const network = (addr & maskOf(prefix)) >>> 0;
  if (opts.strict && network !== addr) throw invalid(`invalid subnet ${s}: it should be ${formatIPv4(network)}/${prefix}`);
  return { network, prefix };
}

export const formatCidr = (c: Cidr): string => `${formatIPv4(c.network)}/${c.prefix}`;
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);
export const broadcastOf = (c: Cidr): number => (c.network + cidrSize(c) - 1) >>> 0;
export const cidrContains = (c: Cidr, ip: number): boolean => ((ip & maskOf(c.prefix)) >>> 0) === c.network;

/** True when the two blocks share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network <= broadcastOf(b) && b.network <= broadcastOf(a);
}

/**
 * Validates a pool the way `docker network create --subnet --gateway --ip-range` does: the
 * gateway defaults to the first host address, must lie in the subnet, and the range must be
 * inside the subnet; the subnet must not overlap any of `existingSubnets` (other networks').
 * Throws InvalidParameter (bad input) or Conflict ("Pool overlaps with other one on this address space").
 */
export function createPool(spec: PoolSpec, existingSubnets: readonly string[] = []): Pool {
  const subnet = parseCidr(spec.subnet);
  if (subnet.prefix > 30) throw invalid(`invalid subnet ${spec.subnet}: too small for a bridge network`);
  for (const other of existingSubnets) {
    if (cidrsOverlap(subnet, parseCidr(other))) throw new EngineError('Conflict', 'Pool overlaps with other one on this address space');
  }
  let gateway = subnet.network + 1;
  if (spec.gateway !== undefined && spec.gateway !== '') {
    const g = parseIPv4(spec.gateway);
    if (g === undefined) throw invalid(`invalid gateway address ${spec.gateway}`);
    if (!cidrContains(subnet, g)) throw invalid(`no matching subnet for gateway ${spec.gateway}`);
    if (g === subnet.network || g === broadcastOf(subnet)) throw invalid(`invalid gateway address ${spec.gateway}: network or broadcast address`);
    gateway = g;
  }
  const pool: Pool = { subnet: formatCidr(subnet), gateway: formatIPv4(gateway) };
  if (spec.ipRange !== undefined && spec.ipRange !== '') {
    const range = parseCidr(spec.ipRange);
    if (!cidrContains(subnet, range.network) || range.prefix < subnet.prefix) throw invalid(`no matching subnet for range ${spec.ipRange}`);
    pool.ipRange = formatCidr(range);
  }
  return pool;
}

/**
 * Leases of one pool. Reconstruct it from the persisted leases (`new AddressPool(pool, leases)`);
 * the caller persists after each allocate/release. Allocation is serial like Docker's bitmap
 * allocator: it continues after the last address handed out and wraps, so a just-released
 * address is not immediately reused (stale ARP caches and DNS answers then point nowhere).
 */
export class AddressPool {
  readonly subnet: Cidr;
  readonly range: Cidr;
  readonly gateway: number;
  private readonly used = new Set<number>();
  private readonly reserved = new Set<number>();
  private cursor: number;

  /** `reserved`: addresses never handed out (e.g. aux addresses). Throws InvalidParameter. */
  constructor(readonly pool: Pool, leases: Iterable<string> = [], reserved: Iterable<string> = []) {
    this.subnet = parseCidr(pool.subnet);
    this.range = pool.ipRange ? parseCidr(pool.ipRange) : this.subnet;
    this.gateway = mustIPv4(pool.gateway);
    for (const r of reserved) this.reserved.add(mustIPv4(r));
    this.cursor = this.range.network;
    for (const l of leases) {
      const n = mustIPv4(l);
      this.used.add(n);
      if (n > this.cursor) this.cursor = n;
    }
  }

  /** Addresses currently leased, sorted. */
  leases(): string[] {
    return [...this.used].sort((a, b) => a - b).map(formatIPv4);
  }

  private isUsable(n: number): boolean {
    return n !== this.subnet.network && n !== broadcastOf(this.subnet) && n !== this.gateway && !this.reserved.has(n);
  }

  /**
   * Leases `requested` (--ip) or the next free address. Throws InvalidParameter for an address
   * outside the subnet, Conflict when it is taken ("Address already in use"), Unavailable when
   * the pool is full ("no available addresses on this pool").
   */
  allocate(requested?: string): string {
    if (requested !== undefined && requested !== '') {
      const n = parseIPv4(requested);
      if (n === undefined) throw invalid(`invalid IPv4 address: ${requested}`);
      // Docker 28 wording (daemon/network.go validateEndpointSettings).
      if (!cidrContains(this.subnet, n)) throw invalid(`no configured subnet or ip-range contain the IP address ${requested}`);
      if (!this.isUsable(n) || this.used.has(n)) throw new EngineError('Conflict', 'Address already in use');
      this.used.add(n);
      return requested;
    }
    const first = this.range.network;
    const size = cidrSize(this.range);
    const start = this.cursor - first + 1;
    for (let i = 0; i < size; i++) {
      const n = first + ((start + i) % size);
      if (this.isUsable(n) && !this.used.has(n)) {
        this.used.add(n);
        this.cursor = n;
        return formatIPv4(n);
      }
    }
    throw new EngineError('Unavailable', 'no available addresses on this pool');
  }

  /** Returns an address to the pool; releasing an address that is not leased is a no-op. */
  release(ip: string): void {
    const n = parseIPv4(ip);
    if (n !== undefined) this.used.delete(n);
  }
}

function mustIPv4(s: string): number {
  const n = parseIPv4(s);
  if (n === undefined) throw invalid(`invalid IPv4 address: ${s}`);
  return n;
}

/**
 * Destinations of the host's IPv4 routes from the JSON text of `ip -j route` (the default route
 * and non-IPv4 entries are skipped; a bare address is a /32). Routes via `ignoreDevs` (our own
 * bridges, whose subnets are already in the caller's in-use list) are left out so a daemon
 * re-picking its default bridge subnet after restart does not dodge itself.
 * Throws InvalidParameter on bad JSON.
 */
export function parseHostRoutes(ipJsonRoute: string, ignoreDevs: readonly string[] = []): Cidr[] {
  let rows: unknown;
  try {
    rows = JSON.parse(ipJsonRoute.trim() === '' ? '[]' : ipJsonRoute);
  } catch (err) {
    throw invalid('parse ip -j route output', err);
  }
  if (!Array.isArray(rows)) throw invalid('parse ip -j route output: not an array');
  const out: Cidr[] = [];
  for (const r of rows) {
    const dst = (r as { dst?: unknown }).dst;
    if (typeof dst !== 'string' || dst === 'default') continue;
    if (ignoreDevs.includes(String((r as { dev?: unknown }).dev))) continue;
    const withPrefix = dst.includes('/') ? dst : `${dst}/32`;
    try {
      out.push(parseCidr(withPrefix));
    } catch {
      // IPv6 or unusual entries (e.g. "unreachable") are not our concern.
    }
  }
  return out;
}

/**
 * The first subnet from `pools` (in order, each split into blocks of `size` bits) that overlaps
 * neither `inUse` (other networks' subnets) nor the host's routes. Throws Unavailable with
 * Docker's message when every candidate is taken.
 */
export function pickDefaultSubnet(opts: {
  pools?: readonly DefaultPool[];
  inUse?: readonly string[];
  hostRoutes?: readonly Cidr[];
}): string {
  const taken = [...(opts.inUse ?? []).map((s) => parseCidr(s)), ...(opts.hostRoutes ?? [])];
  // IPv6 entries are ipam6.ts pickDefaultSubnet6's.
  for (const p of (opts.pools ?? DOCKER_DEFAULT_POOLS).filter((x) => !x.base.includes(':'))) {
    const base = parseCidr(p.base);
    if (!(p.size >= base.prefix && p.size <= 30)) throw invalid(`invalid default address pool ${p.base} size ${p.size}`);
    const step = 2 ** (32 - p.size);
    for (let n = base.network; n <= broadcastOf(base); n += step) {
      const cand = { network: n >>> 0, prefix: p.size };
      if (!taken.some((t) => cidrsOverlap(t, cand))) return formatCidr(cand);
    }
  }
  throw new EngineError('Unavailable', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}
