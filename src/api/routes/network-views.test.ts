import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, type Attached, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../../engine/index.ts';
import { containerNetworkSettings, summaryPorts, toNetworkResource } from './network-views.ts';

const CID = 'c1' + '3'.repeat(62);
const SHORT = CID.slice(0, 12);

function net(name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: `${name}-id`.padEnd(64, '0'), name, driver: 'bridge', createdAt: '2024-05-01T10:00:00Z', bridge: `br-${name}`, subnet: '172.18.0.0/16',
    gateway: '172.18.0.1', ipRange: '', enableIPv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, attachable: false, builtin: false, labels: { l: 'v' }, options: { o: 'v' },
    ipam: { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] }, ...extra,
  };
}

const BRIDGE = net('bridge', { builtin: true, bridge: 'berth0', subnet: '172.17.0.0/16', gateway: '172.17.0.1' });
const USER = net('app');
const HOST = net('host', { driver: 'host', builtin: true, bridge: '', subnet: '', gateway: '' });

function ep(n: NetworkRecord, extra: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    containerId: CID, networkId: n.id, seq: 0, endpointId: `ep-${n.name}`, config: {}, ip: null, ip6: null, mac: null, ifName: null, hostVeth: null, ports: [],
    ...extra,
  };
}

const live = (n: NetworkRecord, ip: string, extra: Partial<EndpointRecord> = {}): Attached =>
  ({ net: n, ep: ep(n, { ip, mac: `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`, ifName: 'eth0', hostVeth: 'btvx', ...extra }) });

function ctr(exposed: Record<string, object> = {}): ContainerRecord {
  return {
    id: CID, name: 'web', imageId: 'sha256:x', imageRef: 'busybox', createdAt: '2024-05-01T10:00:00Z',
    config: { ExposedPorts: exposed }, hostConfig: {}, runtime: 'crun', restartCount: 0, state: { ...initialState(), status: 'running' },
  };
}

