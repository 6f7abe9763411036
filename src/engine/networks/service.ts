import { newId } from '../../lib/ids.ts';
import { EngineError, invalid } from '../../lib/errors.ts';
import { checkFilterKeys, matchLabels, type Filters } from '../../lib/filters.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import type { NetworkCreateRequest } from '../../api/types/index.ts';
import {
  AddressPool, AddressPool6, cidrContains, createPool, createPool6, isIPv6Cidr, parseCidr, parseIPv4, parseHostRoutes, pickDefaultSubnet,
  type BridgeDriver, type BridgeNetwork, type BridgeSpec, type DefaultPool,
} from '../../network/index.ts';
import type { EventBus } from '../events.ts';
import type { DnsHub } from './dns-hub.ts';
import { ipamEntry6, ipv6Requested, planIPv6Pool, splitIpamConfigs } from './ipv6.ts';
import { checkBridgeOptions, checkNetworkKind, validateIpam } from './validate-create.ts';
import { networkPrunePredicate } from './prune.ts';
import { NetworkRepo, type NetworkRecord } from './record.ts';
import { IntentLog } from '../../store/intents.ts';
import { CREATE_INTENT, REMOVE_INTENT, recoverNetworkIntents, sweepNetworkChains, type NetworkIntent } from './recovery.ts';

export interface NetworkServiceConfig {
  /** Name of the default bridge's Linux interface ("berth0"). */
  defaultBridge: string;
  /** Start of the names of user networks' bridges. */
  ifPrefix: string;
  /** --bip: the default bridge's gateway address with prefix ("172.17.0.1/16"), if set. */
  bip?: string;
  defaultAddressPools?: readonly DefaultPool[];
  /** --ipv6 --fixed-cidr-v6: the default bridge's IPv6 subnet. */
  fixedCidrV6?: string;
}

export interface NetworkServiceDeps {
  db: import('../../store/db.ts').Db;
  driver: BridgeDriver;
  dns: DnsHub;
  events: EventBus;
  config: NetworkServiceConfig;
  /** Whether a container currently runs (network rm refuses while endpoints are active). */
  isRunning(containerId: string): boolean;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

/** Names dockerd reserves (container.NetworkMode IsBridge, IsHost, IsNone, IsDefault). */
const PREDEFINED = ['bridge', 'host', 'none', 'default'];
const DRIVER_OPT_BRIDGE = 'com.docker.network.bridge.name';
const NO_IPV6 = { enableIPv6: false, subnet6: '', gateway6: '', ipRange6: '' } as const;

/**
 * Networks as objects: the built-in bridge, host and none, and user-defined bridge networks with
 * their subnets, bridges, nft chains and DNS servers. Creation and removal are serialized (subnet
 * choice and overlap checks must see each other). Containers' attachments are ContainerNetworks'.
 */
export class NetworkService {
  readonly repo: NetworkRepo;
  readonly #lock = new KeyedMutex();
  readonly #intents: IntentLog;

  constructor(readonly deps: NetworkServiceDeps) {
    this.repo = new NetworkRepo(deps.db);
    this.#intents = new IntentLog(deps.db);
  }

