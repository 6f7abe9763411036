import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { checkBridgeOptions, checkNetworkKind, validateIpam } from './validate-create.ts';

const refused = (kind: string, msg: string) => (err: unknown) => err instanceof EngineError && err.kind === kind && err.message === msg;
const ipamError = (...problems: string[]) =>
  refused('InvalidParameter', `invalid network config:\n${problems.length === 1 ? problems[0] : `* ${problems.join('\n* ')}`}`);

test('validateIpam: subnets, ranges, gateways and auxiliary addresses as network.ValidateIPAM checks them', () => {
  for (const ok of [
    [], [{ Subnet: '10.1.0.0/16', IPRange: '10.1.2.0/24', Gateway: '10.1.0.1', AuxiliaryAddresses: { a: '10.1.0.2' } }],
    [{ Subnet: '10.1.0.0/16', IPRange: '10.1.0.0/16' }], [{ Subnet: 'fd00::5/64' }], // an IPv6 entry of a network without IPv6 is not checked
  ]) assert.doesNotThrow(() => validateIpam(ok, false), JSON.stringify(ok));
  assert.doesNotThrow(() => validateIpam([{ Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1', IPRange: 'fd00:1::/80' }], true));
  const cases: [Parameters<typeof validateIpam>[0], boolean, string[]][] = [
    [[{ Subnet: 'abc' }], false, ['invalid subnet abc: invalid CIDR block notation']],
    [[{ Subnet: '10.1.0.0' }], false, ['invalid subnet 10.1.0.0: invalid CIDR block notation']],
    [[{ Subnet: '10.1.0.0/33' }], false, ['invalid subnet 10.1.0.0/33: invalid CIDR block notation']],
    [[{ Gateway: '10.1.0.1' }], false, ['invalid subnet : invalid CIDR block notation']],
    [[{ Subnet: '10.1.0.5/16' }], false, ['invalid subnet 10.1.0.5/16: it should be 10.1.0.0/16']],
    [[{ Subnet: 'fd00::5/64' }], true, ['invalid subnet fd00::5/64: it should be fd00::/64']],
    [[{ Subnet: '10.1.0.0/16', IPRange: 'xyz' }], false, ['invalid ip-range xyz: invalid CIDR block notation']],
    [[{ Subnet: '10.1.0.0/16', IPRange: 'fd00::/64' }], false, ['invalid ip-range fd00::/64: parent subnet is an IPv4 block']],
    [[{ Subnet: '10.1.0.0/16', IPRange: '10.0.0.0/8' }], false, ['invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.1.0.0/16']],
    [[{ Subnet: '10.1.0.0/16', IPRange: '10.1.2.5/24' }], false, ['invalid ip-range 10.1.2.5/24: it should be 10.1.2.0/24']],
    [[{ Subnet: '10.1.0.0/16', IPRange: '10.2.0.0/24' }], false, ["invalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't contain ip-range"]],
    [[{ Subnet: '10.1.0.0/16', Gateway: 'nope' }], false, ['invalid gateway nope: invalid address']],
    [[{ Subnet: '10.1.0.0/16', Gateway: 'fd00::1' }], false, ['invalid gateway fd00::1: parent subnet is an IPv4 block']],
    [[{ Subnet: '10.1.0.0/16', Gateway: '10.2.0.1' }], false, ["invalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn't contain this address"]],
    [[{ Subnet: '10.1.0.0/16', AuxiliaryAddresses: { db: '10.9.0.1' } }], false, ["invalid auxiliary address db: parent subnet 10.1.0.0/16 doesn't contain this address"]],
    [[{ Subnet: '10.1.0.0/16', Gateway: 'x' }, { Subnet: 'y' }], false, ['invalid gateway x: invalid address', 'invalid subnet y: invalid CIDR block notation']],
  ];
  for (const [configs, v6, problems] of cases) assert.throws(() => validateIpam(configs, v6), ipamError(...problems), JSON.stringify(configs));
});

test('checkBridgeOptions: the options the bridge driver parses must parse', () => {
  assert.doesNotThrow(() => checkBridgeOptions({
    'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
    'com.docker.network.bridge.gateway_mode_ipv4': 'routed', 'com.example.anything': 'kept',
  }));
  const cases: [Record<string, string>, string][] = [
    [{ 'com.docker.network.bridge.enable_ip_masquerade': 'yes' }, 'failed to parse com.docker.network.bridge.enable_ip_masquerade value: yes (strconv.ParseBool: parsing "yes": invalid syntax)'],
    [{ 'com.docker.network.driver.mtu': '99999999999999999999' }, 'failed to parse com.docker.network.driver.mtu value: 99999999999999999999 (strconv.Atoi: parsing "99999999999999999999": value out of range)'],
    [{ 'com.docker.network.bridge.host_binding_ipv4': 'localhost' }, 'failed to parse com.docker.network.bridge.host_binding_ipv4 value: localhost (nil ip)'],
    [{ 'com.docker.network.bridge.gateway_mode_ipv6': 'nat6' }, 'failed to parse com.docker.network.bridge.gateway_mode_ipv6 value: nat6 (unknown gateway mode nat6)'],
  ];
  for (const [opts, msg] of cases) assert.throws(() => checkBridgeOptions(opts), refused('InvalidParameter', msg), msg);
});

test('checkNetworkKind: bridge networks with the default IPAM, as a dockerd in no swarm and without plugins', () => {
  const none = () => false;
  assert.doesNotThrow(() => checkNetworkKind({ Name: 'x' }, none));
  assert.doesNotThrow(() => checkNetworkKind({ Name: 'x', Driver: 'bridge', Scope: 'local', IPAM: { Driver: 'default' } }, none));
  assert.throws(() => checkNetworkKind({ Name: 'x', Driver: 'weave' }, none), refused('NotFound', 'plugin "weave" not found'));
  assert.throws(() => checkNetworkKind({ Name: 'x', Driver: 'null' }, none), refused('Forbidden', 'only one instance of "null" network is allowed'));
  assert.throws(() => checkNetworkKind({ Name: 'x', ConfigFrom: { Network: 'cfg' } }, (ref) => ref === 'cfg'), (e: unknown) => e instanceof EngineError && e.kind === 'NotImplemented');
});
