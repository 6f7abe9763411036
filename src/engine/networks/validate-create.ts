import type { IpamPoolConfig, NetworkCreateRequest } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseGoBool } from '../../lib/units.ts';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../network/index.ts';

// What dockerd 27 checks in a network create before it makes anything, in its words: the
// request's kind (daemon/network.go createNetwork, libnetwork NewNetwork), the IPAM configuration
// (api/types/network ValidateIPAM) and the bridge driver's options (bridge fromLabels).

const invalid = (msg: string) => new EngineError('InvalidParameter', msg);

/** An address as Go's netip reads it: the family, its bits and width. */
interface Addr { v6: boolean; n: bigint; width: number }

function parseAddr(s: string): Addr | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { v6: false, n: BigInt(v4), width: 32 };
  const v6 = s.includes(':') ? parseIPv6(s) : undefined;
  return v6 === undefined ? undefined : { v6: true, n: v6, width: 128 };
}

interface Prefix { addr: Addr; bits: number }

/** netip.ParsePrefix: an address, a slash and a decimal prefix length without leading zeros. */
function parsePrefix(s: string): Prefix | undefined {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddr(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!addr || !/^(0|[1-9]\d{0,2})$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= addr.width ? { addr, bits } : undefined;
}

const maskOf = (p: Prefix): bigint => {
  const all = (1n << BigInt(p.addr.width)) - 1n;
  return (all >> BigInt(p.addr.width - p.bits)) << BigInt(p.addr.width - p.bits);
};
const masked = (p: Prefix): Prefix => ({ addr: { ...p.addr, n: p.addr.n & maskOf(p) }, bits: p.bits });
const formatAddr = (a: Addr): string => (a.v6 ? formatIPv6(a.n) : formatIPv4(Number(a.n)));
const formatPrefix = (p: Prefix): string => `${formatAddr(p.addr)}/${p.bits}`;
const contains = (p: Prefix, a: Addr): boolean => a.v6 === p.addr.v6 && (a.n & maskOf(p)) === masked(p).addr.n;
const overlaps = (a: Prefix, b: Prefix): boolean => {
  if (a.addr.v6 !== b.addr.v6) return false;
  const bits = Math.min(a.bits, b.bits);
  return contains({ addr: a.addr, bits }, b.addr);
};
const family = (a: Addr): string => (a.v6 ? 'IPv6' : 'IPv4');

function checkAddress(address: string | undefined, subnet: Prefix): string | undefined {
  if (!address) return undefined;
  const a = parseAddr(address);
  if (!a) return 'invalid address';
  if (a.v6 !== subnet.addr.v6) return `parent subnet is an ${family(subnet.addr)} block`;
  if (!contains(subnet, a)) return `parent subnet ${formatPrefix(subnet)} doesn't contain this address`;
  return undefined;
}

function checkIPRange(ipRange: string | undefined, subnet: Prefix): string[] {
  if (!ipRange) return [];
  const r = parsePrefix(ipRange);
  if (!r) return [`invalid ip-range ${ipRange}: invalid CIDR block notation`];
  if (r.addr.v6 !== subnet.addr.v6) return [`invalid ip-range ${ipRange}: parent subnet is an ${family(subnet.addr)} block`];
  const errs: string[] = [];
  if (r.bits < subnet.bits) errs.push(`invalid ip-range ${ipRange}: CIDR block is bigger than its parent subnet ${formatPrefix(subnet)}`);
  if (masked(r).addr.n !== r.addr.n) errs.push(`invalid ip-range ${formatPrefix(r)}: it should be ${formatPrefix(masked(r))}`);
  if (!overlaps(subnet, r)) errs.push(`invalid ip-range ${ipRange}: parent subnet ${formatPrefix(subnet)} doesn't contain ip-range`);
  return errs;
}

/**
 * network.ValidateIPAM: every IPAM config entry needs a subnet in CIDR notation without host bits;
 * its ip-range, gateway and auxiliary addresses lie in it. IPv6 entries are checked only when the
 * network has IPv6. Every problem is reported, as dockerd's multierror lists them.
 * @throws EngineError InvalidParameter `invalid network config:\n<problem>` (`* ` before each of several)
 */
export function validateIpam(configs: readonly IpamPoolConfig[] | null | undefined, enableIPv6: boolean): void {
  const errs: string[] = [];
  for (const cfg of configs ?? []) {
    const subnet = parsePrefix(cfg.Subnet ?? '');
    if (!subnet) {
      errs.push(`invalid subnet ${cfg.Subnet ?? ''}: invalid CIDR block notation`);
      continue;
    }
    if (subnet.addr.v6 && !enableIPv6) continue;
    if (masked(subnet).addr.n !== subnet.addr.n) errs.push(`invalid subnet ${formatPrefix(subnet)}: it should be ${formatPrefix(masked(subnet))}`);
    errs.push(...checkIPRange(cfg.IPRange, subnet));
    const gw = checkAddress(cfg.Gateway, subnet);
    if (gw) errs.push(`invalid gateway ${cfg.Gateway}: ${gw}`);
    for (const [name, aux] of Object.entries(cfg.AuxiliaryAddresses ?? {})) {
      const why = checkAddress(aux, subnet);
      if (why) errs.push(`invalid auxiliary address ${name}: ${why}`);
    }
  }
  if (errs.length === 1) throw invalid(`invalid network config:\n${errs[0]}`);
  if (errs.length > 1) throw invalid(`invalid network config:\n* ${errs.join('\n* ')}`);
}

const BOOL_OPTS = [
  'com.docker.network.enable_ipv6', 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.inhibit_ipv4', 'com.docker.network.bridge.default_bridge',
];
const IP_OPTS = ['com.docker.network.bridge.host_binding_ipv4', 'com.docker.network.host_ipv4', 'com.docker.network.host_ipv6'];
const GW_MODE_OPTS = ['com.docker.network.bridge.gateway_mode_ipv4', 'com.docker.network.bridge.gateway_mode_ipv6'];
const MTU_OPT = 'com.docker.network.driver.mtu';

/** Go's strconv.Atoi: an optional sign and decimal digits that fit an int64. */
function atoiError(v: string): string | undefined {
  if (!/^[+-]?\d+$/.test(v)) return `strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`;
  const n = BigInt(v);
  return n > 2n ** 63n - 1n || n < -(2n ** 63n) ? `strconv.Atoi: parsing ${JSON.stringify(v)}: value out of range` : undefined;
}


/**
 * The bridge driver's options that carry a value it parses (bridge networkConfiguration.fromLabels);
 * others are kept and ignored, as there.
 * @throws EngineError InvalidParameter `failed to parse <option> value: <value> (<reason>)`
 */
export function checkBridgeOptions(options: Readonly<Record<string, string>> | null | undefined): void {
  for (const [label, value] of Object.entries(options ?? {})) {
    let why: string | undefined;
    if (BOOL_OPTS.includes(label) && parseGoBool(value) === undefined) why = `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`;
    else if (label === MTU_OPT) why = atoiError(value);
    else if (IP_OPTS.includes(label) && !parseAddr(value)) why = 'nil ip';
    else if (GW_MODE_OPTS.includes(label) && value !== 'nat' && value !== 'routed') why = `unknown gateway mode ${value}`;
    if (why) throw invalid(`failed to parse ${label} value: ${value} (${why})`);
  }
}

/**
 * What the network's driver and kind allow on a dockerd that is not in a swarm and has no plugins:
 * bridge only (host and null exist once), no overlay, ingress or swarm scope; IPAM by the default
 * driver. Configuration-only networks and ConfigFrom are not implemented: refused, not ignored.
 * `exists` tells whether a network of that name exists (for ConfigFrom's words).
 * @throws EngineError Forbidden, NotFound (`plugin "<name>" not found`), NotImplemented
 */
export function checkNetworkKind(req: NetworkCreateRequest, exists: (ref: string) => boolean): void {
  const driver = req.Driver || 'bridge';
  if (driver === 'overlay') {
    throw new EngineError('Forbidden', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  }
  if (driver === 'host' || driver === 'null') throw new EngineError('Forbidden', `only one instance of "${driver}" network is allowed`);
  // dockerd has these built in; berth does not (yet): not a missing plugin.
  if (driver === 'macvlan' || driver === 'ipvlan') throw new EngineError('NotImplemented', `berth does not support the ${driver} network driver`);
  if (driver !== 'bridge') throw new EngineError('NotFound', `plugin ${JSON.stringify(driver)} not found`);
  if (req.Ingress) throw new EngineError('Forbidden', 'Ingress network can only be global scope network');
  if (req.Scope === 'swarm') throw new EngineError('Forbidden', 'cannot create a swarm scoped network when swarm is not active');
  const ipamDriver = req.IPAM?.Driver || 'default';
  if (ipamDriver !== 'default') throw new EngineError('NotFound', `plugin ${JSON.stringify(ipamDriver)} not found`);
  const from = req.ConfigFrom?.Network;
  if (from) {
    if (!exists(from)) throw new EngineError('NotFound', `configuration network ${JSON.stringify(from)} does not exist`);
    throw new EngineError('NotImplemented', 'berth does not support configuration networks (--config-from)');
  }
  if (req.ConfigOnly) throw new EngineError('NotImplemented', 'berth does not support configuration-only networks (--config-only)');
}
