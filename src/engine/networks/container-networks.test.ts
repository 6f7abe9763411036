import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerConfig, HostConfig, NetworkingConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { ContainerNetworks, macFromIp, networkModeOf, vethName, type NetContainer } from './container-networks.ts';
import { insertContainerRow, netFixture, type NetFixture } from './test-fakes.ts';

const CT = 'c1' + '3'.repeat(62);
const OTHER = 'c2' + '4'.repeat(62);

const invalidWith = (message: string | RegExp) => (err: unknown) =>
  err instanceof EngineError && err.kind === 'InvalidParameter' && (typeof message === 'string' ? err.message === message : message.test(err.message));

interface Env { f: NetFixture; cn: ContainerNetworks; user1: string; user2: string }

/** Networks bridge/host/none plus user1 (10.10.0.0/24) and user2; one other container "db" exists. */
async function env(t: TestContext): Promise<Env> {
  const f = netFixture(t);
  await f.service.init();
  const user1 = (await f.service.create({ Name: 'user1', IPAM: { Config: [{ Subnet: '10.10.0.0/24' }] } })).id;
  const user2 = (await f.service.create({ Name: 'user2' })).id;
  insertContainerRow(f.db, CT, 'web');
  insertContainerRow(f.db, OTHER, 'db');
  const others: Record<string, NetContainer & { running: boolean }> = {
    db: { id: OTHER, name: 'db', config: {}, hostConfig: {}, running: true },
  };
  const cn = new ContainerNetworks({
    networks: f.service, driver: f.driver, dns: f.dns, events: f.bus, ifPrefix: 'bt',
    container: (ref) => {
      const c = others[ref] ?? Object.values(others).find((x) => x.id.startsWith(ref));
      if (!c) throw new EngineError('NotFound', `No such container: ${ref}`);
      return c;
    },
    log: { info() {}, warn() {} },
  });
  return { f, cn, user1, user2 };
}

const ctr = (hostConfig: HostConfig, config: ContainerConfig = {}): NetContainer => ({ id: CT, name: 'web', config, hostConfig });

/** The recorded attachments as [network name, config]. */
const recorded = (e: Env) => e.cn.attached(CT).map((a) => [a.net.name, a.ep.config]);

function plan(e: Env, hc: HostConfig, nc?: NetworkingConfig, config: ContainerConfig = {}): string[] {
  return e.cn.plan(ctr(hc, config), nc);
}

test('default mode: one endpoint on the default bridge, whatever spelling of "default"', async (t) => {
  const e = await env(t);
  for (const mode of [undefined, '', 'default', 'bridge']) {
    assert.deepEqual(plan(e, mode === undefined ? {} : { NetworkMode: mode }), [], String(mode));
    assert.deepEqual(recorded(e), [['bridge', {}]]);
    e.f.service.repo.removeEndpoint(CT, e.f.service.resolve('bridge').id);
  }
});

test('default mode: an EndpointsConfig "default" entry configures the default bridge endpoint', async (t) => {
  const e = await env(t);
  plan(e, { NetworkMode: 'default' }, { EndpointsConfig: { default: { MacAddress: '02:42:ac:11:00:99' } } });
  assert.deepEqual(recorded(e), [['bridge', { MacAddress: '02:42:ac:11:00:99' }]]);
});

test('container: mode records nothing and refuses what the other container\'s namespace decides', async (t) => {
  const e = await env(t);
  assert.deepEqual(plan(e, { NetworkMode: 'container:db' }), []);
  assert.deepEqual(recorded(e), []);
  const cases: [HostConfig, ContainerConfig, string][] = [
    [{ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }, {}, 'conflicting options: port publishing and the container type network mode'],
    [{ PublishAllPorts: true }, {}, 'conflicting options: port publishing and the container type network mode'],
    [{}, { Hostname: 'h' }, 'conflicting options: hostname and the network mode'],
    [{ Dns: ['1.1.1.1'] }, {}, 'conflicting options: dns and the network mode'],
    [{ DnsSearch: ['example.com'] }, {}, 'conflicting options: dns and the network mode'],
    [{ ExtraHosts: ['a:1.2.3.4'] }, {}, 'conflicting options: custom host-to-IP mapping and the network mode'],
    [{}, { MacAddress: '02:42:ac:11:00:02' }, 'conflicting options: mac-address and the network mode'],
  ];
  for (const [hc, config, message] of cases) {
    assert.throws(() => plan(e, { NetworkMode: 'container:db', ...hc }, undefined, config), invalidWith(message), message);
  }
  assert.throws(() => plan(e, { NetworkMode: 'container:nope' }), (err: unknown) => err instanceof EngineError && err.kind === 'NotFound');
  assert.deepEqual(recorded(e), []);
});

