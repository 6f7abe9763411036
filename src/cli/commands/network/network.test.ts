import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as api from '../../../api/types/index.ts';
import { renderList } from '../../format/formatter.ts';
import { FlagError } from '../../args/spec.ts';
import { filtersParam } from '../container/ps.ts';
import { createIpamConfig, ipBytes } from './ipam-flags.ts';
import { NETWORK_HEADERS, goTimeString, listFormat, naturalCompare, networkRow, sortByName } from './ls-format.ts';
import { labelsFlag, networkConnectBody, networkCreateBody } from './network.ts';

const net = (Name: string, Id: string, extra: Partial<api.NetworkResource> = {}): api.NetworkResource => ({
  Name, Id, Created: '2024-05-01T10:00:00.120000000Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
  ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {}, ...extra,
});

const ls = (nets: api.NetworkResource[], format?: string, quiet = false, trunc = true): string =>
  renderList(sortByName(nets), { format: listFormat(format, quiet), defaultTable: listFormat(undefined, false), headers: NETWORK_HEADERS, toRow: (n) => networkRow(n, trunc) });

const NETS = [
  net('net10', 'a'.repeat(64)), net('bridge', 'b'.repeat(64)), net('net9', 'c'.repeat(64)),
  net('host', 'd'.repeat(64), { Driver: 'host' }), net('none', 'e'.repeat(64), { Driver: 'null', Labels: { tier: 'x' } }),
];

test('network ls: docker 28 table, natural name order, 12-character IDs', () => {
  assert.equal(ls(NETS), [
    'NETWORK ID     NAME      DRIVER    SCOPE',
    'bbbbbbbbbbbb   bridge    bridge    local',
    'dddddddddddd   host      host      local',
    'cccccccccccc   net9      bridge    local',
    'aaaaaaaaaaaa   net10     bridge    local',
    'eeeeeeeeeeee   none      null      local',
    '',
  ].join('\n'));
});

test('network ls: -q, --no-trunc, custom and json formats', () => {
  assert.equal(ls(NETS, undefined, true), `${['b', 'd', 'c', 'a', 'e'].map((c) => c.repeat(12)).join('\n')}\n`);
  assert.equal(ls(NETS, 'table', true).split('\n')[0], 'b'.repeat(12));
  assert.equal(ls([NETS[0]!], undefined, true, false), `${'a'.repeat(64)}\n`);
  assert.equal(ls(NETS, '{{.Name}} {{.Label "tier"}}').split('\n')[4], 'none x');
  assert.equal(ls([NETS[4]!], 'table {{.Name}}\t{{.IPv4}}\t{{.Internal}}\t{{.Labels}}'), 'NAME      IPV4      INTERNAL   LABELS\nnone      true      false      tier=x\n');
  assert.equal(ls([NETS[4]!], 'json'),
    `{"CreatedAt":"2024-05-01 10:00:00.12 +0000 UTC","Driver":"null","ID":"eeeeeeeeeeee","IPv4":"true","IPv6":"false","Internal":"false","Labels":"tier=x","Name":"none","Scope":"local"}\n`);
  assert.equal(ls([], undefined), 'NETWORK ID   NAME      DRIVER    SCOPE\n');
});

test('naturalCompare and Go time strings', () => {
  assert.deepEqual(['b10', 'b9', 'a', 'b09', 'B', '10', '9x'].sort(naturalCompare), ['9x', '10', 'B', 'a', 'b9', 'b09', 'b10']);
  assert.equal(goTimeString('2024-05-01T10:00:00Z'), '2024-05-01 10:00:00 +0000 UTC');
  assert.equal(goTimeString('2024-05-01T10:00:00.123456789+02:00'), '2024-05-01 10:00:00.123456789 +0200 +0200');
});

test('network create: the body docker CLI 28 sends', () => {
  assert.deepEqual(networkCreateBody('n1', { driver: 'bridge', 'ipam-driver': 'default' }), {
    Name: 'n1', Driver: 'bridge', Scope: '', IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false,
    Ingress: false, ConfigOnly: false, ConfigFrom: null, Options: {}, Labels: {},
  });
  const b = networkCreateBody('n2', {
    driver: 'bridge', 'ipam-driver': 'default', subnet: ['10.20.0.0/16,fd00:1::/64'], gateway: ['10.20.0.254'], 'ip-range': ['10.20.5.0/24'],
    'aux-address': ['router=10.20.0.2'], label: ['a=1', 'flag'], opt: ['com.docker.network.bridge.name=br-x', 'mtu=1400'], internal: true, attachable: true, ipv6: true,
  });
  assert.deepEqual(b.IPAM?.Config, [
    { Subnet: '10.20.0.0/16', Gateway: '10.20.0.254', IPRange: '10.20.5.0/24', AuxiliaryAddresses: { router: '10.20.0.2' } },
    { Subnet: 'fd00:1::/64' },
  ]);
  assert.deepEqual(b.Labels, { a: '1', flag: '' });
  assert.deepEqual(b.Options, { 'com.docker.network.bridge.name': 'br-x', mtu: '1400' });
  assert.equal(b.EnableIPv6, true);
  assert.equal(b.EnableIPv4, undefined);
  assert.equal(networkCreateBody('n3', { ipv4: false }).EnableIPv4, false);
  assert.equal(b.Internal && b.Attachable, true);
});

