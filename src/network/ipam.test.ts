import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf, messageOf } from '../lib/errors.ts';
import {
  AddressPool,
  createPool,
  formatIPv4,
  parseCidr,
  parseHostRoutes,
  parseIPv4,
  pickDefaultSubnet,
} from './ipam.ts';

const throwsKind = (fn: () => unknown, kind: string, msg: RegExp) =>
  assert.throws(fn, (e) => kindOf(e) === kind && msg.test(messageOf(e)));

test('parseIPv4 / formatIPv4 round trip and rejects malformed input', () => {
  assert.equal(formatIPv4(parseIPv4('172.17.0.2')!), '172.17.0.2');
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4.5', '']) assert.equal(parseIPv4(bad), undefined, bad);
});

test('parseCidr masks host bits unless strict', () => {
  assert.deepEqual(parseCidr('10.1.2.3/16'), { network: parseIPv4('10.1.0.0'), prefix: 16 });
  throwsKind(() => parseCidr('10.1.2.3/16', { strict: true }), 'InvalidParameter', /10\.1\.0\.0\/16/);
  throwsKind(() => parseCidr('10.0.0.0/33'), 'InvalidParameter', /invalid CIDR address/);
  throwsKind(() => parseCidr('10.0.0.0'), 'InvalidParameter', /invalid CIDR address/);
});

test('createPool defaults the gateway to .1 and validates gateway and range', () => {
  assert.deepEqual(createPool({ subnet: '10.5.0.0/24' }), { subnet: '10.5.0.0/24', gateway: '10.5.0.1' });
  assert.deepEqual(createPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.254', ipRange: '10.5.0.128/25' }), {
    subnet: '10.5.0.0/24',
    gateway: '10.5.0.254',
    ipRange: '10.5.0.128/25',
  });
  throwsKind(() => createPool({ subnet: '10.5.0.0/24', gateway: '10.6.0.1' }), 'InvalidParameter', /^no matching subnet for gateway 10\.6\.0\.1$/);
  throwsKind(() => createPool({ subnet: '10.5.0.0/24', ipRange: '10.6.0.0/25' }), 'InvalidParameter', /^no matching subnet for range/);
  throwsKind(() => createPool({ subnet: '10.5.0.0/24', ipRange: '10.5.0.0/23' }), 'InvalidParameter', /range/);
  throwsKind(() => createPool({ subnet: 'nope' }), 'InvalidParameter', /invalid CIDR/);
});

test('createPool rejects a subnet overlapping another network with Docker wording', () => {
  throwsKind(
    () => createPool({ subnet: '10.5.0.0/16' }, ['192.168.0.0/20', '10.5.3.0/24']),
    'Conflict',
    /^Pool overlaps with other one on this address space$/,
  );
  assert.equal(createPool({ subnet: '10.6.0.0/16' }, ['10.5.0.0/16', '10.7.0.0/16']).subnet, '10.6.0.0/16');
});