test('--ip and aliases are for user-defined networks only', async (t) => {
  const e = await env(t);
  assert.throws(() => plan(e, {}, { EndpointsConfig: { bridge: { IPAMConfig: { IPv4Address: '172.17.0.5' } } } }),
    invalidWith('user specified IP address is supported on user defined networks only'));
  assert.throws(() => plan(e, {}, { EndpointsConfig: { bridge: { Aliases: ['web'] } } }),
    invalidWith('network-scoped alias is supported only for containers in user defined networks'));
  assert.throws(() => plan(e, { NetworkMode: 'host' }, { EndpointsConfig: { host: { Aliases: ['web'] } } }),
    invalidWith(/^network-scoped settings .* are not supported on the host network$/));
  assert.deepEqual(recorded(e), []);
});

test('--ip on a user network must lie in its subnet and be an address', async (t) => {
  const e = await env(t);
  assert.throws(() => plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { IPAMConfig: { IPv4Address: '10.11.0.5' } } } }),
    invalidWith('no configured subnet or ip-range contain the IP address 10.11.0.5'));
  assert.throws(() => plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { IPAMConfig: { IPv4Address: '10.10.0.500' } } } }),
    invalidWith('invalid IPv4 address: 10.10.0.500'));
  assert.throws(() => plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { MacAddress: 'zz:42' } } }),
    invalidWith('invalid MAC address: zz:42'));
  assert.deepEqual(recorded(e), []);
  plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { IPAMConfig: { IPv4Address: '10.10.0.5' }, Aliases: ['www'] } } });
  assert.deepEqual(recorded(e), [['user1', { IPAMConfig: { IPv4Address: '10.10.0.5' }, Aliases: ['www'] }]]);
});

test('two user networks: two endpoints in order, each with its own settings; matched by name or id', async (t) => {
  const e = await env(t);
  plan(e, { NetworkMode: 'user2' }, { EndpointsConfig: { [e.user1]: { Aliases: ['one'] }, user2: { Aliases: ['two'] } } });
  assert.deepEqual(recorded(e), [['user2', { Aliases: ['two'] }], ['user1', { Aliases: ['one'] }]]);
  assert.deepEqual(e.cn.attached(CT).map((a) => a.ep.seq), [0, 1]);
});

test('a user network next to host or none is refused; an unknown network is NotFound', async (t) => {
  const e = await env(t);
  assert.throws(() => plan(e, { NetworkMode: 'host' }, { EndpointsConfig: { user1: {} } }),
    invalidWith('conflicting options: cannot attach both user-defined and non-user-defined network-modes'));
  assert.throws(() => plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { none: {} } }),
    invalidWith('conflicting options: cannot attach both user-defined and non-user-defined network-modes'));
  assert.throws(() => plan(e, { NetworkMode: 'nope' }), (err: unknown) => err instanceof EngineError && err.kind === 'NotFound' && err.message === 'network nope not found');
  assert.deepEqual(recorded(e), []);
});

test('host mode: published ports are discarded with Docker\'s warning', async (t) => {
  const e = await env(t);
  assert.deepEqual(plan(e, { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }),
    ['Published ports are discarded when using host network mode']);
  assert.deepEqual(recorded(e), [['host', {}]]);
});

test('the container\'s MacAddress and --link go on the first endpoint; a legacy link to an unknown container is refused', async (t) => {
  const e = await env(t);
  assert.throws(() => plan(e, { Links: ['nope:alias'] }), invalidWith('could not get container for nope: No such container: nope'));
  assert.deepEqual(recorded(e), []);
  plan(e, { NetworkMode: 'user1', Links: ['/db:database'] }, { EndpointsConfig: { user2: {} } }, { MacAddress: '02:42:0a:0a:00:09' });
  assert.deepEqual(recorded(e), [['user1', { MacAddress: '02:42:0a:0a:00:09', Links: ['/db:database'] }], ['user2', {}]]);
});