  /**
   * The built-in networks exist, every bridge network has its bridge, chains and DNS server; a
   * create or remove a crash cut short is undone or finished, and chains of no network are dropped.
   */
  async init(): Promise<void> {
    await this.deps.driver.init();
    await recoverNetworkIntents({ intents: this.#intents, repo: this.repo, driver: this.deps.driver, log: this.deps.log });
    if (!this.repo.byName('none')) this.#insertBuiltin('none', 'null');
    if (!this.repo.byName('host')) this.#insertBuiltin('host', 'host');
    let bridge = this.repo.byName('bridge');
    if (bridge && this.deps.config.bip && bridgePoolChanged(bridge, this.deps.config.bip)) {
      // --bip changed: the default bridge is remade with the new pool (only while nothing uses it).
      if (this.repo.endpointsOn(bridge.id).some((e) => e.ip !== null)) {
        this.deps.log.warn({ bip: this.deps.config.bip }, 'bip changed but containers hold addresses on the default bridge: keeping the old subnet');
      } else {
        await this.deps.driver.removeNetwork(nftNet(bridge)).catch(() => undefined);
        const [subnet, gateway] = bipPool(this.deps.config.bip);
        const v6 = (bridge.ipam.Config ?? []).filter((c) => c.Subnet && isIPv6Cidr(c.Subnet));
        const ipam = { ...bridge.ipam, Config: [{ Subnet: subnet, Gateway: gateway }, ...v6] };
        this.deps.db.prepare('UPDATE networks SET subnet = ?, gateway = ?, ipam = ? WHERE id = ?').run(subnet, gateway, JSON.stringify(ipam), bridge.id);
        bridge = this.repo.get(bridge.id);
      }
    }
    if (!bridge) bridge = await this.#createDefaultBridge();
    await this.#defaultBridgeIPv6(bridge);
    const links = await this.deps.driver.links(true);
    for (const n of this.repo.all().filter((x) => x.driver === 'bridge')) {
      try {
        await this.deps.driver.ensureNetwork(bridgeSpec(n), links);
      } catch (err) {
        // One broken network must not keep the daemon (and every other container) down.
        if (n.builtin) throw err;
        this.deps.log.warn({ err, network: n.name }, 'network could not be restored');
        continue;
      }
      if (!n.builtin) await this.deps.dns.serve(n.id, n.gateway);
    }
    await sweepNetworkChains({ repo: this.repo, driver: this.deps.driver, log: this.deps.log });
  }

  /**
   * --ipv6 --fixed-cidr-v6: the default bridge becomes dual-stack (or IPv4-only again without
   * them). Like a --bip change, applied only while no container holds an address on it.
   */
  async #defaultBridgeIPv6(bridge: NetworkRecord): Promise<void> {
    const want = this.deps.config.fixedCidrV6 ? createPool6({ subnet: this.deps.config.fixedCidrV6 }) : undefined;
    if ((want?.subnet ?? '') === bridge.subnet6) return;
    if (this.repo.endpointsOn(bridge.id).some((e) => e.ip !== null)) {
      this.deps.log.warn({ fixedCidrV6: want?.subnet ?? null }, 'IPv6 settings of the default bridge changed but containers hold addresses on it: keeping the old ones');
      return;
    }
    // The bridge and its ip6 side go; ensureNetwork makes them again as now configured.
    if (bridge.enableIPv6) await this.deps.driver.removeNetwork(nftNet(bridge)).catch(() => undefined);
    const v4 = (bridge.ipam.Config ?? []).filter((c) => !c.Subnet || !isIPv6Cidr(c.Subnet));
    const ipam = { ...bridge.ipam, Config: [...v4, ...(want ? [{ Subnet: want.subnet, Gateway: want.gateway }] : [])] };
    this.deps.db.prepare('UPDATE networks SET enable_ipv6 = ?, subnet6 = ?, gateway6 = ?, ip_range6 = NULL, ipam = ? WHERE id = ?')
      .run(want ? 1 : 0, want?.subnet ?? null, want?.gateway ?? null, JSON.stringify(ipam), bridge.id);
  }

  #insertBuiltin(name: string, driver: 'host' | 'null'): void {
    this.repo.insert({
      id: newId(), name, driver, createdAt: new Date().toISOString(), bridge: '', subnet: '', gateway: '', ipRange: '', ...NO_IPV6,
      internal: false, attachable: false, builtin: true, labels: {}, options: {}, ipam: { Driver: 'default', Options: null, Config: null },
    });
  }

  async #createDefaultBridge(): Promise<NetworkRecord> {
    const br = this.deps.config.defaultBridge;
    let subnet: string;
    let gateway: string;
    if (this.deps.config.bip) [subnet, gateway] = bipPool(this.deps.config.bip);
    else {
      subnet = await this.#freeSubnet([br]);
      gateway = createPool({ subnet }).gateway;
    }
    const n: NetworkRecord = {
      id: newId(), name: 'bridge', driver: 'bridge', createdAt: new Date().toISOString(), bridge: br, subnet, gateway, ipRange: '', ...NO_IPV6,
      internal: false, attachable: false, builtin: true, labels: {},
      options: {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [DRIVER_OPT_BRIDGE]: br, 'com.docker.network.driver.mtu': '1500',
      },
      ipam: { Driver: 'default', Options: null, Config: [{ Subnet: subnet, Gateway: gateway }] },
    };
    this.repo.insert(n);
    return n;
  }

