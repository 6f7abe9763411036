import type { Db } from '../../store/db.ts';
import type { EndpointSettings, IpamConfigWire, Labels } from '../../api/types/index.ts';
import type { PortRange } from '../../network/index.ts';
import { EngineError } from '../../lib/errors.ts';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: NetworkDriver;
  createdAt: string;
  /** Linux bridge name; empty for host and none. */
  bridge: string;
  subnet: string;
  gateway: string;
  ipRange: string;
  /** EnableIPv6: the bridge and every endpoint also get an address from the IPv6 pool below. */
  enableIPv6: boolean;
  /** The IPv6 pool (canonical text); empty unless enableIPv6. */
  subnet6: string;
  gateway6: string;
  ipRange6: string;
  internal: boolean;
  attachable: boolean;
  builtin: boolean;
  labels: Labels;
  options: Record<string, string>;
  ipam: IpamConfigWire;
}

/** A container's attachment to a network; the runtime fields are set while it runs. */
export interface EndpointRecord {
  containerId: string;
  networkId: string;
  seq: number;
  endpointId: string;
  config: EndpointSettings;
  ip: string | null;
  /** The IPv6 lease (canonical text) on an IPv6-enabled network while running. */
  ip6: string | null;
  mac: string | null;
  ifName: string | null;
  hostVeth: string | null;
  ports: PortRange[];
}

interface NetRow {
  id: string; name: string; driver: string; created_at: string; bridge: string | null; subnet: string | null;
  gateway: string | null; ip_range: string | null; internal: number; attachable: number; builtin: number;
  labels: string; options: string; ipam: string; enable_ipv6: number; subnet6: string | null; gateway6: string | null; ip_range6: string | null;
}

interface EpRow {
  container_id: string; network_id: string; seq: number; endpoint_id: string; config: string; ip: string | null; ip6: string | null;
  mac: string | null; if_name: string | null; host_veth: string | null; ports: string | null;
}

const netFromRow = (r: NetRow): NetworkRecord => ({
  id: r.id, name: r.name, driver: r.driver as NetworkDriver, createdAt: r.created_at, bridge: r.bridge ?? '',
  subnet: r.subnet ?? '', gateway: r.gateway ?? '', ipRange: r.ip_range ?? '', enableIPv6: r.enable_ipv6 === 1,
  subnet6: r.subnet6 ?? '', gateway6: r.gateway6 ?? '', ipRange6: r.ip_range6 ?? '', internal: r.internal === 1,
  attachable: r.attachable === 1, builtin: r.builtin === 1, labels: JSON.parse(r.labels) as Labels,
  options: JSON.parse(r.options) as Record<string, string>, ipam: JSON.parse(r.ipam) as IpamConfigWire,
});

const epFromRow = (r: EpRow): EndpointRecord => ({
  containerId: r.container_id, networkId: r.network_id, seq: r.seq, endpointId: r.endpoint_id,
  config: JSON.parse(r.config) as EndpointSettings, ip: r.ip, ip6: r.ip6, mac: r.mac, ifName: r.if_name, hostVeth: r.host_veth,
  ports: r.ports ? (JSON.parse(r.ports) as PortRange[]) : [],
});

/** Network and endpoint rows in SQLite. Network lookups by full ID, exact name, then unique ID prefix. */
export class NetworkRepo {
  constructor(private readonly db: Db) {}