test('on a user-defined network a link is an alias: its target need not exist at create (dockerd registers only legacy links)', async (t) => {
  const e = await env(t);
  plan(e, { NetworkMode: 'user1', Links: ['later:alias'] });
  assert.deepEqual(recorded(e), [['user1', { Links: ['later:alias'] }]]);
});

test('the container-wide MacAddress must agree with the main endpoint\'s; bad and multicast addresses are refused', async (t) => {
  const e = await env(t);
  assert.throws(() => plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { MacAddress: '02:42:0a:0a:00:08' } } }, { MacAddress: '02:42:0a:0a:00:09' }),
    invalidWith('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty'));
  assert.throws(() => plan(e, {}, undefined, { MacAddress: 'zz' }), invalidWith('invalid MAC address: zz'));
  assert.throws(() => plan(e, {}, undefined, { MacAddress: '01:00:5e:00:00:01' }), invalidWith('invalid MAC address: 01:00:5e:00:00:01'));
  assert.deepEqual(recorded(e), []);
  plan(e, { NetworkMode: 'user1' }, { EndpointsConfig: { user1: { MacAddress: '02-42-0A-0A-00-09' } } }, { MacAddress: '02:42:0a:0a:00:09' });
  assert.deepEqual(recorded(e), [['user1', { MacAddress: '02-42-0A-0A-00-09' }]]);
});

