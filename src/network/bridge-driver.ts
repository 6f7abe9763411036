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
import { addInterface, attachCommands, createBridge, endpointCommands, parseLinkNames, removeLink, type EndpointOptions } from './link.ts';
import { createNetns, ipError, removeNetns } from './netns.ts';
import { addContainerBatch, addNetworkBatch, dnsRedirectBatch, removeContainerBatch, removeNetworkBatch, setupTableBatch, type NftNetwork } from './nft.ts';
import type { PortRange } from './ports.ts';

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

export interface BridgeSpec extends NftNetwork {
  gateway: string;
  prefixLen: number;
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

  /** Creates (or refreshes after a restart) the daemon's nft table; turns on forwarding. */
  async init(): Promise<void> {
    await this.#nft('set up nft table', setupTableBatch(this.deps.table));
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
      await this.#nft(`set up network ${n.id}`, addNetworkBatch(this.deps.table, n));
    } catch (err) {
      if (!existing.includes(n.bridge)) await removeLink(this.deps, n.bridge).catch(() => undefined);
      throw err;
    }
  }

  /** Removes the network's chains and map elements, and its bridge unless `keepBridge` (one berth did not make). */
  async removeNetwork(n: NftNetwork, opts: { keepBridge?: boolean } = {}): Promise<void> {
    await this.#nft(`remove network ${n.id}`, removeNetworkBatch(this.deps.table, n));
    if (!opts.keepBridge) await removeLink(this.deps, n.bridge);
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
    // The host side (veths onto their bridges, DNS redirection) is only needed once the container's
    // process runs: the caller awaits `ready` before starting it, so it overlaps the runtime's create.
    const ready = (async () => {
      await this.#enslave(attachments);
      if (dnsGateway) await this.#redirectDns(path, dnsGateway);
    })();
    ready.catch(() => undefined); // the caller observes it; never an unhandled rejection
    return { path, ready };
  }

  /** Adds one interface to a running container's namespace (network connect). */
  async addInterface(containerId: string, a: Attachment, dnsGateway?: string): Promise<void> {
    const path = this.netnsPath(containerId);
    await addInterface(this.deps, path, a.bridge, a.endpoint); // undoes itself on failure
    try {
      if (dnsGateway) await this.#redirectDns(path, dnsGateway);
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

  /** DNAT rules for one container's published ports; Conflict when one is already published. */
  async publish(chainId: string, ip: string, ports: readonly PortRange[]): Promise<void> {
    if (ports.length === 0) return;
    const r = await this.deps.exec('nft', ['-f', '-'], { input: addContainerBatch(this.deps.table, { id: chainId, ip, ports }) });
    if (r.exitCode === 0) return;
    if (/File exists|interval overlaps|conflicting/i.test(r.stderr)) throw new EngineError('Conflict', 'port is already allocated');
    throw new EngineError('Internal', `publish ports: ${r.stderr.trim()}`);
  }

  async unpublish(chainId: string, ip: string, ports: readonly PortRange[]): Promise<void> {
    if (ports.length === 0) return;
    await this.#nft(`unpublish ports of ${chainId}`, removeContainerBatch(this.deps.table, { id: chainId, ip, ports }));
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

  /** Container chains (`c-<id>`) present in our table. */
  async containerChains(): Promise<string[]> {
    return (await this.chains()).filter((c) => c.startsWith('c-')).map((c) => c.slice(2));
  }

  /** Every chain in our table, by name (base chains, the admin's, networks' and containers'). */
  async chains(): Promise<string[]> {
    const r = await this.deps.exec('nft', ['list', 'chains', 'ip']);
    const out: string[] = [];
    let inOurs = false;
    for (const line of r.stdout.split('\n')) {
      const t = /^table ip (\S+)/.exec(line);
      if (t) { inOurs = t[1] === this.deps.table; continue; }
      const c = /^\s*chain (\S+) \{/.exec(line);
      if (inOurs && c) out.push(c[1]!);
    }
    return out;
  }

  /** Drops a container chain whose map elements are unknown (leftover after a crash). */
  async dropContainerChain(chainId: string): Promise<void> {
    await this.dropChains([`c-${chainId}`]);
  }

  /**
   * Drops chains left by a crash (a container's, or a network's `n-<id>-*`) whose map elements are
   * unknown: every element of any map that jumps to one of them goes first, in the same batch.
   */
  async dropChains(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const doomed = new Set(names);
    const r = await this.deps.exec('nft', ['-j', 'list', 'table', 'ip', this.deps.table]);
    const t = `ip ${this.deps.table}`;
    const lines: string[] = [];
    try {
      const doc = JSON.parse(r.stdout) as { nftables: { map?: { name: string; type: string | string[]; elem?: unknown[] } }[] };
      for (const item of doc.nftables) {
        const map = item.map;
        for (const e of map?.elem ?? []) {
          const [key, verdict] = e as [unknown, { jump?: { target: string }; goto?: { target: string } }];
          const target = verdict?.jump?.target ?? verdict?.goto?.target;
          if (target && doomed.has(target)) lines.push(`delete element ${t} ${map!.name} { ${nftKeyText(key, map!.type === 'ifname')} }`);
        }
      }
    } catch { /* no table: nothing points at the chains */ }
    for (const c of names) lines.push(`flush chain ${t} ${c}`, `delete chain ${t} ${c}`);
    await this.#nft(`drop chains ${names.join(' ')}`, [...lines, ''].join('\n'));
  }

  async #enslave(attachments: readonly Attachment[]): Promise<void> {
    const lines = attachments.flatMap((a) => attachCommands(a.endpoint.hostVeth, a.bridge));
    const r = await this.deps.exec('ip', ['-batch', '-'], { input: lines.join('\n') + '\n' });
    if (r.exitCode !== 0) throw ipError('attach veths', r.stderr);
  }

  async #redirectDns(path: string, gateway: string): Promise<void> {
    // route_localnet: the redirected query leaves eth0 with a 127.0.0.1 source until masqueraded.
    const r = await this.deps.exec('nsenter', [`--net=${path}`, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && exec nft -f -'],
      { input: dnsRedirectBatch(gateway) });
    if (r.exitCode !== 0) throw new EngineError('Internal', `redirect 127.0.0.11 in the container: ${r.stderr.trim()}`);
  }

  async #nft(what: string, batch: string): Promise<void> {
    const r = await this.deps.exec('nft', ['-f', '-'], { input: batch });
    if (r.exitCode !== 0) throw new EngineError('Internal', `${what}: ${r.stderr.trim()}`);
  }
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
