/**
 * The bridge driver's host side for one daemon: its nft table, its bridges, and each container's
 * namespace and veth pairs. Everything it creates carries the daemon's names (table = object
 * prefix, interfaces start with the interface prefix, namespaces live under the exec root), so
 * `sweep` can find and remove leftovers without touching another daemon's objects.
 *
 * Errors: EngineError from link/netns/nft helpers (Conflict, NotFound, Internal with the tool's
 * stderr); `publish` turns an nft overlap into Conflict.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../lib/errors.ts';
import type { ExecFn } from '../lib/exec.ts';
import { addInterface, attachCommands, checkIfName, createBridge, endpointCommands, parseLinkNames, removeLink, type EndpointOptions } from './link.ts';
import { createNetns, ipError, removeNetns } from './netns.ts';
import {
  addContainerBatch, addNetworkBatch, dnsRedirectBatch, familyOfHostIp, removeContainerBatch, removeNetworkBatch, setupTableBatch,
  type NftFamily, type NftNetwork,
} from './nft.ts';
import type { PortRange } from './ports.ts';

const FAMILIES: readonly NftFamily[] = ['ip', 'ip6'];

export interface BridgeDriverDeps {
  exec: ExecFn;
  /** nft table name (the daemon's object prefix). */
  table: string;
  /** Start of every interface name this daemon makes (≤ 6 chars so veth names fit in 15). */
  ifPrefix: string;
  /** Directory holding the namespace files. */
  netnsDir: string;
  log: { warn(o: object, m?: string): void };
}

/** A bridge network's nft identity: its IPv4 side, plus its IPv6 pool on a dual-stack network. */
export interface BridgeNetwork extends NftNetwork {
  ipv6?: { subnet: string; gateway: string };
}

export interface BridgeSpec extends BridgeNetwork {
  gateway: string;
  prefixLen: number;
}

/** A container's published ports and the addresses (one per family) they are forwarded to. */
export interface PublishTarget {
  ip: string;
  ip6?: string | null;
}

/** One interface of a container: which bridge, and how the inside is configured. */
export interface Attachment {
  bridge: string;
  endpoint: EndpointOptions;
}

export class BridgeDriver {
  constructor(readonly deps: BridgeDriverDeps) {}

  netnsPath(containerId: string): string {
    return join(this.deps.netnsDir, containerId);
  }

  /** Creates (or refreshes after a restart) the daemon's nft tables, ip and ip6; turns on forwarding. */
  async init(): Promise<void> {
    await this.#nft('set up nft tables', setupTableBatch(this.deps.table) + setupTableBatch(this.deps.table, 'ip6'));
    await writeSysctl('/proc/sys/net/ipv4/ip_forward', '1').catch((err) => this.deps.log.warn({ err }, 'enable ip_forward'));
  }