test('network create: IPAM errors as docker words them', () => {
  const ipam = (o: { subnets?: string[]; ipRanges?: string[]; gateways?: string[]; aux?: [string, string][] }) => createIpamConfig({
    driver: 'default', subnets: o.subnets ?? [], ipRanges: o.ipRanges ?? [], gateways: o.gateways ?? [], auxAddresses: new Map(o.aux ?? []), options: {},
  });
  const cases: [Parameters<typeof ipam>[0], string][] = [
    [{ gateways: ['10.0.0.1'] }, 'every ip-range or gateway must have a corresponding subnet'],
    [{ subnets: ['10.0.0.0/8', '10.1.0.0/16'] }, 'multiple overlapping subnet configuration is not supported'],
    [{ subnets: ['nope', '10.1.0.0/16'] }, 'invalid subnet: invalid CIDR address: nope'],
    [{ subnets: ['10.1.0.0/16'], gateways: ['10.2.0.1'] }, 'no matching subnet for gateway 10.2.0.1'],
    [{ subnets: ['10.1.0.0/16'], gateways: ['bogus'] }, 'no matching subnet for gateway bogus'],
    [{ subnets: ['10.1.0.0/16'], ipRanges: ['10.2.0.0/24'] }, 'no matching subnet for range 10.2.0.0/24'],
    [{ subnets: ['10.1.0.0/16'], ipRanges: ['10.1.0.0/33'] }, 'invalid CIDR address: 10.1.0.0/33'],
    [{ subnets: ['10.1.0.0/16', '10.2.0.0/16'], ipRanges: ['10.1.1.0/24', '10.1.2.0/24'] }, 'cannot configure multiple ranges (10.1.2.0/24, 10.1.1.0/24) on the same subnet (10.1.0.0/16)'],
    [{ subnets: ['10.1.0.0/16'], aux: [['r', '10.9.0.1']] }, 'no matching subnet for aux-address 10.9.0.1'],
  ];
  for (const [o, msg] of cases) assert.throws(() => ipam(o), { message: msg }, msg);
  assert.deepEqual(ipBytes('::ffff:10.0.0.1'), [10, 0, 0, 1]);
  assert.equal(ipBytes('fe80::1%eth0'), undefined);
});

test('--label and --filter are checked at flag time', () => {
  assert.throws(() => labelsFlag(['=x']), (e) => e instanceof FlagError && e.message === `invalid argument "=x" for "--label" flag: invalid label '=x': empty name`);
  assert.throws(() => labelsFlag(['a b=1']), { message: `invalid argument "a b=1" for "--label" flag: label 'a b' contains whitespaces` });
  assert.equal(filtersParam([' Driver = bridge ', '', 'name=a', 'name=b']), '{"driver":{"bridge":true},"name":{"a":true,"b":true}}');
  assert.equal(filtersParam([]), undefined);
  assert.throws(() => filtersParam(['dangling']), (e) => e instanceof FlagError && e.message === 'invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)');
  assert.throws(() => filtersParam(['x'], '--filter'), { message: 'invalid argument "x" for "--filter" flag: bad format of filter (expected name=value)' });
});

test('network connect: the endpoint docker CLI 28 sends', () => {
  assert.deepEqual(networkConnectBody('web', {}), { Container: 'web', EndpointConfig: { IPAMConfig: {}, Links: null, Aliases: [], DriverOpts: {} } });
  assert.deepEqual(networkConnectBody('web', { alias: ['a,b', 'c'], ip: '10.1.0.9', link: ['db:d'], 'driver-opt': ['k= v '], 'link-local-ip': ['169.254.1.1'] }), {
    Container: 'web',
    EndpointConfig: { IPAMConfig: { IPv4Address: '10.1.0.9', LinkLocalIPs: ['169.254.1.1'] }, Links: ['db:d'], Aliases: ['a', 'b', 'c'], DriverOpts: { k: 'v' } },
  });
  assert.throws(() => networkConnectBody('web', { 'driver-opt': ['novalue'] }), { message: 'invalid key/value pair format in driver options' });
  assert.throws(() => networkConnectBody('web', { link: ['a:b:c'] }), { message: 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c' });
});