test('AddressPool allocates .2, .3 ... skipping network, gateway, broadcast and reserved', () => {
  const p = new AddressPool(createPool({ subnet: '10.0.0.0/29' }), [], ['10.0.0.3']);
  assert.deepEqual([p.allocate(), p.allocate(), p.allocate(), p.allocate()], ['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  throwsKind(() => p.allocate(), 'Unavailable', /^no available addresses on this pool$/);
  p.release('10.0.0.4');
  assert.equal(p.allocate(), '10.0.0.4');
});

test('AddressPool is serial: a released address is not reused before the pool wraps', () => {
  const p = new AddressPool(createPool({ subnet: '10.0.0.0/24' }));
  assert.equal(p.allocate(), '10.0.0.2');
  assert.equal(p.allocate(), '10.0.0.3');
  p.release('10.0.0.2');
  assert.equal(p.allocate(), '10.0.0.4');
  // Reconstructed from persisted leases, it continues after the highest lease.
  const q = new AddressPool(p.pool, p.leases());
  assert.equal(q.allocate(), '10.0.0.5');
});

test('AddressPool honours --ip-range and a gateway inside the range', () => {
  const p = new AddressPool(createPool({ subnet: '10.0.0.0/24', gateway: '10.0.0.129', ipRange: '10.0.0.128/30' }));
  assert.equal(p.allocate(), '10.0.0.130');
  assert.equal(p.allocate(), '10.0.0.131');
  // The range's own first address is a host of the subnet, so it is usable (wraps to it last).
  assert.equal(p.allocate(), '10.0.0.128');
  throwsKind(() => p.allocate(), 'Unavailable', /no available addresses/);
  // An explicit --ip may lie outside the range but inside the subnet, as in Docker.
  assert.equal(p.allocate('10.0.0.50'), '10.0.0.50');
});

test('AddressPool explicit --ip errors', () => {
  const p = new AddressPool(createPool({ subnet: '10.0.0.0/24' }), ['10.0.0.7']);
  assert.equal(p.allocate('10.0.0.9'), '10.0.0.9');
  throwsKind(() => p.allocate('10.0.0.9'), 'Conflict', /^Address already in use$/);
  throwsKind(() => p.allocate('10.0.0.7'), 'Conflict', /^Address already in use$/);
  throwsKind(() => p.allocate('10.0.0.1'), 'Conflict', /^Address already in use$/);
  throwsKind(() => p.allocate('10.0.1.5'), 'InvalidParameter', /^no configured subnet or ip-range contain the IP address 10\.0\.1\.5$/);
  throwsKind(() => p.allocate('10.0.0.300'), 'InvalidParameter', /^invalid IPv4 address: 10\.0\.0\.300$/);
  assert.deepEqual(p.leases(), ['10.0.0.7', '10.0.0.9']);
});

test('parseHostRoutes reads ip -j route output, skipping default, IPv6 and ignored devices', () => {
  const text = JSON.stringify([
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0' },
    { dst: '10.9.9.9', dev: 'tun0' },
    { dst: '172.17.0.0/16', dev: 'berth0' },
    { dst: 'fe80::/64', dev: 'eth0' },
  ]);
  const routes = parseHostRoutes(text, ['berth0']).map((c) => `${formatIPv4(c.network)}/${c.prefix}`);
  assert.deepEqual(routes, ['192.0.2.0/24', '10.9.9.9/32']);
  assert.deepEqual(parseHostRoutes(''), []);
  throwsKind(() => parseHostRoutes('{'), 'InvalidParameter', /ip -j route/);
});

test('pickDefaultSubnet walks Docker default pools avoiding networks and host routes', () => {
  assert.equal(pickDefaultSubnet({}), '172.17.0.0/16');
  const routes = parseHostRoutes(JSON.stringify([{ dst: '172.17.5.0/24', dev: 'eth1' }, { dst: '172.16.0.0/12', dev: 'vpn0' }]));
  // A VPN route over all of 172.16/12 pushes us into 192.168.0.0/16 split into /20s.
  assert.equal(pickDefaultSubnet({ hostRoutes: routes }), '192.168.0.0/20');
  assert.equal(pickDefaultSubnet({ hostRoutes: routes, inUse: ['192.168.0.0/20'] }), '192.168.16.0/20');
  assert.equal(pickDefaultSubnet({ inUse: ['172.17.0.0/16', '172.18.0.0/16'] }), '172.19.0.0/16');
  assert.equal(pickDefaultSubnet({ pools: [{ base: '10.10.0.0/16', size: 24 }], inUse: ['10.10.0.0/24'] }), '10.10.1.0/24');
  // IPv6 entries of default-address-pools are for the IPv6 side only.
  assert.equal(pickDefaultSubnet({ pools: [{ base: 'fd00:aa::/48', size: 64 }, { base: '10.10.0.0/16', size: 24 }] }), '10.10.0.0/24');
  throwsKind(
    () => pickDefaultSubnet({ pools: [{ base: '10.10.0.0/23', size: 24 }], inUse: ['10.10.0.0/23'] }),
    'Unavailable',
    /^could not find an available, non-overlapping IPv4 address pool/,
  );
});
