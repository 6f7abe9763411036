/**
 * Pure generation of nftables batches (text for `nft -f -`, each applied atomically by the
 * kernel) for one daemon's own tables: `table ip <prefix>` for IPv4 and, with the same layout,
 * `table ip6 <prefix>` for the IPv6 side of dual-stack networks (every batch takes the family;
 * an IPv4-only network has nothing in the ip6 table). Nothing here runs nft.
 *
 * Layout — static base chains dispatch through verdict maps, so every network and container owns
 * its own chains and map elements and can be added or dropped without touching anyone else's
 * (no rule handles to track):
 *
 *   prerouting/output (nat)  fib daddr type local  →  ip daddr . l4proto . dport vmap @ports
 *                            @ports element "0.0.0.0/0 . tcp . 9000-9002 : jump c-<ctr>"
 *                            chain c-<ctr>: one DNAT rule per published port range
 *   postrouting (nat)        ip saddr vmap @masq  →  n-<net>-masq (masquerade leaving the bridge)
 *                            oifname vmap @hairpin → n-<net>-hair (SNAT for 127.0.0.1 and
 *                            container-to-own-published-port traffic, so replies come back via us)
 *   forward (filter)         oifname vmap @fwd_out → n-<net>-out: established, intra-bridge,
 *                            then published (DNATed) traffic after `jump berth-user`; rest dropped
 *                            iifname vmap @fwd_in  → n-<net>-in (internal networks: no way out)
 *   chain berth-user         the administrator's: created empty once, never flushed by us. A
 *                            `drop` there blocks published traffic (Docker's ports bypass ufw).
 *
 * The base chains have policy accept: our table only ever drops what it owns, so it coexists
 * with the host's firewall (which can still drop, since a drop in any table is final).
 * Apply setupTableBatch as its own transaction before any other batch: on this host's kernel
 * (6.x, nft 1.0.6) an element added in the same transaction that creates an interval map fails
 * with ENOENT.
 * Errors: InvalidParameter for inputs nft could not express (IPv6 host addresses).
 */
import { isIPv6 } from 'node:net';
import { invalid } from '../lib/errors.ts';
import type { PortRange } from './ports.ts';

/** The administrator-owned filter chain for published traffic (one per family table). */
export const USER_CHAIN = 'berth-user';

/** `ip` holds the IPv4 rules, `ip6` the IPv6 rules of dual-stack networks. */
export type NftFamily = 'ip' | 'ip6';

/** Per family: the address match keyword, the address type, and the wildcard host address. */
const FAMILY = {
  ip: { match: 'ip', addr: 'ipv4_addr', any: '0.0.0.0/0' },
  ip6: { match: 'ip6', addr: 'ipv6_addr', any: '::/0' },
} as const;

export interface NftNetwork {
  /** Short unique id used in chain names (e.g. the network id's first 12 chars). */
  id: string;
  bridge: string;
  /** The subnet of the batch's family (the IPv6 pool for the ip6 table). */
  subnet: string;
  /** --internal: no masquerade, nothing forwarded in or out of the bridge. */
  internal: boolean;
  /** The bridge's own address: the host reaching a published port from it needs no masquerade. */
  gateway?: string;
}

export interface NftContainer {
  /** Short unique id used in the chain name. */
  id: string;
  /** The container's address (of the batch's family) on the network its ports are published from. */
  ip: string;
  /** Assigned published ports (grouped with ports.ts groupRanges: one rule per run). */
  ports: readonly PortRange[];
}

/** A kernel setting the host must have for the rules to work, as data for the caller to apply. */
export interface SysctlNeed {
  path: string;
  value: string;
  why: string;
}

const q = (s: string) => JSON.stringify(s); // nft accepts double-quoted strings for names/ifnames
const netChain = (n: { id: string }, part: string) => `n-${n.id}-${part}`;
export const containerChain = (c: { id: string }) => `c-${c.id}`;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
function checkName(what: string, s: string): void {
  if (!NAME.test(s)) throw invalid(`nft: invalid ${what} name ${q(s)}`);
}

/**
 * Creates the table, its maps, base chains and the admin chain; idempotent (re-running after a
 * daemon restart keeps every network's and container's chains and map elements, and the
 * admin's rules). Base chains are flushed and refilled so an upgraded layout replaces the old.
 */
