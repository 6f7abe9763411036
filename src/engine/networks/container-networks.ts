import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { EndpointSettings, HostConfig, NetworkingConfig, ContainerConfig } from '../../api/types/index.ts';
import { EngineError, invalid, messageOf } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import { cidr6Contains, cidrContains, groupRanges, parseCidr, parseCidr6, parseIPv4, parseIPv6, type Attachment, type BridgeDriver, type PortRange } from '../../network/index.ts';
import type { EventBus } from '../events.ts';
import type { DnsHub } from './dns-hub.ts';
import { assignHostPorts, hostPortFree, portRequests } from './host-ports.ts';
import { checkIPv6Bindings, macDerivedIPv6 } from './ipv6.ts';
import { linkEnv } from './link-env.ts';
import { isAssignableMac, parseMac } from './mac-address.ts';
import type { EndpointRecord, NetworkRecord } from './record.ts';
import type { NetworkService } from './service.ts';

/** The slice of a container record networking reads. */
export interface NetContainer {
  id: string;
  name: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
}

export interface ContainerNetworksDeps {
  networks: NetworkService;
  driver: BridgeDriver;
  dns: DnsHub;
  events: EventBus;
  ifPrefix: string;
  /** A container by reference, for --link and container: modes; throws NotFound. */
  container(ref: string): NetContainer & { running: boolean };
  log: { warn(o: object, m?: string): void; info(o: object, m?: string): void };
}

/** What the container's start needs from its network setup. */
export interface Sandbox {
  /** The namespace file to join; absent for host, none and container: modes. */
  netnsPath?: string;
  /** Settles when the host side is in place; the container's process must not run before. */
  ready?: Promise<void>;
  /** Addresses on the first network, for /etc/hosts. */
  ip?: string;
  ip6?: string;
  /** A user-defined network is attached: resolv.conf points at 127.0.0.11. */
  embeddedDns: boolean;
  /** --link entries for /etc/hosts: "IP\talias id name". */
  links: { ip: string; names: string[] }[];
  /** The legacy links' environment (link-env.ts), before the container's own Env. */
  linkEnv: string[];
}

/** One attachment with its network, as views and setup read them. */
export interface Attached { net: NetworkRecord; ep: EndpointRecord }