  /** A default-pool subnet used neither by our networks nor by the host's routes. */
  async #freeSubnet(ignoreDevs: string[]): Promise<string> {
    const routes = await this.deps.driver.deps.exec('ip', ['-j', 'route']);
    const ours = this.repo.all().filter((n) => n.subnet).map((n) => n.subnet);
    return pickDefaultSubnet({
      ...(this.deps.config.defaultAddressPools ? { pools: this.deps.config.defaultAddressPools } : {}),
      inUse: ours,
      hostRoutes: parseHostRoutes(routes.stdout, [...ignoreDevs, ...this.repo.all().filter((n) => n.bridge).map((n) => n.bridge)]),
    });
  }

  // ---- create / remove -------------------------------------------------------------------------

  async create(req: NetworkCreateRequest): Promise<{ id: string; warning: string }> {
    const name = req.Name ?? '';
    // dockerd 27 (API 1.47) refuses only the predefined names and a name that is blank: a
    // network's name is never part of a host object's name (bridges and chains come from its id).
    if (PREDEFINED.includes(name)) throw new EngineError('Forbidden', `operation is not permitted on predefined ${name} network `);
    if (name.trim() === '') throw invalid(`invalid name: ${name}`);
    const options = { ...(req.Options ?? {}) };
    const enableIPv6 = ipv6Requested(req, options);
    validateIpam(req.IPAM?.Config, enableIPv6);
    checkNetworkKind(req, (ref) => this.#exists(ref));
    checkBridgeOptions(options);
    const { v4: configs, v6: configs6 } = splitIpamConfigs(req.IPAM?.Config ?? []);
    if (configs.length > 1) throw new EngineError('NotImplemented', 'berth supports one IPv4 subnet per network');
    if (configs6.length > 1) throw new EngineError('NotImplemented', 'berth supports one IPv6 subnet per network');
    return this.#lock.run('networks', async () => {
      if (this.repo.byName(name)) throw new EngineError('Conflict', `network with name ${name} already exists`);
      const id = newId();
      const bridgeName = options[DRIVER_OPT_BRIDGE] || `${this.deps.config.ifPrefix}-${id.slice(0, 8)}`;
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridgeName)) throw invalid(`invalid bridge name "${bridgeName}": at most 15 characters of [A-Za-z0-9_.-]`);
      if (this.repo.all().some((n) => n.bridge === bridgeName)) throw new EngineError('Conflict', `bridge name ${bridgeName} is already used by another network`);
      const others = this.repo.all().filter((n) => n.subnet).map((n) => n.subnet);
      const cfg = configs[0];
      if (cfg && !cfg.Subnet && (cfg.Gateway || cfg.IPRange)) throw invalid('gateway and ip-range need a subnet (--subnet)');
      const pool = cfg?.Subnet
        ? createPool({ subnet: cfg.Subnet, ...(cfg.Gateway ? { gateway: cfg.Gateway } : {}), ...(cfg.IPRange ? { ipRange: cfg.IPRange } : {}) }, others)
        : createPool({ subnet: await this.#freeSubnet([]) });
      if (cfg?.Subnet) await this.#checkHostRoutes(pool.subnet);
      for (const [host, ip] of Object.entries(cfg?.AuxiliaryAddresses ?? {})) {
        const v = parseIPv4(ip);
        if (v === undefined || !cidrContains(parseCidr(pool.subnet), v)) throw invalid(`invalid auxiliary address ${host}=${ip}: not in subnet ${pool.subnet}`);
      }
      const cfg6 = configs6[0];
      const pool6 = enableIPv6 ? await planIPv6Pool(cfg6, {
        inUse: this.repo.all().filter((x) => x.subnet6).map((x) => x.subnet6),
        hostRoutes: async () => ({
          text: (await this.deps.driver.deps.exec('ip', ['-6', '-j', 'route'])).stdout,
          ourBridges: this.repo.all().filter((x) => x.bridge).map((x) => x.bridge),
        }),
        ...(this.deps.config.defaultAddressPools ? { defaultPools: this.deps.config.defaultAddressPools } : {}),
      }) : undefined;
      const n: NetworkRecord = {
        id, name, driver: 'bridge', createdAt: new Date().toISOString(), bridge: bridgeName, subnet: pool.subnet, gateway: pool.gateway,
        ipRange: pool.ipRange ?? '',
        ...(pool6 ? { enableIPv6: true, subnet6: pool6.subnet, gateway6: pool6.gateway, ipRange6: pool6.ipRange ?? '' } : NO_IPV6),
        internal: !!req.Internal, attachable: !!req.Attachable, builtin: false, labels: req.Labels ?? {},
        options, ipam: {
          // IPAM.Options as the client sent it: null when it sent none (dockerd keeps the map it got).
          Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? null,
          Config: [{
            Subnet: pool.subnet, Gateway: pool.gateway, ...(pool.ipRange ? { IPRange: pool.ipRange } : {}),
            ...(cfg?.AuxiliaryAddresses && Object.keys(cfg.AuxiliaryAddresses).length ? { AuxiliaryAddresses: cfg.AuxiliaryAddresses } : {}),
          },
          // Without EnableIPv6 dockerd 27 keeps (and shows) an IPv6 --subnet but gives no IPv6 address.
          ...(pool6 ? [ipamEntry6(pool6, cfg6)] : cfg6 ? [cfg6] : [])],
        },
      };
      // Intent, host objects, then the row: a failure (or a crash, through recovery) leaves nothing behind.
      const links = await this.deps.driver.links(true);
      const intent: NetworkIntent = { net: nftNet(n), keepBridge: links.includes(bridgeName) };
      this.#intents.record(CREATE_INTENT, id, intent);
      try {
        await this.deps.driver.ensureNetwork(bridgeSpec(n), links);
        this.repo.insert(n);
      } catch (err) {
        await this.deps.driver.removeNetwork(intent.net, { keepBridge: intent.keepBridge }).catch(() => undefined);
        this.#intents.clear(CREATE_INTENT, id);
        throw err;
      }
      this.#intents.clear(CREATE_INTENT, id);
      await this.deps.dns.serve(n.id, n.gateway);
      this.deps.events.publish('network', 'create', id, { name, type: 'bridge' });
      return { id, warning: '' };
    });
  }

  /** A --subnet that a host route already covers would black-hole traffic: refused, as Docker does. */
  async #checkHostRoutes(subnet: string): Promise<void> {
    const r = await this.deps.driver.deps.exec('ip', ['-j', 'route']);
    const ours = this.repo.all().filter((n) => n.bridge).map((n) => n.bridge);
    const sub = parseCidr(subnet);
    for (const route of parseHostRoutes(r.stdout, ours)) {
      if (route.prefix > 0 && sub.network <= route.network + 2 ** (32 - route.prefix) - 1 && route.network <= sub.network + 2 ** (32 - sub.prefix) - 1) {
        throw new EngineError('Conflict', `Pool overlaps with other one on this address space`);
      }
    }
  }

  async remove(ref: string): Promise<void> {
    const n = this.repo.resolve(ref);
    if (n.builtin) throw new EngineError('Forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    await this.#lock.run('networks', async () => {
      // Only running containers hold endpoints, as in Docker: a stopped one loses the attachment
      // and its next start fails with "network <name> not found".
      const eps = this.repo.endpointsOn(n.id);
      if (eps.some((e) => this.deps.isRunning(e.containerId))) {
        throw new EngineError('Forbidden', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
      }
      this.#intents.record(REMOVE_INTENT, n.id, { net: nftNet(n), keepBridge: false } satisfies NetworkIntent);
      for (const e of eps) this.repo.removeEndpoint(e.containerId, n.id);
      await this.deps.dns.stop(n.id);
      try {
        await this.deps.driver.removeNetwork(nftNet(n));
      } catch (err) {
        // Refused, not cut short: the network stays (the next start restores what went) and recovery must not finish it.
        this.#intents.clear(REMOVE_INTENT, n.id);
        throw err;
      }
      this.repo.delete(n.id);
      this.#intents.clear(REMOVE_INTENT, n.id);
      this.deps.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
    });
  }

  /**
   * Removes every user network no container is attached to that the filters select (`until`:
   * created at or before it; `label`, `label!` as dockerd); returns their names.
   * InvalidParameter for an unknown filter or a bad time.
   */
  async prune(filters: Filters): Promise<string[]> {
    const takes = networkPrunePredicate(filters, (n) => this.#inUse(n));
    const removed: string[] = [];
    for (const n of this.repo.all()) {
      if (!takes(n)) continue;
      try {
        await this.remove(n.id);
        removed.push(n.name);
      } catch (err) {
        this.deps.log.warn({ err, network: n.name }, 'prune network');
      }
    }
    this.deps.events.publish('network', 'prune', '', { reclaimed: '0' });
    return removed;
  }

  // ---- lookups ---------------------------------------------------------------------------------

  #exists(ref: string): boolean {
    try { this.repo.resolve(ref); return true; } catch { return false; }
  }

  resolve(ref: string): NetworkRecord {
    return this.repo.resolve(ref);
  }

  list(filters: Filters): NetworkRecord[] {
    checkFilterKeys(filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    const any = (key: string, pred: (v: string) => boolean) => {
      const vals = filters.get(key);
      return !vals || vals.length === 0 || vals.some(pred);
    };
    for (const t of filters.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw invalid(`invalid filter: 'type'='${t}'`);
    for (const v of filters.get('dangling') ?? []) if (!['true', 'false', '1', '0'].includes(v)) throw invalid(`invalid filter 'dangling=${v}'`);
    return this.repo.all().filter((n) =>
      any('name', (v) => n.name.includes(v)) &&
      any('id', (v) => n.id.startsWith(v) || n.id.includes(v)) &&
      any('driver', (v) => v === n.driver) &&
      any('scope', (v) => v === 'local') &&
      any('type', (v) => (v === 'builtin') === n.builtin) &&
      any('dangling', (v) => (v === 'true' || v === '1') === (!n.builtin && !this.#inUse(n))) &&
      matchLabels(n.labels, filters.get('label') as string[] | undefined));
  }

  /** A running container is attached (what `network rm`, prune and dangling= look at). */
  #inUse(n: NetworkRecord): boolean {
    return this.repo.endpointsOn(n.id).some((e) => this.deps.isRunning(e.containerId));
  }

  /** The address pool of a bridge network with its current leases. */
  poolOf(n: NetworkRecord): AddressPool {
    // --aux-address entries are addresses something outside berth uses: never handed out.
    const aux = Object.values(n.ipam.Config?.[0]?.AuxiliaryAddresses ?? {});
    return new AddressPool({ subnet: n.subnet, gateway: n.gateway, ...(n.ipRange ? { ipRange: n.ipRange } : {}) }, this.repo.leasesOn(n.id), aux);
  }

  /** The IPv6 address pool of a dual-stack network with its current leases; undefined on an IPv4-only one. */
  poolOf6(n: NetworkRecord): AddressPool6 | undefined {
    if (!n.enableIPv6) return undefined;
    const aux = Object.values(n.ipam.Config?.find((c) => c.Subnet && isIPv6Cidr(c.Subnet))?.AuxiliaryAddresses ?? {});
    return new AddressPool6({ subnet: n.subnet6, gateway: n.gateway6, ...(n.ipRange6 ? { ipRange: n.ipRange6 } : {}) }, this.repo.leasesOn6(n.id), aux);
  }

  async close(): Promise<void> {
    await this.deps.dns.close();
  }
}

/** What the bridge driver knows a network by: chains from the id, never from the user's name. */
export function nftNet(n: NetworkRecord): BridgeNetwork {
  return {
    id: n.id.slice(0, 12), bridge: n.bridge, subnet: n.subnet, internal: n.internal, gateway: n.gateway,
    ...(n.enableIPv6 ? { ipv6: { subnet: n.subnet6, gateway: n.gateway6 } } : {}),
  };
}

function bridgeSpec(n: NetworkRecord): BridgeSpec {
  return { ...nftNet(n), gateway: n.gateway, prefixLen: parseCidr(n.subnet).prefix };
}

function bipPool(bip: string): [string, string] {
  const m = /^([\d.]+)\/(\d+)$/.exec(bip);
  if (!m) throw invalid(`invalid bip ${bip}: expected an address with a prefix, e.g. 172.17.0.1/16`);
  const cidr = parseCidr(bip);
  const subnet = `${[cidr.network >>> 24, (cidr.network >>> 16) & 255, (cidr.network >>> 8) & 255, cidr.network & 255].join('.')}/${cidr.prefix}`;
  const pool = createPool({ subnet, gateway: m[1]! });
  return [pool.subnet, pool.gateway];
}

function bridgePoolChanged(n: NetworkRecord, bip: string): boolean {
  const [subnet, gateway] = bipPool(bip);
  return n.subnet !== subnet || n.gateway !== gateway;
}