export function setupTableBatch(table: string, family: NftFamily = 'ip'): string {
  checkName('table', table);
  const t = `${family} ${table}`;
  const { match, addr } = FAMILY[family];
  return [
    `add table ${t}`,
    `add map ${t} ports { type ${addr} . inet_proto . inet_service : verdict; flags interval; }`,
    `add map ${t} masq { type ${addr} : verdict; flags interval; }`,
    `add map ${t} hairpin { type ifname : verdict; }`,
    `add map ${t} fwd_out { type ifname : verdict; }`,
    `add map ${t} fwd_in { type ifname : verdict; }`,
    `add chain ${t} ${USER_CHAIN}`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${t} forward { type filter hook forward priority filter; policy accept; }`,
    ...['prerouting', 'output', 'postrouting', 'forward'].map((c) => `flush chain ${t} ${c}`),
    `add rule ${t} prerouting fib daddr type local ${match} daddr . meta l4proto . th dport vmap @ports`,
    `add rule ${t} output fib daddr type local ${match} daddr . meta l4proto . th dport vmap @ports`,
    `add rule ${t} postrouting ${match} saddr vmap @masq`,
    `add rule ${t} postrouting oifname vmap @hairpin`,
    `add rule ${t} forward oifname vmap @fwd_out`,
    `add rule ${t} forward iifname vmap @fwd_in`,
    '',
  ].join('\n');
}

/** Removes the whole table (daemon uninstall, test cleanup). Fails if it does not exist. */
export function deleteTableBatch(table: string, family: NftFamily = 'ip'): string {
  checkName('table', table);
  return `delete table ${family} ${table}\n`;
}

/**
 * Chains and map elements of one bridge network in one family's table; apply after
 * setupTableBatch. For ip6, `net.subnet` and `net.gateway` are the network's IPv6 ones.
 */
export function addNetworkBatch(table: string, net: NftNetwork, family: NftFamily = 'ip'): string {
  checkName('table', table);
  checkName('network id', net.id);
  checkName('bridge', net.bridge);
  const t = `${family} ${table}`;
  const { match } = FAMILY[family];
  const br = q(net.bridge);
  const out = [...netChains(t, net).flatMap((c) => [`add chain ${t} ${c}`, `flush chain ${t} ${c}`])];
  const outChain = netChain(net, 'out');
  out.push(
    `add rule ${t} ${outChain} ct state established,related accept`,
    `add rule ${t} ${outChain} iifname ${br} accept`,
  );
  if (net.internal) {
    out.push(`add rule ${t} ${outChain} drop`);
    out.push(`add rule ${t} ${netChain(net, 'in')} oifname != ${br} drop`);
    out.push(`add element ${t} fwd_in { ${br} : jump ${netChain(net, 'in')} }`);
  } else {
    out.push(
      // Published traffic passes the admin's chain first; a drop there is final.
      `add rule ${t} ${outChain} ct status dnat jump ${USER_CHAIN}`,
      `add rule ${t} ${outChain} ct status dnat accept`,
      `add rule ${t} ${outChain} drop`,
      `add rule ${t} ${netChain(net, 'masq')} oifname != ${br} masquerade`,
      // 127.0.0.1:port → container needs route_localnet on the bridge and a real source address.
      // IPv6 has no route_localnet: the kernel never lets ::1 traffic leave the host, DNATed or not.
      ...(family === 'ip' ? [`add rule ${t} ${netChain(net, 'hair')} ip saddr 127.0.0.0/8 masquerade`] : []),
      // A container reaching a published port of its own bridge: replies must return through us.
      `add rule ${t} ${netChain(net, 'hair')} ct status dnat ${match} saddr ${net.subnet}${net.gateway ? ` ${match} saddr != ${net.gateway}` : ''} masquerade`,
      `add element ${t} masq { ${net.subnet} : jump ${netChain(net, 'masq')} }`,
      `add element ${t} hairpin { ${br} : jump ${netChain(net, 'hair')} }`,
    );
  }
  out.push(`add element ${t} fwd_out { ${br} : jump ${outChain} }`, '');
  return out.join('\n');
}

function netChains(t: string, net: NftNetwork): string[] {
  void t;
  return net.internal
    ? [netChain(net, 'out'), netChain(net, 'in')]
    : [netChain(net, 'out'), netChain(net, 'masq'), netChain(net, 'hair')];
}

/**
 * Removes one network's elements and chains. Idempotent: each element and chain is first added
 * (a no-op when present) so the batch succeeds whether or not a previous removal got halfway.
 */
export function removeNetworkBatch(table: string, net: NftNetwork, family: NftFamily = 'ip'): string {
  checkName('table', table);
  checkName('network id', net.id);
  checkName('bridge', net.bridge);
  const t = `${family} ${table}`;
  const br = q(net.bridge);
  const chains = netChains(t, net);
  const elems: [string, string][] = [[`fwd_out`, `${br} : jump ${netChain(net, 'out')}`]];
  if (net.internal) elems.push([`fwd_in`, `${br} : jump ${netChain(net, 'in')}`]);
  else elems.push([`masq`, `${net.subnet} : jump ${netChain(net, 'masq')}`], [`hairpin`, `${br} : jump ${netChain(net, 'hair')}`]);
  return [
    ...chains.flatMap((c) => [`add chain ${t} ${c}`, `flush chain ${t} ${c}`]),
    ...elems.map(([m, e]) => `add element ${t} ${m} { ${e} }`),
    ...elems.map(([m, e]) => `delete element ${t} ${m} { ${e.slice(0, e.indexOf(' : '))} }`),
    ...chains.map((c) => `delete chain ${t} ${c}`),
    '',
  ].join('\n');
}

/** The family a published host address belongs in: '' (all IPv4), '0.0.0.0' and IPv4 → ip; '::' and IPv6 → ip6. */
export const familyOfHostIp = (hostIp: string): NftFamily => (isIPv6(hostIp) ? 'ip6' : 'ip');

/** Whether a host address is its family's wildcard (no daddr match). */
const isWildcard = (hostIp: string): boolean => hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::';

function portKey(p: PortRange, family: NftFamily): string {
  if (familyOfHostIp(p.hostIp) !== family) throw invalid(`nft: host address ${p.hostIp || '0.0.0.0'} is not an ${family === 'ip' ? 'IPv4' : 'IPv6'} address`);
  const ip = isWildcard(p.hostIp) ? FAMILY[family].any : p.hostIp;
  const ports = p.count > 1 ? `${p.hostPort}-${p.hostPort + p.count - 1}` : `${p.hostPort}`;
  return `${ip} . ${p.proto} . ${ports}`;
}

function dnatRule(c: NftContainer, p: PortRange, family: NftFamily): string {
  const match = [
    isWildcard(p.hostIp) ? '' : `${FAMILY[family].match} daddr ${p.hostIp}`,
    `meta l4proto ${p.proto}`,
    p.count > 1 ? `th dport ${p.hostPort}-${p.hostPort + p.count - 1}` : `th dport ${p.hostPort}`,
  ].filter(Boolean).join(' ');
  // An IPv6 address takes brackets before a port.
  const to = family === 'ip6' ? `[${c.ip}]` : c.ip;
  if (p.count === 1) return `${match} dnat ${family} to ${to}:${p.containerPort}`;
  // Same numbers on both sides: conntrack keeps the original port when it lies in the range.
  if (p.hostPort === p.containerPort) return `${match} dnat ${family} to ${to}:${p.containerPort}-${p.containerPort + p.count - 1}`;
  // Shifted range (8000-8002 → 9000-9002): still one rule, through an anonymous port map.
  const pairs = Array.from({ length: p.count }, (_, i) => `${p.hostPort + i} : ${p.containerPort + i}`).join(', ');
  return `${match} dnat ${family} to ${c.ip} : th dport map { ${pairs} }`;
}

/**
 * One container's published ports: its chain with one DNAT rule per range, and the @ports
 * elements that jump to it. Atomic: a host address/port already published (an overlapping
 * element) fails the whole batch and nothing is added.
 */
export function addContainerBatch(table: string, c: NftContainer, family: NftFamily = 'ip'): string {
  checkName('table', table);
  checkName('container id', c.id);
  const t = `${family} ${table}`;
  const ch = containerChain(c);
  return [
    `add chain ${t} ${ch}`,
    `flush chain ${t} ${ch}`,
    ...c.ports.map((p) => `add rule ${t} ${ch} ${dnatRule(c, p, family)}`),
    ...c.ports.map((p) => `add element ${t} ports { ${portKey(p, family)} : jump ${ch} }`),
    '',
  ].join('\n');
}

/**
 * Drops exactly one container's elements and chain; idempotent like removeNetworkBatch. `ports`
 * must be the ranges that were added (persisted with the endpoint).
 */
export function removeContainerBatch(table: string, c: NftContainer, family: NftFamily = 'ip'): string {
  checkName('table', table);
  checkName('container id', c.id);
  const t = `${family} ${table}`;
  const ch = containerChain(c);
  return [
    `add chain ${t} ${ch}`,
    `flush chain ${t} ${ch}`,
    ...c.ports.map((p) => `add element ${t} ports { ${portKey(p, family)} : jump ${ch} }`),
    ...c.ports.map((p) => `delete element ${t} ports { ${portKey(p, family)} }`),
    `delete chain ${t} ${ch}`,
    '',
  ].join('\n');
}

/**
 * Kernel settings the rules rely on: forwarding, and route_localnet on a bridge whose
 * containers publish on 127.0.0.1 (else the kernel drops 127.0.0.0/8 leaving a real interface).
 */
export function requiredSysctls(net: Pick<NftNetwork, 'bridge' | 'internal'>, opts: { localhostPorts: boolean }): SysctlNeed[] {
  const out: SysctlNeed[] = [];
  if (!net.internal) out.push({ path: '/proc/sys/net/ipv4/ip_forward', value: '1', why: 'route container traffic' });
  if (opts.localhostPorts && !net.internal) {
    out.push({
      path: `/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`,
      value: '1',
      why: 'DNAT from 127.0.0.1 to a bridge address',
    });
  }
  return out;
}

/**
 * Run inside a container's namespace: queries to 127.0.0.11:53 (the address images hard-code for
 * Docker's embedded DNS) go to berthd's server on `gateway`, masqueraded to the container's own
 * address so the server knows who asks. Idempotent (re-applied on network connect).
 */
export function dnsRedirectBatch(gateway: string): string {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(gateway)) throw invalid(`nft: invalid gateway ${q(gateway)}`);
  const t = 'ip berth-dns';
  return [
    `add table ${t}`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ${t} output`,
    `flush chain ${t} postrouting`,
    `add rule ${t} output ip daddr 127.0.0.11 meta l4proto { tcp, udp } th dport 53 dnat ip to ${gateway}`,
    `add rule ${t} postrouting ip saddr 127.0.0.0/8 ip daddr ${gateway} masquerade`,
    '',
  ].join('\n');
}