/** A --link value, "name:alias" or "/name:/container/alias" (dockerd's stored form), as its target and alias. */
export function linkParts(link: string): { name: string; alias: string } {
  const [rawName = '', rawAlias] = link.split(':');
  const name = rawName.replace(/^\//, '');
  return { name, alias: (rawAlias ?? name).replace(/^.*\//, '') };
}

/** 'default' and '' mean the default bridge, as in Docker. */
export function networkModeOf(hc: HostConfig): string {
  const m = hc.NetworkMode ?? '';
  return m === '' || m === 'default' ? 'bridge' : m;
}

/**
 * Containers on networks: attachments recorded at create (and by connect), a namespace with a
 * veth per bridge network, leased addresses, published ports and DNS names while the container
 * runs, all released when it stops. Callers hold the container's lock; address and port choice
 * is additionally serialized across containers.
 */
export class ContainerNetworks {
  readonly #alloc = new KeyedMutex();
  readonly #portCursor = { next: 0 };

  constructor(readonly deps: ContainerNetworksDeps) {}

  // ---- create: validate and record -------------------------------------------------------------

  /**
   * Checks the network settings of a new container and records its attachments. Returns Docker's
   * warnings. Throws InvalidParameter/NotFound/Conflict with Docker's wording; records nothing then.
   */
  plan(c: NetContainer, nc: NetworkingConfig | undefined): string[] {
    const hc = c.hostConfig;
    const mode = networkModeOf(hc);
    const warnings: string[] = [];
    const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
    if (mode.startsWith('container:')) {
      if (publishes) throw invalid('conflicting options: port publishing and the container type network mode');
      if (c.config.Hostname) throw invalid('conflicting options: hostname and the network mode');
      if ((hc.Dns ?? []).length || (hc.DnsSearch ?? []).length || (hc.DnsOptions ?? []).length) throw invalid('conflicting options: dns and the network mode');
      if ((hc.ExtraHosts ?? []).length) throw invalid('conflicting options: custom host-to-IP mapping and the network mode');
      if (c.config.MacAddress) throw invalid('conflicting options: mac-address and the network mode');
      this.deps.container(mode.slice('container:'.length));
      return warnings;
    }
    const primary = this.deps.networks.resolve(mode);
    const eps = nc?.EndpointsConfig ?? {};
    // docker sends the default network's settings under "default".
    const cfgFor = (n: NetworkRecord) => eps[n.name] ?? eps[n.id] ?? eps[mode] ?? (n.builtin && n.driver === 'bridge' ? eps['default'] : undefined) ?? {};
    const plans: { net: NetworkRecord; cfg: EndpointSettings }[] = [{ net: primary, cfg: { ...cfgFor(primary) } }];
    for (const [ref, cfg] of Object.entries(eps)) {
      const n = this.deps.networks.resolve(ref === 'default' ? 'bridge' : ref);
      if (plans.some((p) => p.net.id === n.id)) continue;
      if (primary.driver !== 'bridge' || n.driver !== 'bridge') throw invalid('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
      plans.push({ net: n, cfg: { ...cfg } });
    }
    // The container-wide MacAddress (Config, deprecated since API 1.44; docker-py and older CLIs send
    // it) belongs to the main network's endpoint, as dockerd's handleMACAddressBC moves it.
    if (c.config.MacAddress) {
      const main = plans[0]!.cfg;
      if (!main.MacAddress) main.MacAddress = c.config.MacAddress;
      else if (parseMac(main.MacAddress) !== parseMac(c.config.MacAddress)) {
        throw invalid('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty');
      }
    }
    if (primary.driver === 'host' && publishes) warnings.push('Published ports are discarded when using host network mode');
    if (primary.driver === 'bridge') checkIPv6Bindings(hc, primary);
    if ((hc.Links ?? []).length) plans[0]!.cfg.Links = [...new Set([...(plans[0]!.cfg.Links ?? []), ...hc.Links!])];
    for (const p of plans) this.#checkEndpoint(p.net, p.cfg);
    for (const p of plans) this.deps.networks.repo.addEndpoint({ containerId: c.id, networkId: p.net.id, endpointId: newId(), config: p.cfg });
    return warnings;
  }

  #checkEndpoint(n: NetworkRecord, cfg: EndpointSettings): void {
    const ip = cfg.IPAMConfig?.IPv4Address;
    if (n.driver !== 'bridge') {
      if (ip || cfg.Aliases?.length || cfg.MacAddress) throw invalid(`network-scoped settings (--ip, --network-alias, --mac-address) are not supported on the ${n.name} network`);
      return;
    }
    if (ip) {
      if (n.builtin) throw invalid('user specified IP address is supported on user defined networks only');
      const v = parseIPv4(ip);
      if (v === undefined) throw invalid(`invalid IPv4 address: ${ip}`);
      if (!cidrContains(parseCidr(n.subnet), v)) throw invalid(`no configured subnet or ip-range contain the IP address ${ip}`);
    }
    const ip6 = cfg.IPAMConfig?.IPv6Address;
    if (ip6) {
      if (n.builtin) throw invalid('user specified IP address is supported on user defined networks only');
      const v = parseIPv6(ip6);
      if (v === undefined) throw invalid(`invalid IPv6 address: ${ip6}`);
      // dockerd 27's wording (api/types/network EndpointIPAMConfig.IsInRange).
      if (!n.enableIPv6) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
      if (!cidr6Contains(parseCidr6(n.subnet6), v)) throw invalid(`no configured subnet or ip-range contain the IP address ${ip6}`);
    }
    if (cfg.Aliases?.length && n.builtin) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (cfg.MacAddress) {
      const mac = parseMac(cfg.MacAddress);
      if (!mac || !isAssignableMac(mac)) throw invalid(`invalid MAC address: ${cfg.MacAddress}`);
    }
    // dockerd registers legacy links at create (registerLinks): the target must exist then. On a
    // user-defined network a link is an alias resolved when the container starts, so it may not.
    if (!n.builtin) return;
    for (const l of cfg.Links ?? []) {
      const [name = ''] = l.split(':');
      try { this.deps.container(name.replace(/^\//, '')); } catch (err) { throw invalid(`could not get container for ${name}: ${messageOf(err)}`, err); }
    }
  }

  /** Attachments of a container, in interface order. */
  attached(containerId: string): Attached[] {
    return this.deps.networks.repo.endpointsOf(containerId).map((ep) => ({ ep, net: this.deps.networks.repo.get(ep.networkId)! }));
  }

  // ---- start / stop ----------------------------------------------------------------------------

  /** Builds the container's network for a start. On failure nothing is left and nothing is leased. */
  async setUp(c: NetContainer): Promise<Sandbox> {
    const all = this.attached(c.id);
    const mode = networkModeOf(c.hostConfig);
    // Its network was removed while it was stopped (Docker fails the start the same way).
    if (all.length === 0 && !['host', 'none'].includes(mode) && !mode.startsWith('container:')) throw new EngineError('NotFound', `network ${mode} not found`);
    const bridged = all.filter((a) => a.net.driver === 'bridge');
    if (bridged.length === 0) return { embeddedDns: false, links: [], linkEnv: [] };
    const { links, env: linkEnvVars } = this.#links(c, bridged[0]!);
    try {
      const leased = await this.#alloc.run('alloc', () => this.#lease(c, bridged));
      const userNet = leased.find((a) => !a.net.builtin);
      const attachments: Attachment[] = leased.map((a) => ({ bridge: a.net.bridge, endpoint: endpointOptions(a) }));
      const { path: netnsPath, ready } = await this.deps.driver.createSandbox(c.id, attachments, userNet?.net.gateway);
      const first = leased[0]!;
      await this.deps.driver.publish(chainIdOf(c.id), { ip: first.ep.ip!, ip6: first.ep.ip6 }, groupRanges(first.ep.ports)).catch((err: unknown) => {
        throw new EngineError('Conflict', `driver failed programming external connectivity on endpoint ${c.name} (${first.ep.endpointId}): ${messageOf(err)}`, { cause: err });
      });
      this.#registerDns(c, leased);
      return { netnsPath, ready, ip: first.ep.ip!, ...(first.ep.ip6 ? { ip6: first.ep.ip6 } : {}), embeddedDns: !!userNet, links, linkEnv: linkEnvVars };
    } catch (err) {
      await this.tearDown(c).catch((e) => this.deps.log.warn({ err: e, id: c.id }, 'undo network setup'));
      throw err;
    }
  }

  /** Leases addresses and host ports, recorded before the lock is released. */
  async #lease(c: NetContainer, bridged: Attached[]): Promise<Attached[]> {
    const repo = this.deps.networks.repo;
    const out: Attached[] = [];
    try {
      for (const [i, a] of bridged.entries()) {
        const ip = this.deps.networks.poolOf(a.net).allocate(a.ep.config.IPAMConfig?.IPv4Address);
        const ip6 = this.#lease6(a.net, a.ep.config, ip);
        let ports: PortRange[] = [];
        if (i === 0) {
          const reqs = portRequests(c.hostConfig.PortBindings, c.config.ExposedPorts, !!c.hostConfig.PublishAllPorts, a.net.enableIPv6);
          if (reqs.length) {
            ports = await assignHostPorts(reqs, {
              taken: () => repo.publishedPorts().map((p) => p.port),
              free: hostPortFree,
            }, this.#portCursor).catch((err: unknown) => {
              throw new EngineError(err instanceof EngineError ? err.kind : 'Internal', `driver failed programming external connectivity on endpoint ${c.name} (${a.ep.endpointId}): ${messageOf(err)}`, { cause: err });
            });
          }
        }
        const rt = this.#runtime(ip, ip6, a.ep.config, i, ports);
        repo.saveRuntime(c.id, a.net.id, rt);
        out.push({ net: a.net, ep: { ...a.ep, ...rt } });
      }
    } catch (err) {
      repo.clearRuntime(c.id);
      throw err;
    }
    return out;
  }

  /** What a leased endpoint holds while the container runs (saved with NetworkRepo.saveRuntime). */
  #runtime(ip: string, ip6: string | null, cfg: EndpointSettings, ifIndex: number, ports: PortRange[]): Pick<EndpointRecord, 'ip' | 'ip6' | 'mac' | 'ifName' | 'hostVeth' | 'ports'> {
    return { ip, ip6, mac: macOf(ip, cfg), ifName: `eth${ifIndex}`, hostVeth: vethName(this.deps.ifPrefix), ports };
  }

  /** The IPv6 lease on a dual-stack network: --ip6, the MAC-derived address dockerd gives on the default bridge, or the next free one. */
  #lease6(n: NetworkRecord, cfg: EndpointSettings, ip: string): string | null {
    return this.deps.networks.poolOf6(n)?.allocate(cfg.IPAMConfig?.IPv6Address || macDerivedIPv6(n, macOf(ip, cfg))) ?? null;
  }

  /**
   * The /etc/hosts entries and environment of the container's links. On the default bridge they
   * are legacy links: the target must run (dockerd: setupLinkedContainers) and the environment is
   * set. On a user-defined network a link is only an alias (libnetwork CreateOptionAlias): a target
   * that does not exist or does not run yet is no error, as with dockerd.
   */
  /** `docker rm --link /<container>/<alias>`: the link leaves the container's endpoints; its next start has no such link. */
  removeLink(c: NetContainer, alias: string): boolean {
    let found = false;
    for (const a of this.attached(c.id)) {
      const links = a.ep.config.Links ?? [];
      const kept = links.filter((l) => linkParts(l).alias !== alias);
      if (kept.length === links.length) continue;
      this.deps.networks.repo.setConfig(c.id, a.net.id, { ...a.ep.config, Links: kept });
      found = true;
    }
    return found;
  }

  #links(c: NetContainer, first: Attached): { links: { ip: string; names: string[] }[]; env: string[] } {
    const legacy = first.net.builtin;
    const links: { ip: string; names: string[] }[] = [];
    const env: string[] = [];
    for (const l of first.ep.config.Links ?? []) {
      const { name, alias } = linkParts(l);
      let target: ReturnType<ContainerNetworksDeps['container']>;
      try {
        target = this.deps.container(name);
      } catch (err) {
        if (legacy) throw err;
        continue;
      }
      if (!target.running) {
        if (!legacy) continue;
        throw new EngineError('Conflict', `Cannot link to a non running container: /${target.name} AS /${c.name}/${alias}`);
      }
      const ip = this.attached(target.id).find((a) => a.net.id === first.net.id)?.ep.ip ?? this.attached(target.id).find((a) => a.ep.ip)?.ep.ip;
      if (!ip) {
        if (!legacy) continue;
        throw new EngineError('Conflict', `Cannot link to /${target.name}, as it does not belong to the default network`);
      }
      const hostname = target.config.Hostname || target.id.slice(0, 12);
      links.push({ ip, names: alias === target.name ? [alias, hostname] : [alias, hostname, target.name] });
      if (legacy) env.push(...linkEnv({ name: `/${c.name}/${alias}`, childIp: ip, env: target.config.Env, exposedPorts: target.config.ExposedPorts }));
    }
    return { links, env };
  }

  #registerDns(c: NetContainer, running: Attached[]): void {
    const ips = running.map((a) => a.ep.ip!).filter(Boolean);
    const userNets = running.filter((a) => !a.net.builtin).map((a) => a.net.id);
    for (const a of running) {
      if (a.net.builtin || !a.ep.ip) continue;
      this.deps.dns.register(a.net.id, { ip: a.ep.ip, ip6: a.ep.ip6 }, dnsNames(c, a.ep.config), ips, userNets, c.hostConfig.Dns ?? []);
    }
  }

  /** Releases everything the container's network held. Idempotent; safe on a half-made setup. */
  async tearDown(c: NetContainer): Promise<void> {
    const all = this.attached(c.id);
    const live = all.filter((a) => a.ep.ip !== null || a.ep.hostVeth !== null);
    const ips = live.map((a) => a.ep.ip!).filter(Boolean);
    for (const a of live) if (a.ep.ip) this.deps.dns.unregister(a.net.id, a.ep.ip, ips, []);
    const first = live.find((a) => a.ep.ports.length > 0);
    const errors: unknown[] = [];
    if (first) await this.deps.driver.unpublish(chainIdOf(c.id), { ip: first.ep.ip ?? '0.0.0.0', ip6: first.ep.ip6 ?? '::' }, groupRanges(first.ep.ports)).catch((e) => errors.push(e));
    if (live.length || existsSync(this.deps.driver.netnsPath(c.id))) {
      await this.deps.driver.removeSandbox(c.id).catch((e) => errors.push(e));
    }
    // Leases go even if a host object resisted: recovery's sweep removes leftovers by name.
    this.deps.networks.repo.clearRuntime(c.id);
    if (errors.length) throw errors[0];
  }

  /** Names changed (rename): the running container's DNS entries follow. */
  refreshDns(c: NetContainer): void {
    const live = this.attached(c.id).filter((a) => a.ep.ip);
    this.#registerDns(c, live);
  }

  // ---- connect / disconnect --------------------------------------------------------------------

  async connect(c: NetContainer, running: boolean, netRef: string, cfg: EndpointSettings): Promise<void> {
    const n = this.deps.networks.resolve(netRef);
    const mode = networkModeOf(c.hostConfig);
    const current = this.attached(c.id);
    if (mode.startsWith('container:') || current.some((a) => a.net.driver !== 'bridge')) {
      throw new EngineError('Forbidden', 'container sharing network namespace with another container or host cannot be connected to any other network');
    }
    if (n.driver !== 'bridge') throw new EngineError('Forbidden', `container cannot be disconnected from host network or connected to host network`);
    if (current.some((a) => a.net.id === n.id)) throw new EngineError('Forbidden', `endpoint with name ${c.name} already exists in network ${n.name}`);
    this.#checkEndpoint(n, cfg);
    const repo = this.deps.networks.repo;
    repo.addEndpoint({ containerId: c.id, networkId: n.id, endpointId: newId(), config: { ...cfg } });
    if (running) {
      try {
        const a = this.attached(c.id).find((x) => x.net.id === n.id)!;
        const ifIndex = current.length;
        const [leased] = await this.#alloc.run('alloc', async () => {
          const ip = this.deps.networks.poolOf(n).allocate(cfg.IPAMConfig?.IPv4Address);
          const ip6 = this.#lease6(n, cfg, ip);
          const rt = this.#runtime(ip, ip6, cfg, ifIndex, []);
          repo.saveRuntime(c.id, n.id, rt);
          return [{ net: n, ep: { ...a.ep, ...rt } }];
        });
        await this.deps.driver.addInterface(c.id, { bridge: n.bridge, endpoint: endpointOptions(leased!, false) }, n.builtin ? undefined : n.gateway);
        this.#registerDns(c, this.attached(c.id).filter((x) => x.ep.ip));
      } catch (err) {
        repo.removeEndpoint(c.id, n.id);
        throw err;
      }
    }
    this.deps.events.publish('network', 'connect', n.id, { container: c.id, name: n.name, type: n.driver });
  }

  async disconnect(c: NetContainer, running: boolean, netRef: string): Promise<void> {
    const n = this.deps.networks.resolve(netRef);
    const a = this.attached(c.id).find((x) => x.net.id === n.id);
    if (!a) throw new EngineError('Forbidden', `container ${c.id} is not connected to network ${n.name}`);
    if (n.driver !== 'bridge' && running) throw new EngineError('Forbidden', 'container cannot be disconnected from host network or connected to host network');
    if (running && a.ep.ip) {
      const rest = this.attached(c.id).filter((x) => x.ep.ip && x.net.id !== n.id);
      this.deps.dns.unregister(n.id, a.ep.ip, rest.map((x) => x.ep.ip!), rest.filter((x) => !x.net.builtin).map((x) => x.net.id));
      if (a.ep.ports.length) await this.deps.driver.unpublish(chainIdOf(c.id), { ip: a.ep.ip, ip6: a.ep.ip6 ?? '::' }, groupRanges(a.ep.ports));
      if (a.ep.hostVeth) await this.deps.driver.removeInterface(a.ep.hostVeth);
    }
    this.deps.networks.repo.removeEndpoint(c.id, n.id);
    this.deps.events.publish('network', 'disconnect', n.id, { container: c.id, name: n.name, type: n.driver });
  }

  // ---- recovery --------------------------------------------------------------------------------

  /**
   * After the containers' own recovery: running containers get their DNS names back; anything
   * our names mark as ours but no running container owns is removed (namespaces, veths, bridges
   * of deleted networks, port chains) and stale leases are released.
   */
  async recover(running: readonly NetContainer[]): Promise<void> {
    const runningIds = new Set(running.map((c) => c.id));
    const repo = this.deps.networks.repo;
    for (const ep of repo.allEndpoints()) if (!runningIds.has(ep.containerId) && (ep.ip || ep.hostVeth)) repo.clearRuntime(ep.containerId);
    const keepVeths = new Set<string>();
    const keepChains = new Set<string>();
    for (const c of running) {
      const live = this.attached(c.id).filter((a) => a.ep.ip);
      for (const a of live) if (a.ep.hostVeth) keepVeths.add(a.ep.hostVeth);
      if (live.some((a) => a.ep.ports.length)) keepChains.add(chainIdOf(c.id));
      this.#registerDns(c, live);
    }
    const bridges = new Set(repo.all().map((n) => n.bridge).filter(Boolean));
    const d = this.deps.driver;
    const quiet = (what: string) => (err: unknown) => this.deps.log.warn({ err, what }, 'network sweep');
    for (const id of await d.sandboxes()) if (!runningIds.has(id)) await d.removeSandbox(id).catch(quiet(`netns ${id}`));
    for (const l of await d.links()) {
      if (bridges.has(l) || keepVeths.has(l)) continue;
      await d.removeInterface(l).catch(quiet(`link ${l}`));
    }
    for (const ch of await d.containerChains()) if (!keepChains.has(ch)) await d.dropContainerChain(ch).catch(quiet(`chain ${ch}`));
  }
}