  insert(n: NetworkRecord): void {
    try {
      this.db.prepare(`INSERT INTO networks (id, name, driver, created_at, bridge, subnet, gateway, ip_range, internal, attachable, builtin, labels, options, ipam,
        enable_ipv6, subnet6, gateway6, ip_range6)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(n.id, n.name, n.driver, n.createdAt, n.bridge || null, n.subnet || null,
        n.gateway || null, n.ipRange || null, n.internal ? 1 : 0, n.attachable ? 1 : 0, n.builtin ? 1 : 0, JSON.stringify(n.labels),
        JSON.stringify(n.options), JSON.stringify(n.ipam), n.enableIPv6 ? 1 : 0, n.subnet6 || null, n.gateway6 || null, n.ipRange6 || null);
    } catch (err) {
      if (String(err).includes('UNIQUE constraint failed: networks.name')) {
        throw new EngineError('Conflict', `network with name ${n.name} already exists`, { cause: err });
      }
      throw err;
    }
  }

  delete(id: string): void { this.db.prepare('DELETE FROM networks WHERE id = ?').run(id); }

  get(id: string): NetworkRecord | undefined {
    const r = this.db.prepare('SELECT * FROM networks WHERE id = ?').get(id) as NetRow | undefined;
    return r && netFromRow(r);
  }

  byName(name: string): NetworkRecord | undefined {
    const r = this.db.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetRow | undefined;
    return r && netFromRow(r);
  }

  all(): NetworkRecord[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY created_at, rowid').all() as NetRow[]).map(netFromRow);
  }

  /** Docker's order: full ID, exact name, unique ID prefix. NotFound: "network x not found". */
  resolve(ref: string): NetworkRecord {
    const exact = this.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT * FROM networks WHERE id LIKE ? || '%' LIMIT 2").all(ref) as NetRow[];
      if (rows.length === 1) return netFromRow(rows[0]!);
      if (rows.length > 1) throw new EngineError('InvalidParameter', `network ${ref} is ambiguous (${rows.length} matches found on id prefix)`);
    }
    throw new EngineError('NotFound', `network ${ref} not found`);
  }

  // ---- endpoints -----------------------------------------------------------------------------

  addEndpoint(e: Pick<EndpointRecord, 'containerId' | 'networkId' | 'endpointId' | 'config'>): void {
    const next = (this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM endpoints WHERE container_id = ?').get(e.containerId) as { n: number }).n;
    this.db.prepare('INSERT INTO endpoints (container_id, network_id, seq, endpoint_id, config) VALUES (?, ?, ?, ?, ?)')
      .run(e.containerId, e.networkId, next, e.endpointId, JSON.stringify(e.config));
  }

  removeEndpoint(containerId: string, networkId: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE container_id = ? ORDER BY seq').all(containerId) as EpRow[]).map(epFromRow);
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE network_id = ? ORDER BY container_id').all(networkId) as EpRow[]).map(epFromRow);
  }

  allEndpoints(): EndpointRecord[] {
    return (this.db.prepare('SELECT * FROM endpoints').all() as EpRow[]).map(epFromRow);
  }

  /** Addresses leased on a network (IPAM reconstructs its pool from these). */
  leasesOn(networkId: string): string[] {
    return (this.db.prepare('SELECT ip FROM endpoints WHERE network_id = ? AND ip IS NOT NULL').all(networkId) as { ip: string }[]).map((r) => r.ip);
  }

  /** IPv6 addresses leased on a network. */
  leasesOn6(networkId: string): string[] {
    return (this.db.prepare('SELECT ip6 FROM endpoints WHERE network_id = ? AND ip6 IS NOT NULL').all(networkId) as { ip6: string }[]).map((r) => r.ip6);
  }

  /** Records what a running endpoint holds: its leases, MAC, interfaces and published ports. */
  saveRuntime(containerId: string, networkId: string, rt: Pick<EndpointRecord, 'ip' | 'ip6' | 'mac' | 'ifName' | 'hostVeth' | 'ports'>): void {
    this.db.prepare('UPDATE endpoints SET ip = ?, ip6 = ?, mac = ?, if_name = ?, host_veth = ?, ports = ? WHERE container_id = ? AND network_id = ?')
      .run(rt.ip, rt.ip6, rt.mac, rt.ifName, rt.hostVeth, rt.ports.length ? JSON.stringify(rt.ports) : null, containerId, networkId);
  }

  /** Releases the lease and forgets the runtime fields (the container stopped). */
  clearRuntime(containerId: string, networkId?: string): void {
    const clear = 'UPDATE endpoints SET ip = NULL, ip6 = NULL, mac = NULL, if_name = NULL, host_veth = NULL, ports = NULL WHERE container_id = ?';
    if (networkId === undefined) this.db.prepare(clear).run(containerId);
    else this.db.prepare(`${clear} AND network_id = ?`).run(containerId, networkId);
  }

  /** Every published port held by running endpoints (conflict checks). */
  publishedPorts(): { containerId: string; port: PortRange }[] {
    const rows = this.db.prepare('SELECT container_id, ports FROM endpoints WHERE ports IS NOT NULL').all() as { container_id: string; ports: string }[];
    return rows.flatMap((r) => (JSON.parse(r.ports) as PortRange[]).map((port) => ({ containerId: r.container_id, port })));
  }

  setConfig(containerId: string, networkId: string, config: EndpointSettings): void {
    this.db.prepare('UPDATE endpoints SET config = ? WHERE container_id = ? AND network_id = ?').run(JSON.stringify(config), containerId, networkId);
  }
}