  /** The bridge with its gateway address, and its nft chains. Idempotent: a restart keeps both. */
  async ensureNetwork(n: BridgeSpec, existingLinks?: readonly string[]): Promise<void> {
    // Start-up passes the host's links once for every network instead of listing them per network.
    const existing = existingLinks ?? await this.links(true);
    // A fixed MAC: a bridge otherwise takes its lowest port's, so a container joining could
    // change the gateway's MAC under its neighbours' ARP caches (seconds of lost packets).
    const mac = `02:42:${n.gateway.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
    if (!existing.includes(n.bridge)) await createBridge(this.deps, { name: n.bridge, address: `${n.gateway}/${n.prefixLen}`, mac });
    try {
      // 127.0.0.1-published ports DNAT to this bridge: without route_localnet the kernel drops them.
      await writeSysctl(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, '1');
      if (n.ipv6) await this.#bridgeIPv6(n.bridge, n.ipv6);
      await this.#nft(`set up network ${n.id}`, addNetworkBatch(this.deps.table, n) + (n.ipv6 ? addNetworkBatch(this.deps.table, v6Side(n), 'ip6') : ''));
    } catch (err) {
      if (!existing.includes(n.bridge)) await removeLink(this.deps, n.bridge).catch(() => undefined);
      throw err;
    }
  }

  /** Removes the network's chains and map elements (both families'), and its bridge unless `keepBridge` (one berth did not make). */
  async removeNetwork(n: BridgeNetwork, opts: { keepBridge?: boolean } = {}): Promise<void> {
    await this.#nft(`remove network ${n.id}`, removeNetworkBatch(this.deps.table, n) + (n.ipv6 ? removeNetworkBatch(this.deps.table, v6Side(n), 'ip6') : ''));
    if (!opts.keepBridge) await removeLink(this.deps, n.bridge);
  }

  /**
   * The gateway's IPv6 address on the bridge (idempotent: a restart re-applies it), IPv6 enabled
   * on the bridge whatever the host's default, and IPv6 forwarding on, as dockerd does for an
   * IPv6 network.
   */
  async #bridgeIPv6(bridge: string, v6: { subnet: string; gateway: string }): Promise<void> {
    await writeSysctl(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '0');
    const r = await this.deps.exec('ip', ['-6', 'addr', 'replace', `${v6.gateway}/${v6.subnet.split('/')[1]}`, 'dev', bridge, 'nodad']);
    if (r.exitCode !== 0) throw ipError(`add ${v6.gateway} to ${bridge}`, r.stderr);
    for (const p of ['/proc/sys/net/ipv6/conf/all/forwarding', '/proc/sys/net/ipv6/conf/default/forwarding']) {
      await writeSysctl(p, '1').catch((err) => this.deps.log.warn({ err }, 'enable IPv6 forwarding'));
    }
  }

  /**
   * A new namespace for the container with one veth per attachment (eth0, eth1, ...), host ends on
   * their bridges, plus, on user networks, 127.0.0.11:53 inside redirected to `dnsGateway` where berthd's DNS
   * server listens. If `ready` rejects, the caller removes the sandbox (unmounting it frees the veths). Two or three processes in all.
   * On failure nothing is left.
   */
  async createSandbox(containerId: string, attachments: readonly Attachment[], dnsGateway?: string): Promise<{ path: string; ready: Promise<void> }> {
    const path = this.netnsPath(containerId);
    await createNetns(this.deps, path, attachments.flatMap((a) => endpointCommands(a.endpoint)));
    // The host side (veths onto their bridges) and the inside's settings (IPv6 off on IPv4-only
    // interfaces, DNS redirection) are only needed once the container's process runs: the caller
    // awaits `ready` before starting it, so they overlap the runtime's create.
    const ready = (async () => {
      await this.#enslave(attachments);
      await this.#configureInside(path, attachments, dnsGateway);
    })();
    ready.catch(() => undefined); // the caller observes it; never an unhandled rejection
    return { path, ready };
  }

  /** Adds one interface to a running container's namespace (network connect). */
  async addInterface(containerId: string, a: Attachment, dnsGateway?: string): Promise<void> {
    const path = this.netnsPath(containerId);
    await addInterface(this.deps, path, a.bridge, a.endpoint); // undoes itself on failure
    try {
      await this.#configureInside(path, [a], dnsGateway);
    } catch (err) {
      await removeLink(this.deps, a.endpoint.hostVeth).catch(() => undefined);
      throw err;
    }
  }

  async removeInterface(hostVeth: string): Promise<void> {
    await removeLink(this.deps, hostVeth);
  }

  /**
   * Unmounts and deletes the namespace file. Idempotent. With its last process gone the kernel
   * frees the namespace and its veth pairs; deleting each veth ourselves would cost ~30 ms of
   * synchronous teardown per container.
   */
  async removeSandbox(containerId: string): Promise<void> {
    await removeNetns(this.deps, this.netnsPath(containerId));
  }

  /**
   * DNAT rules for one container's published ports, each in its host address's family (IPv6
   * ones to `to.ip6`), in one transaction; Conflict when one is already published.
   */
  async publish(chainId: string, to: PublishTarget, ports: readonly PortRange[]): Promise<void> {
    if (ports.length === 0) return;
    const r = await this.deps.exec('nft', ['-f', '-'], { input: this.#containerBatches(addContainerBatch, chainId, to, ports) });
    if (r.exitCode === 0) return;
    if (/File exists|interval overlaps|conflicting/i.test(r.stderr)) throw new EngineError('Conflict', 'port is already allocated');
    throw new EngineError('Internal', `publish ports: ${r.stderr.trim()}`);
  }

  async unpublish(chainId: string, to: PublishTarget, ports: readonly PortRange[]): Promise<void> {
    if (ports.length === 0) return;
    await this.#nft(`unpublish ports of ${chainId}`, this.#containerBatches(removeContainerBatch, chainId, to, ports));
  }

  #containerBatches(make: typeof addContainerBatch, chainId: string, to: PublishTarget, ports: readonly PortRange[]): string {
    return FAMILIES.map((family) => {
      const mine = ports.filter((p) => familyOfHostIp(p.hostIp) === family);
      if (mine.length === 0) return '';
      const ip = family === 'ip' ? to.ip : to.ip6;
      if (!ip) throw new EngineError('InvalidParameter', `publishing on ${mine[0]!.hostIp} needs an IPv6 address on the container's network`);
      return make(this.deps.table, { id: chainId, ip, ports: mine }, family);
    }).join('');
  }

  /** Names of every host interface starting with our prefix (or all of them). */
  async links(all = false): Promise<string[]> {
    const r = await this.deps.exec('ip', ['-o', 'link', 'show']);
    return parseLinkNames(r.stdout).filter((n) => all || n.startsWith(this.deps.ifPrefix));
  }

  /** Namespace files present (container IDs). */
  async sandboxes(): Promise<string[]> {
    return readdir(this.deps.netnsDir).catch(() => []);
  }

  /** Container chains (`c-<id>`) present in our tables, ip or ip6 (each id once). */
  async containerChains(): Promise<string[]> {
    return (await this.chains()).filter((c) => c.startsWith('c-')).map((c) => c.slice(2));
  }

  /** Every chain in our tables, ip and ip6, by name, each once (base chains, the admin's, networks' and containers'). */
  async chains(): Promise<string[]> {
    const r = await this.deps.exec('nft', ['list', 'chains']);
    const out = new Set<string>();
    let inOurs = false;
    for (const line of r.stdout.split('\n')) {
      const t = /^table (\S+) (\S+)/.exec(line);
      if (t) { inOurs = FAMILIES.includes(t[1] as NftFamily) && t[2] === this.deps.table; continue; }
      const c = /^\s*chain (\S+) \{/.exec(line);
      if (inOurs && c) out.add(c[1]!);
    }
    return [...out];
  }

  /** Drops a container chain, in both families' tables, whose map elements are unknown (leftover after a crash). */
  async dropContainerChain(chainId: string): Promise<void> {
    await this.dropChains([`c-${chainId}`]);
  }

  /**
   * Drops chains left by a crash (a container's, or a network's `n-<id>-*`) whose map elements are
   * unknown, in whichever of our tables (ip, ip6) holds them: every element of any map that jumps
   * to one of them goes first, in the same batch.
   */
  async dropChains(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const doomed = new Set(names);
    const lines: string[] = [];
    for (const family of FAMILIES) {
      const r = await this.deps.exec('nft', ['-j', 'list', 'table', family, this.deps.table]);
      const t = `${family} ${this.deps.table}`;
      const present = new Set<string>();
      try {
        const doc = JSON.parse(r.stdout) as { nftables: { chain?: { name: string }; map?: { name: string; type: string | string[]; elem?: unknown[] } }[] };
        for (const item of doc.nftables) {
          if (item.chain) present.add(item.chain.name);
          const map = item.map;
          for (const e of map?.elem ?? []) {
            const [key, verdict] = e as [unknown, { jump?: { target: string }; goto?: { target: string } }];
            const target = verdict?.jump?.target ?? verdict?.goto?.target;
            if (target && doomed.has(target)) lines.push(`delete element ${t} ${map!.name} { ${nftKeyText(key, map!.type === 'ifname')} }`);
          }
        }
      } catch { /* no table: nothing of this family to drop */ }
      for (const c of names) if (present.has(c)) lines.push(`flush chain ${t} ${c}`, `delete chain ${t} ${c}`);
    }
    if (lines.length) await this.#nft(`drop chains ${names.join(' ')}`, [...lines, ''].join('\n'));
  }

  async #enslave(attachments: readonly Attachment[]): Promise<void> {
    const lines = attachments.flatMap((a) => attachCommands(a.endpoint.hostVeth, a.bridge));
    const r = await this.deps.exec('ip', ['-batch', '-'], { input: lines.join('\n') + '\n' });
    if (r.exitCode !== 0) throw ipError('attach veths', r.stderr);
  }

  /**
   * One process inside the container's namespace: IPv6 off on each interface of an IPv4-only
   * network (dockerd does the same: such an interface would otherwise join IPv6 multicast groups
   * and take router advertisements), and on user networks 127.0.0.11:53 redirected to `dnsGateway`.
   */
  async #configureInside(path: string, attachments: readonly Attachment[], dnsGateway?: string): Promise<void> {
    const script: string[] = [];
    for (const a of attachments) {
      if (a.endpoint.address6) continue;
      const ifName = a.endpoint.ifName ?? 'eth0';
      checkIfName(ifName);
      // A kernel without IPv6 has no such file: nothing to turn off then.
      script.push(`{ echo 1 > /proc/sys/net/ipv6/conf/${ifName}/disable_ipv6; } 2>/dev/null || true`);
    }
    // route_localnet: the redirected query leaves eth0 with a 127.0.0.1 source until masqueraded.
    if (dnsGateway) script.push('echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && exec nft -f -');
    if (script.length === 0) return;
    const r = await this.deps.exec('nsenter', [`--net=${path}`, 'sh', '-c', script.join('\n')], dnsGateway ? { input: dnsRedirectBatch(dnsGateway) } : {});
    if (r.exitCode !== 0) throw new EngineError('Internal', `configure the container's network: ${r.stderr.trim()}`);
  }

  async #nft(what: string, batch: string): Promise<void> {
    const r = await this.deps.exec('nft', ['-f', '-'], { input: batch });
    if (r.exitCode !== 0) throw new EngineError('Internal', `${what}: ${r.stderr.trim()}`);
  }
}

/** The ip6 table's view of a dual-stack network: its IPv6 subnet and gateway. */
function v6Side(n: BridgeNetwork): NftNetwork {
  return { id: n.id, bridge: n.bridge, internal: n.internal, subnet: n.ipv6!.subnet, gateway: n.ipv6!.gateway };
}

async function writeSysctl(path: string, value: string): Promise<void> {
  await writeFile(path, value);
}

/** nft's JSON form of a (concatenated, interval) key back to its text form; interface names quoted. */
function nftKeyText(key: unknown, quoteStrings = false): string {
  const part = (p: unknown): string => {
    if (typeof p === 'string') return quoteStrings ? JSON.stringify(p) : p;
    if (typeof p === 'number') return String(p);
    const o = p as { prefix?: { addr: string; len: number }; range?: [unknown, unknown] };
    if (o.prefix) return `${o.prefix.addr}/${o.prefix.len}`;
    if (o.range) return `${part(o.range[0])}-${part(o.range[1])}`;
    return JSON.stringify(p);
  };
  const concat = typeof key === 'object' && key !== null ? (key as { concat?: unknown[] }).concat : undefined;
  return (Array.isArray(concat) ? concat : [key]).map(part).join(' . ');
}