/** The nft chain id of a container's published ports. */
const chainIdOf = (containerId: string) => containerId.slice(0, 12);

/** The endpoint's MAC: the one asked for, else Docker's from its IPv4 address. */
const macOf = (ip: string, cfg: EndpointSettings): string => (cfg.MacAddress && parseMac(cfg.MacAddress)) || macFromIp(ip);

/** Docker's MAC for an address: 02:42 followed by the four address bytes. */
export function macFromIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/**
 * Host veth name: our prefix, 'v', random hex, 15 characters at most. New per start: the previous
 * run's pair may still be going away with its namespace (the kernel frees it asynchronously).
 */
export function vethName(ifPrefix: string): string {
  const room = 15 - ifPrefix.length - 1;
  return `${ifPrefix}v${randomBytes(8).toString('hex').slice(0, room)}`;
}

function endpointOptions(a: Attached, withGateway = a.ep.ifName === 'eth0'): Attachment['endpoint'] {
  const gateways = withGateway && !a.net.internal;
  return {
    hostVeth: a.ep.hostVeth!, ifName: a.ep.ifName!, address: `${a.ep.ip}/${parseCidr(a.net.subnet).prefix}`,
    ...(gateways ? { gateway: a.net.gateway } : {}), mac: a.ep.mac!,
    ...(a.ep.ip6 ? { address6: `${a.ep.ip6}/${parseCidr6(a.net.subnet6).prefix}`, ...(gateways ? { gateway6: a.net.gateway6 } : {}) } : {}),
  };
}

/** The names a container answers to on a user network: name, aliases, short ID. */
export function dnsNames(c: NetContainer, cfg: EndpointSettings): string[] {
  return [c.name, ...(cfg.Aliases ?? []), c.id.slice(0, 12)];
}
