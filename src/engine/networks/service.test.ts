import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { NetworkServiceConfig } from './service.ts';
import { insertContainerRow, netFixture, type FakeHost, type NetFixture } from './test-fakes.ts';

const kindAndMessage = (kind: string, message: string | RegExp) => (err: unknown) =>
  err instanceof EngineError && err.kind === kind && (typeof message === 'string' ? err.message === message : message.test(err.message));

const CT = 'c1' + '3'.repeat(62);

async function started(t: TestContext, config: Partial<NetworkServiceConfig> = {}, host: FakeHost = { routes: '[]' }): Promise<NetFixture> {
  const f = netFixture(t, config, host);
  await f.service.init();
  return f;
}

const names = (f: NetFixture, filters = '') => f.service.list(parseFilters(filters || null)).map((n) => n.name);

test('init creates bridge, host and none once; the default bridge gets 172.17.0.0/16', async (t) => {
  const f = await started(t);
  const all = f.service.repo.all();
  assert.deepEqual(all.map((n) => [n.name, n.driver, n.builtin]).sort(), [['bridge', 'bridge', true], ['host', 'host', true], ['none', 'null', true]]);
  const bridge = f.service.resolve('bridge');
  assert.deepEqual([bridge.subnet, bridge.gateway, bridge.bridge], ['172.17.0.0/16', '172.17.0.1', 'berth0']);
  assert.equal(bridge.options['com.docker.network.bridge.default_bridge'], 'true');
  assert.deepEqual(bridge.ipam.Config, [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
  assert.deepEqual(f.driver.calls, [{ op: 'init', bridge: '', subnet: '' }, { op: 'ensure', bridge: 'berth0', subnet: '172.17.0.0/16' }]);
  assert.deepEqual(f.dns.calls, [], 'the default bridge has no embedded DNS');

  // A restart on the same database keeps the same networks and re-ensures the bridges.
  const again = netFixture(t, {}, { routes: '[]' }, f.db);
  await again.service.init();
  assert.deepEqual(again.service.repo.all().map((n) => n.id).sort(), all.map((n) => n.id).sort());
  assert.deepEqual(again.driver.calls.map((c) => c.op), ['init', 'ensure']);
});

test('init: a host route covering 172.17.0.0/16 moves the default bridge to the next pool; our own bridge\'s route does not', async (t) => {
  const busy = await started(t, {}, { routes: JSON.stringify([{ dst: 'default', dev: 'eth0' }, { dst: '172.17.0.0/16', dev: 'eth9' }]) });
  assert.equal(busy.service.resolve('bridge').subnet, '172.18.0.0/16');
  const ours = await started(t, {}, { routes: JSON.stringify([{ dst: '172.17.0.0/16', dev: 'berth0' }]) });
  assert.equal(ours.service.resolve('bridge').subnet, '172.17.0.0/16');
});

test('init: --bip sets the default bridge\'s subnet and gateway; a changed --bip remakes it while unused', async (t) => {
  const f = await started(t, { bip: '192.168.5.7/20' });
  const b = f.service.resolve('bridge');
  assert.deepEqual([b.subnet, b.gateway], ['192.168.0.0/20', '192.168.5.7']);

  const changed = netFixture(t, { bip: '10.99.0.1/24' }, { routes: '[]' }, f.db);
  await changed.service.init();
  const b2 = changed.service.resolve('bridge');
  assert.deepEqual([b2.id, b2.subnet, b2.gateway], [b.id, '10.99.0.0/24', '10.99.0.1']);
  assert.deepEqual(b2.ipam.Config, [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.1' }], 'inspect shows the new pool too');
  assert.deepEqual(changed.driver.calls.filter((c) => c.op !== 'init'), [
    { op: 'remove', bridge: 'berth0', subnet: '192.168.0.0/20' }, { op: 'ensure', bridge: 'berth0', subnet: '10.99.0.0/24' },
  ]);

  // A container holding an address keeps the old subnet.
  insertContainerRow(f.db, CT, 'one');
  changed.service.repo.addEndpoint({ containerId: CT, networkId: b.id, endpointId: 'ep', config: {} });
  changed.service.repo.saveRuntime(CT, b.id, { ip: '10.99.0.2', ip6: null, mac: null, ifName: 'eth0', hostVeth: 'btv1', ports: [] });
  const held = netFixture(t, { bip: '10.98.0.1/24' }, { routes: '[]' }, f.db);
  await held.service.init();
  assert.equal(held.service.resolve('bridge').subnet, '10.99.0.0/24');
  assert.equal(held.warnings.length, 1);

  await assert.rejects(started(t, { bip: '10.0.0.1' }), kindAndMessage('InvalidParameter', /^invalid bip 10\.0\.0\.1/));
});

test('create without a subnet takes the next free default pool; bridge, DNS server and event follow', async (t) => {
  const f = await started(t);
  const { id, warning } = await f.service.create({ Name: 'app', Labels: { team: 'a' } });
  assert.equal(warning, '');
  const n = f.service.resolve('app');
  assert.deepEqual([n.id, n.subnet, n.gateway, n.bridge, n.builtin, n.labels], [id, '172.18.0.0/16', '172.18.0.1', `bt-${id.slice(0, 8)}`, false, { team: 'a' }]);
  assert.deepEqual(f.driver.calls.at(-1), { op: 'ensure', bridge: n.bridge, subnet: '172.18.0.0/16' });
  assert.deepEqual(f.dns.calls, [`serve ${id} 172.18.0.1`]);
  assert.deepEqual(f.events.map((e) => [e.type, e.action, e.actor.id, e.actor.attributes]), [['network', 'create', id, { name: 'app', type: 'bridge' }]]);
  await f.service.create({ Name: 'app2' });
  assert.equal(f.service.resolve('app2').subnet, '172.19.0.0/16');
});

test('create with --subnet, --gateway, --ip-range and a bridge name option', async (t) => {
  const f = await started(t);
  await f.service.create({
    Name: 'custom', Internal: true, Options: { 'com.docker.network.bridge.name': 'br-custom' },
    IPAM: { Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.254', IPRange: '10.1.0.128/25' }] },
  });
  const n = f.service.resolve('custom');
  assert.deepEqual([n.subnet, n.gateway, n.ipRange, n.bridge, n.internal], ['10.1.0.0/24', '10.1.0.254', '10.1.0.128/25', 'br-custom', true]);
  assert.deepEqual(n.ipam.Config, [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.254', IPRange: '10.1.0.128/25' }]);
  await assert.rejects(f.service.create({ Name: 'other', Options: { 'com.docker.network.bridge.name': 'br-custom' } }),
    kindAndMessage('Conflict', 'bridge name br-custom is already used by another network'));
});

test('create: overlapping pools are Conflict, whether another network\'s or a host route\'s', async (t) => {
  const f = await started(t, {}, { routes: JSON.stringify([{ dst: '192.168.1.0/24', dev: 'wlan0' }]) });
  const overlap = kindAndMessage('Conflict', 'Pool overlaps with other one on this address space');
  await assert.rejects(f.service.create({ Name: 'a', IPAM: { Config: [{ Subnet: '172.17.5.0/24' }] } }), overlap);
  await assert.rejects(f.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '192.168.0.0/16' }] } }), overlap);
  await f.service.create({ Name: 'c', IPAM: { Config: [{ Subnet: '10.5.0.0/16' }] } });
  await assert.rejects(f.service.create({ Name: 'd', IPAM: { Config: [{ Subnet: '10.5.128.0/17' }] } }), overlap);
  assert.deepEqual(names(f).sort(), ['bridge', 'c', 'host', 'none']);
});

test('create: invalid input is rejected before anything is made', async (t) => {
  const f = await started(t);
  const before = f.driver.calls.length;
  const cases: [Parameters<typeof f.service.create>[0], string, string | RegExp][] = [
    [{ Name: '' }, 'InvalidParameter', 'invalid name: '],
    [{ Name: ' \t ' }, 'InvalidParameter', 'invalid name:  \t '],
    [{ Name: 'bridge' }, 'Forbidden', 'operation is not permitted on predefined bridge network '],
    [{ Name: 'host' }, 'Forbidden', 'operation is not permitted on predefined host network '],
    [{ Name: 'none' }, 'Forbidden', 'operation is not permitted on predefined none network '],
    [{ Name: 'default' }, 'Forbidden', 'operation is not permitted on predefined default network '],
    [{ Name: 'x', Driver: 'overlay' }, 'Forbidden', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'],
    [{ Name: 'x', Driver: 'foo' }, 'NotFound', 'plugin "foo" not found'],
    [{ Name: 'x', Driver: 'macvlan' }, 'NotImplemented', 'berth does not support the macvlan network driver'],
    [{ Name: 'x', IPAM: { Driver: 'foo' } }, 'NotFound', 'plugin "foo" not found'],
    [{ Name: 'x', Ingress: true }, 'Forbidden', 'Ingress network can only be global scope network'],
    [{ Name: 'x', Scope: 'swarm' }, 'Forbidden', 'cannot create a swarm scoped network when swarm is not active'],
    [{ Name: 'x', ConfigFrom: { Network: 'nope' } }, 'NotFound', 'configuration network "nope" does not exist'],
    [{ Name: 'x', ConfigOnly: true }, 'NotImplemented', /configuration-only/],
    [{ Name: 'x', Options: { 'com.docker.network.bridge.enable_icc': 'maybe' } }, 'InvalidParameter',
      'failed to parse com.docker.network.bridge.enable_icc value: maybe (strconv.ParseBool: parsing "maybe": invalid syntax)'],
    [{ Name: 'x', Options: { 'com.docker.network.driver.mtu': 'abc' } }, 'InvalidParameter',
      'failed to parse com.docker.network.driver.mtu value: abc (strconv.Atoi: parsing "abc": invalid syntax)'],
    [{ Name: 'x', Driver: 'host' }, 'Forbidden', 'only one instance of "host" network is allowed'],
    // dockerd 27 has no built-in IPv6 pool: --ipv6 needs an IPv6 --subnet or an IPv6 default-address-pool.
    [{ Name: 'x', EnableIPv6: true }, 'InvalidParameter', 'all predefined address pools have been fully subnetted'],
    [{ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::5/64' }] } }, 'InvalidParameter', 'invalid network config:\ninvalid subnet fd00:1::5/64: it should be fd00:1::/64'],
    [{ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64', Gateway: 'fd00:2::1' }] } }, 'InvalidParameter', "invalid network config:\ninvalid gateway fd00:2::1: parent subnet fd00:1::/64 doesn't contain this address"],
    [{ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64' }, { Subnet: 'fd00:2::/64' }] } }, 'NotImplemented', /one IPv6 subnet/],
    [{ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64', AuxiliaryAddresses: { a: 'fd00:2::1' } }] } }, 'InvalidParameter', "invalid network config:\ninvalid auxiliary address a: parent subnet fd00:1::/64 doesn't contain this address"],
    [{ Name: 'x', Options: { 'com.docker.network.enable_ipv6': 'maybe' } }, 'InvalidParameter', 'driver-opt "com.docker.network.enable_ipv6" is not a valid bool'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.1.0.0/24' }, { Subnet: '10.2.0.0/24' }] } }, 'NotImplemented', /one IPv4 subnet/],
    [{ Name: 'x', IPAM: { Config: [{ Gateway: '10.1.0.1' }] } }, 'InvalidParameter', 'invalid network config:\ninvalid subnet : invalid CIDR block notation'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.2.0.1' }] } }, 'InvalidParameter', "invalid network config:\ninvalid gateway 10.2.0.1: parent subnet 10.1.0.0/24 doesn't contain this address"],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.1.0.0/24', IPRange: '10.3.0.0/25' }] } }, 'InvalidParameter', "invalid network config:\ninvalid ip-range 10.3.0.0/25: parent subnet 10.1.0.0/24 doesn't contain ip-range"],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.1.0.5/24', Gateway: 'xyz' }] } }, 'InvalidParameter',
      'invalid network config:\n* invalid subnet 10.1.0.5/24: it should be 10.1.0.0/24\n* invalid gateway xyz: invalid address'],
    [{ Name: 'x', Options: { 'com.docker.network.bridge.name': 'a-very-long-bridge-name' } }, 'InvalidParameter', /^invalid bridge name/],
  ];
  for (const [req, kind, message] of cases) await assert.rejects(f.service.create(req), kindAndMessage(kind, message), JSON.stringify(req));
  assert.equal(f.driver.calls.length, before);
  assert.equal(f.service.repo.all().length, 3);
});

test('create: any name that is not blank is taken as is (dockerd 27); host objects are named from the id', async (t) => {
  const f = await started(t);
  for (const name of ['my net', '-x', 'ünï cødé', 'a/b:c', ' padded ']) {
    const { id } = await f.service.create({ Name: name });
    const n = f.service.resolve(name);
    assert.deepEqual([n.id, n.name, n.bridge], [id, name, `bt-${id.slice(0, 8)}`], name);
    assert.deepEqual(f.driver.calls.at(-1), { op: 'ensure', bridge: n.bridge, subnet: n.subnet });
  }
  await f.service.remove('my net');
  assert.throws(() => f.service.resolve('my net'), kindAndMessage('NotFound', 'network my net not found'));
});

test('create: IPAM.Options is kept as the client sent it, null when it sent none', async (t) => {
  const f = await started(t);
  await f.service.create({ Name: 'none-sent' });
  await f.service.create({ Name: 'null-sent', IPAM: { Driver: 'default', Options: null, Config: [] } });
  await f.service.create({ Name: 'empty-sent', IPAM: { Options: {} } });
  await f.service.create({ Name: 'opts-sent', IPAM: { Options: { foo: 'bar' } } });
  assert.deepEqual(['none-sent', 'null-sent', 'empty-sent', 'opts-sent'].map((n) => f.service.resolve(n).ipam.Options), [null, null, {}, { foo: 'bar' }]);
  assert.deepEqual(f.service.resolve('host').ipam, { Driver: 'default', Options: null, Config: null });
});

test('create --ipv6: a dual-stack network gets the IPv6 pool asked for, an IPv4 one from the defaults, both in IPAM.Config', async (t) => {
  const f = await started(t);
  await f.service.create({ Name: 'dual', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'FD00:1:0::/64' }] } });
  const n = f.service.resolve('dual');
  assert.deepEqual([n.enableIPv6, n.subnet6, n.gateway6, n.ipRange6, n.subnet], [true, 'fd00:1::/64', 'fd00:1::1', '', '172.18.0.0/16']);
  assert.deepEqual(n.ipam.Config, [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }, { Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1' }]);
  assert.deepEqual(f.driver.calls.at(-1), { op: 'ensure', bridge: n.bridge, subnet: '172.18.0.0/16', subnet6: 'fd00:1::/64' });
  assert.deepEqual(f.service.poolOf6(n)?.allocate(), 'fd00:1::2');
  assert.equal(f.service.poolOf6(f.service.resolve('bridge')), undefined);

  // Both subnets, a gateway and a range; the driver option form of --ipv6.
  await f.service.create({ Name: 'both', Options: { 'com.docker.network.enable_ipv6': 'true' }, IPAM: { Config: [
    { Subnet: 'fd00:2::/64', Gateway: 'fd00:2::fe', IPRange: 'fd00:2::100/120' }, { Subnet: '10.20.0.0/24' }] } });
  const b = f.service.resolve('both');
  assert.deepEqual([b.subnet, b.subnet6, b.gateway6, b.ipRange6], ['10.20.0.0/24', 'fd00:2::/64', 'fd00:2::fe', 'fd00:2::100/120']);

  // Overlaps: another network's IPv6 subnet, or a host route (here the host's own fd00::/64).
  const overlap = kindAndMessage('Conflict', 'Pool overlaps with other one on this address space');
  await assert.rejects(f.service.create({ Name: 'o1', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/48' }] } }), overlap);
  f.driver.host.routes6 = JSON.stringify([{ dst: 'fd00::/64', dev: 'eth0' }, { dst: 'fe80::/64', dev: 'eth0' }, { dst: 'fd00:2::/64', dev: b.bridge }]);
  await assert.rejects(f.service.create({ Name: 'o2', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00::/64' }] } }), overlap);
  await f.service.create({ Name: 'o3', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:3::/64' }] } });

  // An IPv6 subnet without EnableIPv6: kept and shown, as dockerd 27 does, but no IPv6.
  await f.service.create({ Name: 'v4only', IPAM: { Config: [{ Subnet: 'fd00:9::/64' }] } });
  const v = f.service.resolve('v4only');
  assert.deepEqual([v.enableIPv6, v.subnet6, v.ipam.Config?.[1]], [false, '', { Subnet: 'fd00:9::/64' }]);
});

test('create --ipv6 without a subnet: the IPv6 entries of default-address-pools', async (t) => {
  const f = await started(t, { defaultAddressPools: [{ base: '172.30.0.0/16', size: 24 }, { base: 'fd00:aa::/48', size: 64 }] }, { routes: '[]', routes6: JSON.stringify([{ dst: 'fd00:aa::/64', dev: 'eth5' }]) });
  await f.service.create({ Name: 'auto6', EnableIPv6: true });
  const n = f.service.resolve('auto6');
  assert.deepEqual([n.subnet, n.subnet6, n.gateway6], ['172.30.1.0/24', 'fd00:aa:0:1::/64', 'fd00:aa:0:1::1']);
});

test('init --ipv6 --fixed-cidr-v6: the default bridge is dual-stack; dropped or changed only while unused', async (t) => {
  const f = await started(t, { fixedCidrV6: 'fd00:db8::/64' });
  const b = f.service.resolve('bridge');
  assert.deepEqual([b.enableIPv6, b.subnet6, b.gateway6], [true, 'fd00:db8::/64', 'fd00:db8::1']);
  assert.deepEqual(b.ipam.Config, [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }, { Subnet: 'fd00:db8::/64', Gateway: 'fd00:db8::1' }]);
  assert.deepEqual(f.driver.calls.at(-1), { op: 'ensure', bridge: 'berth0', subnet: '172.17.0.0/16', subnet6: 'fd00:db8::/64' });

  // A restart without the flags makes it IPv4-only again (its old IPv6 side removed first).
  const plain = netFixture(t, {}, { routes: '[]' }, f.db);
  await plain.service.init();
  const p = plain.service.resolve('bridge');
  assert.deepEqual([p.enableIPv6, p.subnet6, p.ipam.Config], [false, '', [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]]);
  assert.deepEqual(plain.driver.calls.filter((c) => c.op === 'remove'), [{ op: 'remove', bridge: 'berth0', subnet: '172.17.0.0/16', subnet6: 'fd00:db8::/64' }]);

  // While a container holds an address there, the settings stay as they are, with a warning.
  const again = netFixture(t, { fixedCidrV6: 'fd00:db8::/64' }, { routes: '[]' }, f.db);
  await again.service.init();
  insertContainerRow(f.db, CT, 'one');
  again.service.repo.addEndpoint({ containerId: CT, networkId: b.id, endpointId: 'ep', config: {} });
  again.service.repo.saveRuntime(CT, b.id, { ip: '172.17.0.2', ip6: 'fd00:db8::242:ac11:2', mac: null, ifName: 'eth0', hostVeth: 'btv1', ports: [] });
  const held = netFixture(t, { fixedCidrV6: 'fd00:db9::/64' }, { routes: '[]' }, f.db);
  await held.service.init();
  assert.equal(held.service.resolve('bridge').subnet6, 'fd00:db8::/64');
  assert.equal(held.warnings.length, 1);
});

test('create: a duplicate name is Conflict', async (t) => {
  const f = await started(t);
  await f.service.create({ Name: 'app' });
  await assert.rejects(f.service.create({ Name: 'app' }), kindAndMessage('Conflict', 'network with name app already exists'));
});

test('create: a failed driver.ensureNetwork leaves no row and no DNS server', async (t) => {
  const f = await started(t);
  f.driver.failEnsure = new EngineError('Internal', 'ip link add: boom');
  await assert.rejects(f.service.create({ Name: 'app' }), kindAndMessage('Internal', 'ip link add: boom'));
  assert.equal(f.service.repo.byName('app'), undefined);
  assert.deepEqual(f.dns.calls, []);
  assert.deepEqual(f.events, []);
  await f.service.create({ Name: 'app' });
  assert.ok(f.service.repo.byName('app'), 'the name is free for the next try');
});

test('create: a daemon killed while the host objects are made leaves an intent; the next start undoes the network', async (t) => {
  const f = await started(t);
  // The kill: ensureNetwork never returns, so nothing after it runs.
  f.driver.ensureNetwork = () => new Promise<void>(() => undefined);
  void f.service.create({ Name: 'half', Options: { 'com.docker.network.bridge.name': 'mybr0' } });
  await new Promise((r) => setImmediate(r));
  const next = netFixture(t, {}, { routes: '[]' }, f.db);
  await next.service.init();
  assert.equal(next.service.repo.byName('half'), undefined);
  assert.ok(next.driver.calls.some((c) => c.op === 'remove' && c.bridge === 'mybr0' && c.subnet === '172.18.0.0/16'), JSON.stringify(next.driver.calls));
  // Undone once: a third start has nothing left to undo.
  const third = netFixture(t, {}, { routes: '[]' }, f.db);
  await third.service.init();
  assert.ok(!third.driver.calls.some((c) => c.op === 'remove'));
});

test('remove: host objects that resist leave the network in place, and nothing for recovery to finish', async (t) => {
  const f = await started(t);
  await f.service.create({ Name: 'app' });
  f.driver.removeNetwork = async () => { throw new EngineError('Internal', 'nft: busy'); };
  await assert.rejects(f.service.remove('app'), kindAndMessage('Internal', 'nft: busy'));
  const next = netFixture(t, {}, { routes: '[]' }, f.db);
  await next.service.init();
  assert.ok(next.service.repo.byName('app'), 'the network is still there after a restart');
});

test('remove: builtin networks and networks with endpoints are Forbidden; otherwise everything goes', async (t) => {
  const f = await started(t);
  for (const n of ['bridge', 'host', 'none']) {
    await assert.rejects(f.service.remove(n), kindAndMessage('Forbidden', `${n} is a pre-defined network and cannot be removed`));
  }
  const { id } = await f.service.create({ Name: 'app' });
  insertContainerRow(f.db, CT, 'one');
  f.service.repo.addEndpoint({ containerId: CT, networkId: id, endpointId: 'ep', config: {} });
  f.running.add(CT);
  await assert.rejects(f.service.remove('app'), kindAndMessage('Forbidden', `error while removing network: network app id ${id} has active endpoints`));
  // A stopped container does not hold the network (as in Docker): it loses the attachment.
  f.running.delete(CT);
  const bridge = f.service.resolve('app').bridge;
  await f.service.remove(id.slice(0, 6));
  assert.equal(f.service.repo.get(id), undefined);
  assert.deepEqual(f.service.repo.endpointsOf(CT), []);
  assert.deepEqual(f.driver.calls.at(-1), { op: 'remove', bridge, subnet: '172.18.0.0/16' });
  assert.deepEqual(f.dns.calls.at(-1), `stop ${id}`);
  assert.deepEqual(f.events.at(-1)?.action, 'destroy');
  await assert.rejects(f.service.remove('app'), kindAndMessage('NotFound', 'network app not found'));
});

test('prune removes only unused custom networks, honouring label filters', async (t) => {
  const f = await started(t);
  const used = await f.service.create({ Name: 'used', Labels: { keep: 'no' } });
  await f.service.create({ Name: 'free1', Labels: { keep: 'no' } });
  await f.service.create({ Name: 'free2', Labels: { keep: 'yes' } });
  await f.service.create({ Name: 'free3' });
  insertContainerRow(f.db, CT, 'one');
  f.service.repo.addEndpoint({ containerId: CT, networkId: used.id, endpointId: 'ep', config: {} });
  f.running.add(CT);

  assert.deepEqual(await f.service.prune(parseFilters('{"label":["keep=no"]}')), ['free1']);
  assert.deepEqual(await f.service.prune(parseFilters('{"label!":["keep"]}')), ['free3']);
  assert.deepEqual(await f.service.prune(parseFilters('{"until":["2000-01-01T00:00:00Z"]}')), []);
  await assert.rejects(f.service.prune(parseFilters('{"dangling":["true"]}')), kindAndMessage('InvalidParameter', "invalid filter 'dangling'"));
  assert.deepEqual(await f.service.prune(new Map()), ['free2']);
  assert.deepEqual(names(f).sort(), ['bridge', 'host', 'none', 'used']);
  // dockerd reports every prune, even one that removed nothing.
  assert.equal(f.events.filter((e) => e.action === 'prune').length, 4);
});

test('list filters: name, id, driver, type, label, dangling; unknown keys and types are errors', async (t) => {
  const f = await started(t);
  const web = await f.service.create({ Name: 'web-net', Labels: { tier: 'front', env: 'prod' } });
  await f.service.create({ Name: 'db-net', Labels: { tier: 'back' } });
  insertContainerRow(f.db, CT, 'one');
  f.service.repo.addEndpoint({ containerId: CT, networkId: web.id, endpointId: 'ep', config: {} });
  f.running.add(CT);

  assert.deepEqual(names(f), ['none', 'host', 'bridge', 'web-net', 'db-net']);
  assert.deepEqual(names(f, '{"name":["net"]}'), ['web-net', 'db-net']);
  assert.deepEqual(names(f, '{"name":["web","bri"]}'), ['bridge', 'web-net']);
  assert.deepEqual(names(f, `{"id":["${web.id.slice(0, 10)}"]}`), ['web-net']);
  assert.deepEqual(names(f, '{"driver":["bridge"]}'), ['bridge', 'web-net', 'db-net']);
  assert.deepEqual(names(f, '{"driver":["null"]}'), ['none']);
  assert.deepEqual(names(f, '{"type":["custom"]}'), ['web-net', 'db-net']);
  assert.deepEqual(names(f, '{"type":["builtin"]}'), ['none', 'host', 'bridge']);
  assert.deepEqual(names(f, '{"label":["tier"]}'), ['web-net', 'db-net']);
  assert.deepEqual(names(f, '{"label":["tier=front","env=prod"]}'), ['web-net']);
  assert.deepEqual(names(f, '{"dangling":["true"]}'), ['db-net']);
  assert.deepEqual(names(f, '{"dangling":["false"]}'), ['none', 'host', 'bridge', 'web-net']);
  assert.deepEqual(names(f, '{"scope":["local"]}').length, 5);
  assert.deepEqual(names(f, '{"scope":["swarm"]}'), []);
  assert.throws(() => names(f, '{"type":["other"]}'), kindAndMessage('InvalidParameter', "invalid filter: 'type'='other'"));
  assert.throws(() => names(f, '{"color":["red"]}'), kindAndMessage('InvalidParameter', "invalid filter 'color'"));
});

test('close closes the DNS hub', async (t) => {
  const f = await started(t);
  await f.service.close();
  assert.deepEqual(f.dns.calls, ['close']);
});
