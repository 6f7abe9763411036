/**
 * Fakes for the networking unit tests: a bridge driver and a DNS hub that touch nothing on the
 * host and record what they were asked to do, and a NetworkService built on them over an
 * in-memory database. Test support only; nothing in the daemon imports this.
 */
import type { TestContext } from 'node:test';
import { BridgeDriver, type Attachment, type BridgeNetwork, type BridgeSpec, type PortRange, type PublishTarget } from '../../network/index.ts';
import { openDb, type Db } from '../../store/db.ts';
import { EventBus, type EngineEvent } from '../events.ts';
import { DnsHub } from './dns-hub.ts';
import { NetworkService, type NetworkServiceConfig } from './service.ts';

const quiet = { info() {}, warn() {}, debug() {} };

/** What `ip -j route` (and `ip -6 -j route`) print on the fake host; tests set them before init/create. */
export interface FakeHost { routes: string; routes6?: string }

/** A BridgeDriver whose host edges are no-ops; `calls` lists ensure/remove in order. */
export class FakeBridgeDriver extends BridgeDriver {
  readonly calls: { op: 'init' | 'ensure' | 'remove'; bridge: string; subnet: string; subnet6?: string }[] = [];
  /** When set, the next ensureNetwork fails with it (once). */
  failEnsure: Error | undefined;

  constructor(readonly host: FakeHost = { routes: '[]' }) {
    super({
      exec: async (file, args) => ({
        exitCode: 0, stderr: '',
        stdout: file !== 'ip' ? '' : args.join(' ') === '-j route' ? host.routes : args.join(' ') === '-6 -j route' ? host.routes6 ?? '[]' : '',
      }),
      table: 'berth_test', ifPrefix: 'bt', netnsDir: '/nonexistent/berth-test-netns', log: quiet,
    });
  }

  override async init(): Promise<void> { this.calls.push({ op: 'init', bridge: '', subnet: '' }); }

  override async ensureNetwork(n: BridgeSpec): Promise<void> {
    const err = this.failEnsure;
    this.failEnsure = undefined;
    if (err) throw err;
    this.calls.push({ op: 'ensure', bridge: n.bridge, subnet: n.subnet, ...(n.ipv6 ? { subnet6: n.ipv6.subnet } : {}) });
  }

  /** What container setups asked for: sandboxes' interfaces and published ports. */
  readonly sandboxesMade: { id: string; attachments: readonly Attachment[]; dnsGateway?: string }[] = [];
  readonly published: { op: 'publish' | 'unpublish'; chainId: string; to: PublishTarget; ports: readonly PortRange[] }[] = [];

  override async createSandbox(id: string, attachments: readonly Attachment[], dnsGateway?: string): Promise<{ path: string; ready: Promise<void> }> {
    this.sandboxesMade.push({ id, attachments, ...(dnsGateway ? { dnsGateway } : {}) });
    return { path: this.netnsPath(id), ready: Promise.resolve() };
  }

  override async removeSandbox(): Promise<void> {}

  override async publish(chainId: string, to: PublishTarget, ports: readonly PortRange[]): Promise<void> {
    this.published.push({ op: 'publish', chainId, to, ports });
  }

  override async unpublish(chainId: string, to: PublishTarget, ports: readonly PortRange[]): Promise<void> {
    this.published.push({ op: 'unpublish', chainId, to, ports });
  }

  override async removeNetwork(n: BridgeNetwork): Promise<void> {
    this.calls.push({ op: 'remove', bridge: n.bridge, subnet: n.subnet, ...(n.ipv6 ? { subnet6: n.ipv6.subnet } : {}) });
  }
}

/** A DnsHub that starts no servers; `calls` lists serve/stop/close with their network ids. */
export class FakeDnsHub extends DnsHub {
  readonly calls: string[] = [];

  constructor() {
    // A resolv.conf in a directory that does not exist: no upstreams and no watcher.
    super({ hostResolvConf: '/nonexistent/berth-test/resolv.conf', log: quiet });
  }

  override async serve(networkId: string, gateway: string): Promise<void> { this.calls.push(`serve ${networkId} ${gateway}`); }
  override async stop(networkId: string): Promise<void> { this.calls.push(`stop ${networkId}`); }
  override async close(): Promise<void> { this.calls.push('close'); }
}

export interface NetFixture {
  db: Db;
  driver: FakeBridgeDriver;
  dns: FakeDnsHub;
  events: EngineEvent[];
  bus: EventBus;
  warnings: string[];
  running: Set<string>;
  service: NetworkService;
}

/** A NetworkService over an in-memory database (closed after the test), not yet init()ed. */
export function netFixture(t: TestContext, config: Partial<NetworkServiceConfig> = {}, host: FakeHost = { routes: '[]' }, db?: Db): NetFixture {
  if (!db) {
    const own = openDb(':memory:');
    t.after(() => own.close());
    db = own;
  }
  const driver = new FakeBridgeDriver(host);
  const dns = new FakeDnsHub();
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const warnings: string[] = [];
  const running = new Set<string>();
  const service = new NetworkService({
    db, driver, dns, events: bus, config: { defaultBridge: 'berth0', ifPrefix: 'bt', ...config },
    isRunning: (id) => running.has(id),
    log: { info() {}, warn: (_o, m) => { warnings.push(m ?? ''); } },
  });
  return { db, driver, dns, events, bus, warnings, running, service };
}

/** The smallest containers row the endpoints' foreign key accepts. */
export function insertContainerRow(db: Db, id: string, name: string): void {
  db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime)
    VALUES (?, ?, 'sha256:x', 'busybox', '2024-05-01T10:00:00Z', '{}', '{}', '{}', 'crun')`).run(id, name);
}
