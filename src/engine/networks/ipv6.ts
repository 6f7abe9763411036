/**
 * The IPv6 half of `network create` (dockerd 27 semantics): whether IPv6 is asked for, which
 * IPAM config entry is the IPv6 one, and the pool a dual-stack network gets — the --subnet given,
 * else one from the IPv6 entries of default-address-pools (dockerd 27 has no built-in IPv6 pool).
 */
import { EngineError, invalid } from '../../lib/errors.ts';
import { parseGoBool } from '../../lib/units.ts';
import type { HostConfig, IpamPoolConfig, NetworkCreateRequest } from '../../api/types/index.ts';
import type { NetworkRecord } from './record.ts';
import {
  cidr6Contains, cidrs6Overlap, createPool6, formatIPv6, isIPv6Cidr, parseCidr6, parseHostRoutes6, parseIPv6, pickDefaultSubnet6, type DefaultPool, type Pool6,
} from '../../network/index.ts';

/** The driver option dockerd reads when the request has no EnableIPv6. */
const OPT_ENABLE_IPV6 = 'com.docker.network.enable_ipv6';

/** EnableIPv6, or (when the client left it out) the com.docker.network.enable_ipv6 driver option. */
export function ipv6Requested(req: Pick<NetworkCreateRequest, 'EnableIPv6'>, options: Record<string, string>): boolean {
  if (req.EnableIPv6 !== undefined && req.EnableIPv6 !== null) return !!req.EnableIPv6;
  const v = options[OPT_ENABLE_IPV6];
  if (v === undefined) return false;
  const b = parseGoBool(v);
  if (b !== undefined) return b;
  throw invalid(`driver-opt "${OPT_ENABLE_IPV6}" is not a valid bool`);
}

/** IPAM config entries by family (an entry without a subnet counts as IPv4, where berth has always refused it). */
export function splitIpamConfigs(configs: readonly IpamPoolConfig[]): { v4: IpamPoolConfig[]; v6: IpamPoolConfig[] } {
  const v6 = configs.filter((c) => c.Subnet && isIPv6Cidr(c.Subnet));
  return { v4: configs.filter((c) => !v6.includes(c)), v6 };
}

export interface IPv6PoolContext {
  /** Other networks' IPv6 subnets. */
  inUse: readonly string[];
  /** The host's `ip -6 -j route` text and our own bridges (whose routes are in `inUse` already). */
  hostRoutes(): Promise<{ text: string; ourBridges: readonly string[] }>;
  defaultPools?: readonly DefaultPool[];
}

/**
 * The IPv6 pool of a new dual-stack network. A given --subnet must be in canonical form, lie
 * on no other network and under no host route (traffic to it would be black-holed). Throws
 * InvalidParameter or Conflict; nothing is created here.
 */
export async function planIPv6Pool(cfg: IpamPoolConfig | undefined, ctx: IPv6PoolContext): Promise<Pool6> {
  const routes = await ctx.hostRoutes();
  const hostRoutes = parseHostRoutes6(routes.text, routes.ourBridges);
  let pool: Pool6;
  if (cfg?.Subnet) {
    pool = createPool6({ subnet: cfg.Subnet, ...(cfg.Gateway ? { gateway: cfg.Gateway } : {}), ...(cfg.IPRange ? { ipRange: cfg.IPRange } : {}) }, ctx.inUse);
    const subnet = parseCidr6(pool.subnet);
    if (hostRoutes.some((r) => cidrs6Overlap(r, subnet))) throw new EngineError('Conflict', 'Pool overlaps with other one on this address space');
  } else {
    pool = createPool6({ subnet: pickDefaultSubnet6({ ...(ctx.defaultPools ? { pools: ctx.defaultPools } : {}), inUse: ctx.inUse, hostRoutes }) });
  }
  for (const [host, ip] of Object.entries(cfg?.AuxiliaryAddresses ?? {})) {
    const v = parseIPv6(ip);
    if (v === undefined || !cidr6Contains(parseCidr6(pool.subnet), v)) throw invalid(`invalid auxiliary address ${host}=${ip}: not in subnet ${pool.subnet}`);
  }
  return pool;
}

/** The IPv6 entry of IPAM.Config as inspect shows it. */
export function ipamEntry6(pool: Pool6, cfg: IpamPoolConfig | undefined): IpamPoolConfig {
  return {
    Subnet: pool.subnet, Gateway: pool.gateway, ...(pool.ipRange ? { IPRange: pool.ipRange } : {}),
    ...(cfg?.AuxiliaryAddresses && Object.keys(cfg.AuxiliaryAddresses).length ? { AuxiliaryAddresses: cfg.AuxiliaryAddresses } : {}),
  };
}

/**
 * Published IPv6 host addresses need a dual-stack network to forward to (there is no NAT64), and
 * ::1 cannot work at all: the kernel never routes IPv6 loopback traffic off the host, DNATed or
 * not, and berth has no userland proxy. Refused at create rather than failing every start.
 */
export function checkIPv6Bindings(hc: HostConfig, primary: NetworkRecord): void {
  for (const bindings of Object.values(hc.PortBindings ?? {})) {
    for (const b of bindings ?? []) {
      const host = (b.HostIp ?? '').replace(/^\[(.*)\]$/, '$1');
      const v6 = parseIPv6(host);
      if (v6 === undefined) continue;
      if (v6 === 1n) throw invalid(`cannot publish on ${host}: IPv6 loopback traffic cannot be forwarded to a container (berth has no userland proxy); publish on :: or another address`);
      if (!primary.enableIPv6) throw invalid(`cannot publish on ${host}: network ${primary.name} is not IPv6-enabled`);
    }
  }
}

/**
 * dockerd 27's address on the default bridge when --fixed-cidr-v6 leaves at least 48 host bits:
 * the subnet's prefix with the interface's MAC in the last six bytes (libnetwork's bridge driver
 * makes it when the network defers IPv6 allocation). Undefined elsewhere: the pool's next address.
 */
export function macDerivedIPv6(n: NetworkRecord, mac: string): string | undefined {
  if (!n.builtin || !n.enableIPv6) return undefined;
  const subnet = parseCidr6(n.subnet6);
  if (subnet.prefix > 80) return undefined;
  return formatIPv6(subnet.network | BigInt(`0x${mac.replace(/:/g, '')}`));
}