test('--ip6 needs an IPv6-enabled network and must lie in its IPv6 subnet; IPv6 host addresses need one too, ::1 never', async (t) => {
  const e = await env(t);
  await e.f.service.create({ Name: 'dual', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64' }] } });
  const cases: [HostConfig, NetworkingConfig | undefined, string | RegExp][] = [
    [{ NetworkMode: 'user1' }, { EndpointsConfig: { user1: { IPAMConfig: { IPv6Address: 'fd00:1::5' } } } },
      'user specified IP address is supported only when connecting to networks with user configured subnets'],
    [{ NetworkMode: 'dual' }, { EndpointsConfig: { dual: { IPAMConfig: { IPv6Address: 'fd00:2::5' } } } }, 'no configured subnet or ip-range contain the IP address fd00:2::5'],
    [{ NetworkMode: 'dual' }, { EndpointsConfig: { dual: { IPAMConfig: { IPv6Address: '10.0.0.1' } } } }, 'invalid IPv6 address: 10.0.0.1'],
    [{}, { EndpointsConfig: { bridge: { IPAMConfig: { IPv6Address: 'fd00:1::5' } } } }, 'user specified IP address is supported on user defined networks only'],
    [{ NetworkMode: 'user1', PortBindings: { '80/tcp': [{ HostIp: '::', HostPort: '8080' }] } }, undefined, 'cannot publish on ::: network user1 is not IPv6-enabled'],
    [{ NetworkMode: 'dual', PortBindings: { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] } }, undefined, /^cannot publish on ::1: IPv6 loopback traffic cannot be forwarded/],
  ];
  for (const [hc, nc, message] of cases) assert.throws(() => plan(e, hc, nc), invalidWith(message), String(message));
  assert.deepEqual(recorded(e), []);
  plan(e, { NetworkMode: 'dual', PortBindings: { '80/tcp': [{ HostIp: '::', HostPort: '8080' }] } }, { EndpointsConfig: { dual: { IPAMConfig: { IPv6Address: 'fd00:1::5' } } } });
  assert.deepEqual(recorded(e), [['dual', { IPAMConfig: { IPv6Address: 'fd00:1::5' } }]]);
});

test('start on a dual-stack network: IPv4 and IPv6 leases, both on the interface, AAAA names, ports on both families', async (t) => {
  const e = await env(t);
  await e.f.service.create({ Name: 'dual', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:1::/64' }, { Subnet: '10.30.0.0/24' }] } });
  const hc: HostConfig = { NetworkMode: 'dual', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '18080' }], '81/tcp': [{ HostIp: '0.0.0.0', HostPort: '18090' }] } };
  const c = ctr(hc);
  plan(e, hc, { EndpointsConfig: { user1: {} } });
  const sb = await e.cn.setUp(c);
  assert.deepEqual([sb.ip, sb.ip6], ['10.30.0.2', 'fd00:1::2']);
  const [eth0, eth1] = e.f.driver.sandboxesMade[0]!.attachments.map((a) => a.endpoint);
  assert.deepEqual([eth0!.address, eth0!.gateway, eth0!.address6, eth0!.gateway6], ['10.30.0.2/24', '10.30.0.1', 'fd00:1::2/64', 'fd00:1::1']);
  assert.deepEqual([eth1!.address6, eth1!.gateway6], [undefined, undefined], 'user1 is IPv4-only');
  const pub = e.f.driver.published[0]!;
  assert.deepEqual(pub.to, { ip: '10.30.0.2', ip6: 'fd00:1::2' });
  // An unset HostIp publishes on both families with one port; an explicit 0.0.0.0 stays IPv4.
  assert.deepEqual(pub.ports.map((p) => `${p.hostIp}|${p.hostPort}`).sort(), ['::|18080', '|18080', '|18090']);
  assert.deepEqual(e.f.dns.records.lookup(e.f.service.resolve('dual').id, 'web'), { ipv4: ['10.30.0.2'], ipv6: ['fd00:1::2'] });
  const dualEp = e.cn.attached(CT).find((a) => a.net.name === 'dual')!.ep;
  assert.equal(dualEp.ip6, 'fd00:1::2');

  await e.cn.tearDown(c);
  assert.deepEqual(e.f.driver.published[1]!.op, 'unpublish');
  assert.deepEqual(e.f.service.repo.leasesOn6(e.f.service.resolve('dual').id), [], 'the IPv6 lease is released');
  // A connect to a running container leases from the same pool, --ip6 honoured.
  await e.cn.setUp(c);
  await e.f.service.create({ Name: 'dual2', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:2::/64' }] } });
  await e.cn.connect(c, true, 'dual2', { IPAMConfig: { IPv6Address: 'fd00:2::99' } });
  assert.equal(e.cn.attached(CT).find((a) => a.net.name === 'dual2')!.ep.ip6, 'fd00:2::99');
});

test('default bridge with --fixed-cidr-v6 of /80 or wider: the IPv6 address is the prefix and the MAC, as dockerd 27', async (t) => {
  const f = netFixture(t, { fixedCidrV6: 'fd00:db8::/64' });
  await f.service.init();
  insertContainerRow(f.db, CT, 'web');
  const cn = new ContainerNetworks({
    networks: f.service, driver: f.driver, dns: f.dns, events: f.bus, ifPrefix: 'bt', container: () => { throw new Error('none'); }, log: { info() {}, warn() {} },
  });
  cn.plan(ctr({}), undefined);
  const sb = await cn.setUp(ctr({}));
  assert.deepEqual([sb.ip, sb.ip6], ['172.17.0.2', 'fd00:db8::242:ac11:2']);
  assert.equal(f.driver.sandboxesMade[0]!.attachments[0]!.endpoint.gateway6, 'fd00:db8::1');
});

test('macFromIp: 02:42 and the four address bytes in hex', () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIp('10.255.1.16'), '02:42:0a:ff:01:10');
});

test('vethName: the prefix and "v", at most 15 characters, new per call', () => {
  for (const prefix of ['b', 'bt', 'berth_']) {
    const names = new Set(Array.from({ length: 20 }, () => vethName(prefix)));
    assert.equal(names.size, 20);
    for (const n of names) {
      assert.ok(n.startsWith(`${prefix}v`), n);
      assert.ok(n.length <= 15, n);
      assert.match(n.slice(prefix.length + 1), /^[0-9a-f]+$/);
    }
  }
});

test('networkModeOf: empty and "default" are the default bridge', () => {
  assert.equal(networkModeOf({}), 'bridge');
  assert.equal(networkModeOf({ NetworkMode: '' }), 'bridge');
  assert.equal(networkModeOf({ NetworkMode: 'default' }), 'bridge');
  assert.equal(networkModeOf({ NetworkMode: 'host' }), 'host');
  assert.equal(networkModeOf({ NetworkMode: 'container:abc' }), 'container:abc');
});
