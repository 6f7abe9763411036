import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitError, type Flags } from '../../context.ts';
import { FlagError } from '../../args/spec.ts';
import { createBody } from './run-flags.ts';
import { buildEndpointsConfig, isMac, parseNetworkOpt, parsePorts, parsePortSpec } from './run-network.ts';

const b = (HostIp: string, HostPort: string) => ({ HostIp, HostPort });

test('-p: every form docker accepts, as docker CLI 28 sends it', () => {
  assert.deepEqual(parsePortSpec('8080:80'), [['80/tcp', b('', '8080')]]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8081:80'), [['80/tcp', b('127.0.0.1', '8081')]]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [['80/tcp', b('127.0.0.1', '')]]);
  assert.deepEqual(parsePortSpec('192.0.2.1:83:80/udp'), [['80/udp', b('192.0.2.1', '83')]]);
  assert.deepEqual(parsePortSpec('53:53/udp'), [['53/udp', b('', '53')]]);
  assert.deepEqual(parsePortSpec('80'), [['80/tcp', b('', '')]]);
  assert.deepEqual(parsePortSpec('80/SCTP'), [['80/sctp', b('', '')]]);
  assert.deepEqual(parsePortSpec('9000-9002:9000-9002'), [['9000/tcp', b('', '9000')], ['9001/tcp', b('', '9001')], ['9002/tcp', b('', '9002')]]);
  assert.deepEqual(parsePortSpec('8000-8002:9000-9002'), [['9000/tcp', b('', '8000')], ['9001/tcp', b('', '8001')], ['9002/tcp', b('', '8002')]]);
  // A host range for one container port: the daemon picks one port of the range.
  assert.deepEqual(parsePortSpec('8000-8010:80'), [['80/tcp', b('', '8000-8010')]]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [['80/tcp', b('::1', '8080')]]);
  assert.deepEqual(parsePortSpec('::1:8080:80'), [['80/tcp', b('::1', '8080')]]);
  assert.deepEqual(parsePortSpec('0080:080'), [['80/tcp', b('', '80')]]);
});

test('-p: malformed specs get docker 28 messages (proto is checked first)', () => {
  const cases: [string, string][] = [
    ['', 'no port specified: <empty>'],
    ['8080:', 'no port specified: 8080:<empty>'],
    ['80/xyz', 'invalid proto: xyz'],
    ['1.2.3:80:80/xyz', 'invalid proto: xyz'],
    ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
    ['[::1:80:80', "invalid IP address [::1: address [::1:: missing ']' in address"],
    ['8080:abc', 'invalid containerPort: abc'],
    ['8080:70000', 'invalid containerPort: 70000'],
    ['abc:80', 'invalid hostPort: abc'],
    ['9002-9000:80', 'invalid hostPort: 9002-9000'],
    ['9000-9001:9000-9002', 'invalid ranges specified for container and host Ports: 9000-9002 and 9000-9001'],
    ['8000-8002:9000-9001', 'invalid ranges specified for container and host Ports: 9000-9001 and 8000-8002'],
  ];
  for (const [spec, msg] of cases) assert.throws(() => parsePortSpec(spec), { message: msg }, spec);
});

test('-p long syntax and --expose ranges', () => {
  const r = parsePorts(['published=8080,target=80,protocol=udp', '8080:80'], ['90-91/udp', '7000']);
  assert.deepEqual(r.bindings, { '80/udp': [b('', '8080')], '80/tcp': [b('', '8080')] });
  assert.deepEqual(Object.keys(r.exposed).sort(), ['7000/tcp', '80/tcp', '80/udp', '90/udp', '91/udp']);
  // Two -p for the same container port keep both bindings, in order.
  assert.deepEqual(parsePorts(['8080:80', '127.0.0.1:8081:80'], []).bindings, { '80/tcp': [b('', '8080'), b('127.0.0.1', '8081')] });
  assert.throws(() => parsePorts(['published=1,bogus'], []), { message: "invalid publish opts format (should be name=value but got 'bogus')" });
  assert.throws(() => parsePorts([], ['1:2']), { message: 'invalid port format for --expose: 1:2' });
  assert.throws(() => parsePorts([], ['abc']), { message: 'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax' });
  assert.throws(() => parsePorts([], ['9-1']), { message: 'invalid range format for --expose: 9-1, error: invalid range specified for port: 9-1' });
});

test('--network advanced syntax', () => {
  assert.deepEqual(parseNetworkOpt('mynet').target, 'mynet');
  const n = parseNetworkOpt('name=Net1,alias=a1,alias=a2,ip=10.1.0.5,driver-opt=k=V,gw-priority=-2');
  assert.equal(n.target, 'net1'); // docker 28 lowercases the whole field
  assert.deepEqual(n.aliases, ['a1', 'a2']);
  assert.deepEqual(n.driverOpts, { k: 'v' });
  assert.equal(n.gwPriority, -2);
  assert.throws(() => parseNetworkOpt('name=x,foo=bar'), { message: 'invalid field key foo' });
  assert.throws(() => parseNetworkOpt('alias=x'), { message: 'network name/id is not specified' });
  assert.throws(() => parseNetworkOpt('name=x,junk'), { message: 'invalid field junk' });
  assert.deepEqual(parseNetworkOpt('"name=a,b",alias=c').target, 'a,b');
});

const none = { aliases: [], links: [], ipv4: '', ipv6: '', linkLocalIps: [], mac: '' };

test('EndpointsConfig: the cases docker CLI 28 distinguishes', () => {
  // No --network: always a "default" entry.
  assert.deepEqual(buildEndpointsConfig([], none), { default: {} });
  assert.deepEqual(buildEndpointsConfig([], { ...none, mac: '92:d0:c6:0a:29:33' }), { default: { MacAddress: '92:d0:c6:0a:29:33' } });
  // One network with nothing to configure: no entry; with options: one entry.
  assert.deepEqual(buildEndpointsConfig([parseNetworkOpt('mynet')], none), {});
  assert.deepEqual(buildEndpointsConfig([parseNetworkOpt('bridge')], { ...none, links: ['db:d'] }), {});
  assert.deepEqual(buildEndpointsConfig([parseNetworkOpt('mynet')], { ...none, aliases: ['web'], links: ['db:d', 'cache'], ipv4: '10.5.0.9', mac: '02:42:ac:11:00:02' }), {
    mynet: { Aliases: ['web'], Links: ['db:d', 'cache'], IPAMConfig: { IPv4Address: '10.5.0.9' }, MacAddress: '02:42:ac:11:00:02' },
  });
  // The container-wide options go to the first network only.
  assert.deepEqual(buildEndpointsConfig([parseNetworkOpt('a'), parseNetworkOpt('b')], { ...none, ipv4: '10.0.0.2' }), { a: { IPAMConfig: { IPv4Address: '10.0.0.2' } }, b: {} });
});

test('EndpointsConfig: docker 28 errors', () => {
  const cases: [Parameters<typeof buildEndpointsConfig>, string][] = [
    [[[], { ...none, aliases: ['x'] }], 'network-scoped aliases are only supported for user-defined networks'],
    [[[parseNetworkOpt('bridge')], { ...none, aliases: ['x'] }], 'network-scoped aliases are only supported for user-defined networks'],
    [[[parseNetworkOpt('a'), parseNetworkOpt('a')], none], 'network "a" is specified multiple times'],
    [[[parseNetworkOpt('a'), parseNetworkOpt('host')], none], 'conflicting options: cannot attach both user-defined and non-user-defined network-modes'],
    [[[parseNetworkOpt('name=a,ip=10.0.0.3')], { ...none, ipv4: '10.0.0.2' }], 'conflicting options: cannot specify both --ip and per-network IPv4 address'],
    [[[parseNetworkOpt('name=a,alias=x')], { ...none, aliases: ['y'] }], 'conflicting options: cannot specify both --network-alias and per-network alias'],
    [[[parseNetworkOpt('a')], { ...none, mac: 'zz' }], 'zz is not a valid mac address'],
  ];
  for (const [args, msg] of cases) assert.throws(() => buildEndpointsConfig(...args), { message: msg }, msg);
});

test('isMac follows net.ParseMAC', () => {
  for (const ok of ['92:d0:c6:0a:29:33', '92-D0-C6-0A-29-33', '92d0.c60a.2933', '02:00:5e:10:00:00:00:01']) assert.ok(isMac(ok), ok);
  for (const bad of ['92:d0:c6:0a:29', '92:d0-c6:0a:29:33', '92d0c60a2933', 'zz:d0:c6:0a:29:33']) assert.ok(!isMac(bad), bad);
});

const runFlags = (extra: Flags): Flags => ({ 'sig-proxy': true, pull: 'missing', restart: 'no', ...extra });

test('createBody: HostConfig.Links as typed, endpoint links only on a user-defined network', () => {
  const legacy = createBody(runFlags({ link: ['db:d'], publish: ['8080:80'] }), 'busybox', []);
  assert.deepEqual(legacy.HostConfig?.Links, ['db:d']);
  assert.equal(legacy.HostConfig?.NetworkMode, 'default');
  assert.deepEqual(legacy.NetworkingConfig, { EndpointsConfig: { default: {} } });
  assert.deepEqual(legacy.HostConfig?.PortBindings, { '80/tcp': [b('', '8080')] });
  assert.deepEqual(legacy.ExposedPorts, { '80/tcp': {} });

  const custom = createBody(runFlags({ network: ['mynet'], link: ['db:d'], 'network-alias': ['web'], ip: '10.9.0.4' }), 'busybox', []);
  assert.equal(custom.HostConfig?.NetworkMode, 'mynet');
  assert.deepEqual(custom.HostConfig?.Links, ['db:d']);
  assert.deepEqual(custom.NetworkingConfig?.EndpointsConfig, { mynet: { Aliases: ['web'], Links: ['db:d'], IPAMConfig: { IPv4Address: '10.9.0.4' } } });

  const host = createBody(runFlags({ network: ['host'] }), 'busybox', []);
  assert.equal(host.HostConfig?.NetworkMode, 'host');
  assert.deepEqual(host.NetworkingConfig, { EndpointsConfig: {} });
});

test('createBody: flag-time errors are FlagErrors, parse() errors read "berth: ..." with run or create', () => {
  assert.throws(() => createBody(runFlags({ link: ['a:b:c'] }), 'busybox', []),
    (e) => e instanceof FlagError && e.message === 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c');
  assert.throws(() => createBody(runFlags({ network: ['name=x,bad=1'] }), 'busybox', []),
    (e) => e instanceof FlagError && e.message === 'invalid argument "name=x,bad=1" for "--network" flag: invalid field key bad');
  assert.throws(() => createBody(runFlags({ publish: ['8080:abc'] }), 'busybox', []),
    (e) => e instanceof ExitError && e.status === 125 && e.message === "berth: invalid containerPort: abc\n\nRun 'berth run --help' for more information");
  assert.throws(() => createBody({ publish: ['9000-9001:9000-9002'] }, 'busybox', []),
    (e) => e instanceof ExitError && e.message === "berth: invalid ranges specified for container and host Ports: 9000-9002 and 9000-9001\n\nRun 'berth create --help' for more information");
  assert.throws(() => createBody(runFlags({ 'network-alias': ['x'] }), 'busybox', []),
    (e) => e instanceof ExitError && e.message.startsWith('berth: network-scoped aliases are only supported for user-defined networks\n'));
});
