import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { openDb, type Db } from '../../store/db.ts';
import { NetworkRepo, type NetworkRecord } from './record.ts';

const NET_A = 'aa01' + '0'.repeat(60);
const NET_B = 'aa02' + '1'.repeat(60);
const NET_C = 'bb00' + '2'.repeat(60);
const CT_1 = 'c1' + '3'.repeat(62);
const CT_2 = 'c2' + '4'.repeat(62);

function net(id: string, name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id, name, driver: 'bridge', createdAt: '2024-05-01T10:00:00Z', bridge: `br-${id.slice(0, 8)}`, subnet: '172.18.0.0/16',
    gateway: '172.18.0.1', ipRange: '', enableIPv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, attachable: false, builtin: false, labels: { team: 'a' },
    options: { 'com.docker.network.driver.mtu': '1500' }, ipam: { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] },
    ...extra,
  };
}

/** The smallest containers row the endpoints' foreign key accepts. */
function insertContainer(db: Db, id: string, name: string): void {
  db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime)
    VALUES (?, ?, 'sha256:x', 'busybox', '2024-05-01T10:00:00Z', '{}', '{}', '{}', 'crun')`).run(id, name);
}

function setup(t: { after: (fn: () => void) => void }): { db: Db; repo: NetworkRepo } {
  const db = openDb(':memory:');
  t.after(() => db.close());
  const repo = new NetworkRepo(db);
  repo.insert(net(NET_A, 'alpha', { createdAt: '2024-05-01T10:00:01Z' }));
  repo.insert(net(NET_B, 'beta', { createdAt: '2024-05-01T10:00:02Z', subnet: '172.19.0.0/16', gateway: '172.19.0.1' }));
  repo.insert(net(NET_C, 'host', { createdAt: '2024-05-01T10:00:00Z', driver: 'host', bridge: '', subnet: '', gateway: '', builtin: true, labels: {}, options: {} }));
  insertContainer(db, CT_1, 'one');
  insertContainer(db, CT_2, 'two');
  return { db, repo };
}

const kindAndMessage = (kind: string, message: string) => (err: unknown) =>
  err instanceof EngineError && err.kind === kind && err.message === message;

test('insert then get/byName return the same record, JSON and boolean fields included', (t) => {
  const { repo } = setup(t);
  assert.deepEqual(repo.get(NET_A), net(NET_A, 'alpha', { createdAt: '2024-05-01T10:00:01Z' }));
  assert.deepEqual(repo.byName('beta')?.id, NET_B);
  const host = repo.get(NET_C)!;
  assert.equal(host.builtin, true);
  assert.equal(host.bridge, '', 'NULL columns come back as empty strings');
  assert.equal(host.subnet, '');
  assert.equal(repo.get('f'.repeat(64)), undefined);
  assert.equal(repo.byName('gamma'), undefined);
});

test('all() is in creation order', (t) => {
  const { repo } = setup(t);
  assert.deepEqual(repo.all().map((n) => n.name), ['host', 'alpha', 'beta']);
});

test('insert with a taken name: Conflict "network with name x already exists"', (t) => {
  const { repo } = setup(t);
  assert.throws(() => repo.insert(net('d'.repeat(64), 'alpha')), kindAndMessage('Conflict', 'network with name alpha already exists'));
  assert.throws(() => repo.insert(net(NET_A, 'other')), (err: unknown) => !(err instanceof EngineError) && /UNIQUE/.test(String(err)),
    'a duplicate id is not reported as a name conflict');
  assert.equal(repo.all().length, 3);
});

test('resolve: full id, exact name, unique id prefix', (t) => {
  const { repo } = setup(t);
  assert.equal(repo.resolve(NET_B).name, 'beta');
  assert.equal(repo.resolve('alpha').id, NET_A);
  assert.equal(repo.resolve('aa01').id, NET_A);
  assert.equal(repo.resolve('b').id, NET_C);
});

test('resolve: an exact name wins over an id prefix', (t) => {
  const { repo } = setup(t);
  repo.insert(net('e'.repeat(64), 'aa01', { subnet: '10.0.0.0/24' }));
  assert.equal(repo.resolve('aa01').id, 'e'.repeat(64));
});

test('resolve: an ambiguous prefix is InvalidParameter; unknown refs are NotFound', (t) => {
  const { repo } = setup(t);
  assert.throws(() => repo.resolve('aa0'), kindAndMessage('InvalidParameter', 'network aa0 is ambiguous (2 matches found on id prefix)'));
  assert.throws(() => repo.resolve('x'), kindAndMessage('NotFound', 'network x not found'));
  assert.throws(() => repo.resolve('ff'), kindAndMessage('NotFound', 'network ff not found'));
  assert.throws(() => repo.resolve('%'), kindAndMessage('NotFound', 'network % not found'), 'LIKE wildcards are not prefixes');
});

test('delete removes the row', (t) => {
  const { repo } = setup(t);
  repo.delete(NET_A);
  assert.equal(repo.get(NET_A), undefined);
  assert.throws(() => repo.resolve('alpha'), kindAndMessage('NotFound', 'network alpha not found'));
});

test('endpoints: seq follows attachment order per container; endpointsOf orders by seq', (t) => {
  const { repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_B, endpointId: 'ep1', config: { Aliases: ['web'] } });
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep2', config: {} });
  repo.addEndpoint({ containerId: CT_2, networkId: NET_A, endpointId: 'ep3', config: {} });
  const eps = repo.endpointsOf(CT_1);
  assert.deepEqual(eps.map((e) => [e.networkId, e.seq, e.endpointId]), [[NET_B, 0, 'ep1'], [NET_A, 1, 'ep2']]);
  assert.deepEqual(eps[0], {
    containerId: CT_1, networkId: NET_B, seq: 0, endpointId: 'ep1', config: { Aliases: ['web'] },
    ip: null, ip6: null, mac: null, ifName: null, hostVeth: null, ports: [],
  });
  assert.equal(repo.endpointsOf(CT_2)[0]!.seq, 0);
  assert.deepEqual(repo.endpointsOn(NET_A).map((e) => e.containerId), [CT_1, CT_2]);
  assert.equal(repo.allEndpoints().length, 3);
  // After a disconnect, the next attachment still goes last.
  repo.removeEndpoint(CT_1, NET_B);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_B, endpointId: 'ep4', config: {} });
  assert.deepEqual(repo.endpointsOf(CT_1).map((e) => [e.networkId, e.seq]), [[NET_A, 1], [NET_B, 2]]);
});

test('endpoints: one attachment per (container, network); unknown container or network is refused', (t) => {
  const { repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep1', config: {} });
  assert.throws(() => repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep2', config: {} }), /UNIQUE|PRIMARY/);
  assert.throws(() => repo.addEndpoint({ containerId: 'nope', networkId: NET_A, endpointId: 'ep3', config: {} }), /FOREIGN KEY/);
  assert.throws(() => repo.addEndpoint({ containerId: CT_2, networkId: 'nope', endpointId: 'ep3', config: {} }), /FOREIGN KEY/);
});

test('saveRuntime / leasesOn / publishedPorts / clearRuntime', (t) => {
  const { repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep1', config: {} });
  repo.addEndpoint({ containerId: CT_1, networkId: NET_B, endpointId: 'ep2', config: {} });
  repo.addEndpoint({ containerId: CT_2, networkId: NET_A, endpointId: 'ep3', config: {} });
  const port = { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' as const, count: 1 };
  repo.saveRuntime(CT_1, NET_A, { ip: '172.18.0.2', ip6: 'fd00:1::2', mac: '02:42:ac:12:00:02', ifName: 'eth0', hostVeth: 'btv1', ports: [port] });
  repo.saveRuntime(CT_1, NET_B, { ip: '172.19.0.2', ip6: null, mac: '02:42:ac:13:00:02', ifName: 'eth1', hostVeth: 'btv2', ports: [] });
  repo.saveRuntime(CT_2, NET_A, { ip: '172.18.0.3', ip6: 'fd00:1::3', mac: '02:42:ac:12:00:03', ifName: 'eth0', hostVeth: 'btv3', ports: [] });
  const ep = repo.endpointsOf(CT_1)[0]!;
  assert.deepEqual([ep.ip, ep.ip6, ep.mac, ep.ifName, ep.hostVeth, ep.ports], ['172.18.0.2', 'fd00:1::2', '02:42:ac:12:00:02', 'eth0', 'btv1', [port]]);
  assert.deepEqual(repo.leasesOn(NET_A).sort(), ['172.18.0.2', '172.18.0.3']);
  assert.deepEqual(repo.leasesOn6(NET_A).sort(), ['fd00:1::2', 'fd00:1::3']);
  assert.deepEqual(repo.leasesOn6(NET_B), []);
  assert.deepEqual(repo.publishedPorts(), [{ containerId: CT_1, port }]);

  repo.clearRuntime(CT_1, NET_B);
  assert.deepEqual(repo.leasesOn(NET_B), []);
  assert.equal(repo.endpointsOf(CT_1)[0]!.ip, '172.18.0.2', 'only the named network is cleared');

  repo.clearRuntime(CT_1);
  assert.deepEqual(repo.leasesOn(NET_A), ['172.18.0.3']);
  assert.deepEqual(repo.leasesOn6(NET_A), ['fd00:1::3']);
  assert.deepEqual(repo.publishedPorts(), []);
  const cleared = repo.endpointsOf(CT_1)[0]!;
  assert.deepEqual([cleared.ip, cleared.ip6, cleared.mac, cleared.ifName, cleared.hostVeth, cleared.ports], [null, null, null, null, null, []]);
  assert.equal(repo.endpointsOf(CT_1).length, 2, 'attachments stay; only runtime fields go');
});

test('an IPv6-enabled network keeps its IPv6 pool', (t) => {
  const { repo } = setup(t);
  repo.insert(net('f'.repeat(64), 'dual', { subnet: '10.9.0.0/24', gateway: '10.9.0.1', enableIPv6: true, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1', ipRange6: 'fd00:1::/80' }));
  const n = repo.byName('dual')!;
  assert.deepEqual([n.enableIPv6, n.subnet6, n.gateway6, n.ipRange6], [true, 'fd00:1::/64', 'fd00:1::1', 'fd00:1::/80']);
  assert.deepEqual([repo.get(NET_A)!.enableIPv6, repo.get(NET_A)!.subnet6], [false, '']);
});

test('setConfig replaces the endpoint settings', (t) => {
  const { repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep1', config: { Aliases: ['a'] } });
  repo.setConfig(CT_1, NET_A, { Aliases: ['b'], IPAMConfig: { IPv4Address: '172.18.0.9' } });
  assert.deepEqual(repo.endpointsOf(CT_1)[0]!.config, { Aliases: ['b'], IPAMConfig: { IPv4Address: '172.18.0.9' } });
});

test('deleting a container row deletes its endpoints (cascade)', (t) => {
  const { db, repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep1', config: {} });
  repo.addEndpoint({ containerId: CT_1, networkId: NET_B, endpointId: 'ep2', config: {} });
  repo.addEndpoint({ containerId: CT_2, networkId: NET_A, endpointId: 'ep3', config: {} });
  db.prepare('DELETE FROM containers WHERE id = ?').run(CT_1);
  assert.deepEqual(repo.endpointsOf(CT_1), []);
  assert.deepEqual(repo.endpointsOn(NET_A).map((e) => e.containerId), [CT_2]);
  assert.deepEqual(repo.endpointsOn(NET_B), []);
});

test('a network with endpoints cannot be deleted underneath them', (t) => {
  const { repo } = setup(t);
  repo.addEndpoint({ containerId: CT_1, networkId: NET_A, endpointId: 'ep1', config: {} });
  assert.throws(() => repo.delete(NET_A), /FOREIGN KEY/);
  assert.ok(repo.get(NET_A));
});
