import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../lib/errors.ts';
import { AddressPool6, canonicalIPv6, createPool6, formatIPv6, parseCidr6, parseHostRoutes6, parseIPv6, pickDefaultSubnet6 } from './ipam6.ts';

const kind = (k: string, message?: string | RegExp) => (err: unknown) =>
  err instanceof EngineError && err.kind === k && (message === undefined || (typeof message === 'string' ? err.message === message : message.test(err.message)));

test('parse and format as Go netip does (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['fd00:1::', 'fd00:1::'], ['FD00:0001:0000:0000:0000:0000:0000:0010', 'fd00:1::10'], ['::1', '::1'], ['::', '::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1:2:3:4', 'fe80::1:2:3:4'], ['::2:0.0.1.2', '::2:0:102'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIPv6(input), want, input);
  for (const bad of ['', '1.2.3.4', 'fd00::1%eth0', '::ffff:10.0.0.1', 'fd00:::1', 'g::1']) assert.equal(parseIPv6(bad), undefined, bad);
  assert.equal(formatIPv6((1n << 128n) - 1n), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
});

test('CIDRs: masking, strict host bits, bad input', () => {
  assert.deepEqual(parseCidr6('fd00:1::5/64'), { network: parseIPv6('fd00:1::')!, prefix: 64 });
  assert.throws(() => parseCidr6('fd00:1::5/64', { strict: true }), kind('InvalidParameter', 'invalid subnet fd00:1::5/64: it should be fd00:1::/64'));
  for (const bad of ['fd00::/129', 'fd00::', '10.0.0.0/8', 'x/64']) assert.throws(() => parseCidr6(bad), kind('InvalidParameter', `invalid CIDR address: ${bad}`));
});

test('createPool6: gateway defaults to ::1, must lie in the subnet; ranges inside; overlaps are Conflict', () => {
  assert.deepEqual(createPool6({ subnet: 'fd00:1::/64' }), { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' });
  assert.deepEqual(createPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:1::fe', ipRange: 'fd00:1::100/120' }),
    { subnet: 'fd00:1::/64', gateway: 'fd00:1::fe', ipRange: 'fd00:1::100/120' });
  assert.throws(() => createPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:2::1' }), kind('InvalidParameter', 'no matching subnet for gateway fd00:2::1'));
  assert.throws(() => createPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:1::' }), kind('InvalidParameter'));
  assert.throws(() => createPool6({ subnet: 'fd00:1::/64', ipRange: 'fd00:2::/80' }), kind('InvalidParameter', 'no matching subnet for range fd00:2::/80'));
  assert.throws(() => createPool6({ subnet: 'fd00:1::/127' }), kind('InvalidParameter', /too small/));
  assert.throws(() => createPool6({ subnet: 'fd00:1::/64' }, ['fd00::/16']), kind('Conflict', 'Pool overlaps with other one on this address space'));
  assert.deepEqual(createPool6({ subnet: 'fd00:1::/64' }, ['fd00:2::/64']).subnet, 'fd00:1::/64');
});

test('AddressPool6: serial from ::2, --ip6 honoured and canonical, conflicts, release, restart from leases', () => {
  const pool = new AddressPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:1::1' });
  assert.deepEqual([pool.allocate(), pool.allocate()], ['fd00:1::2', 'fd00:1::3']);
  assert.equal(pool.allocate('FD00:1:0::10'), 'fd00:1::10');
  assert.throws(() => pool.allocate('fd00:1::10'), kind('Conflict', 'Address already in use'));
  assert.throws(() => pool.allocate('fd00:1::1'), kind('Conflict'), 'the gateway');
  assert.throws(() => pool.allocate('fd00:9::1'), kind('InvalidParameter', 'no configured subnet or ip-range contain the IP address fd00:9::1'));
  assert.throws(() => pool.allocate('nope'), kind('InvalidParameter', 'invalid IPv6 address: nope'));
  pool.release('fd00:1::2');
  assert.equal(pool.allocate(), 'fd00:1::4', 'continues after the last serial lease, no immediate reuse');
  // A restart resumes after the highest lease.
  const again = new AddressPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:1::1' }, pool.leases(), ['fd00:1::11']);
  assert.deepEqual(again.leases(), ['fd00:1::3', 'fd00:1::4', 'fd00:1::10']);
  assert.equal(again.allocate(), 'fd00:1::12', 'aux addresses are never handed out');
  const tiny = new AddressPool6({ subnet: 'fd00:1::/126', gateway: 'fd00:1::1' });
  assert.deepEqual([tiny.allocate(), tiny.allocate()], ['fd00:1::2', 'fd00:1::3']);
  assert.throws(() => tiny.allocate(), kind('Unavailable', 'no available addresses on this pool'));
  const ranged = new AddressPool6({ subnet: 'fd00:1::/64', gateway: 'fd00:1::1', ipRange: 'fd00:1::100/120' });
  assert.equal(ranged.allocate(), 'fd00:1::101');
});

test('host routes: default, link-local, multicast and our own bridges are left out', () => {
  const text = JSON.stringify([
    { dst: 'fd00::/64', dev: 'eth0' }, { dst: 'fe80::/64', dev: 'eth0' }, { dst: 'default', dev: 'eth0' },
    { dst: 'ff00::/8', dev: 'eth0' }, { dst: 'fd00:5::/64', dev: 'bt0' }, { dst: 'fd00:9::7', dev: 'tun0' },
  ]);
  assert.deepEqual(parseHostRoutes6(text, ['bt0']).map((c) => [formatIPv6(c.network), c.prefix]), [['fd00::', 64], ['fd00:9::7', 128]]);
  assert.throws(() => parseHostRoutes6('{'), kind('InvalidParameter'));
});

test('pickDefaultSubnet6: IPv6 entries of default-address-pools only, skipping what is taken; none is dockerd 27\'s error', () => {
  const pools = [{ base: '10.0.0.0/8', size: 24 }, { base: 'fd00:aa::/48', size: 64 }];
  assert.equal(pickDefaultSubnet6({ pools }), 'fd00:aa::/64');
  assert.equal(pickDefaultSubnet6({ pools, inUse: ['fd00:aa::/64'], hostRoutes: [parseCidr6('fd00:aa:0:1::/64')] }), 'fd00:aa:0:2::/64');
  // A taken block bigger than the pool's size is skipped in one step, not one /64 at a time.
  assert.equal(pickDefaultSubnet6({ pools: [{ base: 'fd00:aa::/32', size: 64 }], inUse: ['fd00:aa::/33'] }), 'fd00:aa:8000::/64');
  assert.throws(() => pickDefaultSubnet6({ pools: [{ base: '172.17.0.0/16', size: 24 }] }), kind('InvalidParameter', 'all predefined address pools have been fully subnetted'));
  assert.throws(() => pickDefaultSubnet6({ pools: [{ base: 'fd00:aa::/126', size: 126 }], inUse: ['fd00:aa::/126'] }), kind('InvalidParameter', /fully subnetted/));
});