test('running on the default bridge: top-level fields mirror it, Ports lists published and exposed ports', () => {
  const a = live(BRIDGE, '172.17.0.2', { ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp', count: 1 }] });
  const s = containerNetworkSettings(ctr({ '80/tcp': {}, '22/tcp': {} }), { attached: [a], sandboxKey: '/run/berth/netns/x', running: true });
  assert.deepEqual([s.IPAddress, s.Gateway, s.MacAddress, s.IPPrefixLen, s.EndpointID], ['172.17.0.2', '172.17.0.1', '02:42:ac:11:00:02', 16, 'ep-bridge']);
  assert.deepEqual([s.SandboxID, s.SandboxKey], [CID, '/run/berth/netns/x']);
  assert.deepEqual(s.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '22/tcp': null });
  assert.deepEqual(s.Networks['bridge'], {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '02:42:ac:11:00:02', DriverOpts: null, NetworkID: BRIDGE.id, EndpointID: 'ep-bridge',
    Gateway: '172.17.0.1', IPAddress: '172.17.0.2', IPPrefixLen: 16, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  });
  assert.deepEqual(summaryPorts(ctr({ '80/tcp': {}, '22/tcp': {} }), { attached: [a], sandboxKey: '', running: true }).length, 2);
});

test('running on a user network: top-level fields stay empty, DNSNames are name, aliases, short id', () => {
  const a = live(USER, '172.18.0.5', { config: { Aliases: ['www', 'api'], IPAMConfig: { IPv4Address: '172.18.0.5' } } });
  const s = containerNetworkSettings(ctr(), { attached: [a], sandboxKey: '/run/x', running: true });
  assert.deepEqual([s.IPAddress, s.Gateway, s.MacAddress, s.IPPrefixLen, s.EndpointID], ['', '', '', 0, '']);
  const n = s.Networks['app']!;
  assert.deepEqual([n.IPAddress, n.Gateway, n.IPPrefixLen, n.MacAddress, n.EndpointID], ['172.18.0.5', '172.18.0.1', 16, '02:42:ac:12:00:05', 'ep-app']);
  assert.deepEqual(n.DNSNames, ['web', 'www', 'api', SHORT]);
  assert.deepEqual(n.Aliases, ['www', 'api']);
  assert.deepEqual(n.IPAMConfig, { IPv4Address: '172.18.0.5' });
  assert.deepEqual(s.Ports, {});
});

test('on the default bridge and a user network: the top level follows the default bridge', () => {
  const s = containerNetworkSettings(ctr(), { attached: [live(USER, '172.18.0.5'), live(BRIDGE, '172.17.0.3', { ifName: 'eth1' })], sandboxKey: '/run/x', running: true });
  assert.deepEqual(Object.keys(s.Networks), ['app', 'bridge']);
  assert.equal(s.IPAddress, '172.17.0.3');
});

test('stopped: no addresses, no endpoint ids on bridge networks, empty Ports; settings as requested remain', () => {
  const a: Attached = { net: USER, ep: ep(USER, { config: { Aliases: ['www'], MacAddress: '02:42:00:00:00:01' } }) };
  const b: Attached = { net: BRIDGE, ep: ep(BRIDGE, { seq: 1 }) };
  const s = containerNetworkSettings(ctr({ '80/tcp': {} }), { attached: [a, b], sandboxKey: '/run/x', running: false });
  assert.deepEqual([s.IPAddress, s.Gateway, s.MacAddress, s.IPPrefixLen, s.EndpointID, s.SandboxID, s.SandboxKey], ['', '', '', 0, '', '', '']);
  assert.deepEqual(s.Ports, {});
  const n = s.Networks['app']!;
  assert.deepEqual([n.IPAddress, n.Gateway, n.IPPrefixLen, n.EndpointID, n.MacAddress, n.NetworkID], ['', '', 0, '', '02:42:00:00:00:01', USER.id]);
  assert.deepEqual(n.DNSNames, ['web', 'www', SHORT]);
  // Leftover runtime fields of a stopped container are not shown either.
  const stale = containerNetworkSettings(ctr(), { attached: [live(BRIDGE, '172.17.0.2')], sandboxKey: '', running: false });
  assert.equal(stale.Networks['bridge']!.IPAddress, '');
  assert.deepEqual(summaryPorts(ctr({ '80/tcp': {} }), { attached: [a], sandboxKey: '', running: false }), []);
});

test('host network: the endpoint id shows whether or not the container runs; no addresses', () => {
  const s = containerNetworkSettings(ctr(), { attached: [{ net: HOST, ep: ep(HOST) }], sandboxKey: '', running: false });
  assert.equal(s.Networks['host']!.EndpointID, 'ep-host');
  assert.equal(s.Networks['host']!.DNSNames, null);
  assert.deepEqual(containerNetworkSettings(ctr(), undefined).Networks, {});
});

test('toNetworkResource: Containers lists running endpoints only, with IP/prefix', () => {
  const members = [
    { id: CID, name: 'web', a: live(USER, '172.18.0.5') },
    { id: 'f'.repeat(64), name: 'stopped', a: { net: USER, ep: ep(USER, { containerId: 'f'.repeat(64) }) } },
  ];
  const r = toNetworkResource(USER, members, true);
  assert.deepEqual(r.Containers, {
    [CID]: { Name: 'web', EndpointID: 'ep-app', MacAddress: '02:42:ac:12:00:05', IPv4Address: '172.18.0.5/16', IPv6Address: '' },
  });
  assert.deepEqual([r.Name, r.Id, r.Driver, r.Scope, r.Internal, r.Labels, r.Options], ['app', USER.id, 'bridge', 'local', false, { l: 'v' }, { o: 'v' }]);
  assert.deepEqual(r.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
  assert.deepEqual(toNetworkResource(USER, members, false).Containers, {});
  // On host, members have no address and are listed as passed.
  const h = toNetworkResource(HOST, [{ id: CID, name: 'web', a: { net: HOST, ep: ep(HOST) } }], true);
  assert.deepEqual(h.Containers[CID], { Name: 'web', EndpointID: 'ep-host', MacAddress: '', IPv4Address: '', IPv6Address: '' });
});

test('toNetworkResource: maps and arrays as dockerd 27 sends them', () => {
  const sent = toNetworkResource(net('app', { ipam: { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] } }), [], false);
  assert.equal(sent.IPAM.Options, null, 'no IPAM options sent: null');
  assert.deepEqual([sent.Containers, sent.ConfigFrom, 'Peers' in sent], [{}, { Network: '' }, false]);
  // host and none have no pools: Config is null (databases written before kept []).
  for (const Config of [null, []]) {
    const h = toNetworkResource({ ...HOST, labels: {}, options: {}, ipam: { Driver: 'default', Options: null, Config } }, [], true);
    assert.deepEqual([h.IPAM, h.Labels, h.Options, h.Containers], [{ Driver: 'default', Options: null, Config: null }, {}, {}, {}]);
  }
});

test('dual-stack: IPv6 address, gateway and prefix in container inspect and network inspect while running', () => {
  const DUAL = net('dual', { enableIPv6: true, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
  const a = live(DUAL, '172.18.0.5', { ip6: 'fd00:1::2' });
  const n = containerNetworkSettings(ctr(), { attached: [a], sandboxKey: '/run/x', running: true }).Networks['dual']!;
  assert.deepEqual([n.GlobalIPv6Address, n.IPv6Gateway, n.GlobalIPv6PrefixLen], ['fd00:1::2', 'fd00:1::1', 64]);
  const stopped = containerNetworkSettings(ctr(), { attached: [a], sandboxKey: '', running: false }).Networks['dual']!;
  assert.deepEqual([stopped.GlobalIPv6Address, stopped.IPv6Gateway, stopped.GlobalIPv6PrefixLen], ['', '', 0]);
  const r = toNetworkResource(DUAL, [{ id: CID, name: 'web', a }], true);
  assert.equal(r.EnableIPv6, true);
  assert.equal(r.Containers[CID]!.IPv6Address, 'fd00:1::2/64');
  assert.equal(toNetworkResource(USER, [], false).EnableIPv6, false);
});

test('endpoint DriverOpts are shown as requested, running or not', () => {
  const opts = { 'com.example.opt': 'x' };
  const a = live(USER, '172.18.0.5', { config: { DriverOpts: opts } });
  assert.deepEqual(containerNetworkSettings(ctr(), { attached: [a], sandboxKey: '/run/x', running: true }).Networks['app']!.DriverOpts, opts);
  const stopped: Attached = { net: USER, ep: ep(USER, { config: { DriverOpts: opts } }) };
  assert.deepEqual(containerNetworkSettings(ctr(), { attached: [stopped], sandboxKey: '', running: false }).Networks['app']!.DriverOpts, opts);
  const empty: Attached = { net: USER, ep: ep(USER, { config: { DriverOpts: {} } }) };
  assert.deepEqual(containerNetworkSettings(ctr(), { attached: [empty], sandboxKey: '', running: false }).Networks['app']!.DriverOpts, {});
});
