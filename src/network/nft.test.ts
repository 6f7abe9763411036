import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf } from '../lib/errors.ts';
import { USER_CHAIN, addContainerBatch, addNetworkBatch, removeContainerBatch, removeNetworkBatch, requiredSysctls, setupTableBatch, type NftContainer, type NftNetwork } from './nft.ts';

const net: NftNetwork = { id: 'n1', bridge: 'bt0', subnet: '10.99.0.0/24', internal: false };
const internalNet: NftNetwork = { id: 'n2', bridge: 'bt1', subnet: '10.99.1.0/24', internal: true };
const ctr: NftContainer = {
  id: 'c1',
  ip: '10.99.0.2',
  ports: [
    { hostIp: '', hostPort: 8080, containerPort: 80, count: 1, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 9000, containerPort: 9000, count: 3, proto: 'tcp' },
    { hostIp: '192.0.2.1', hostPort: 8000, containerPort: 7000, count: 2, proto: 'udp' },
  ],
};

test('setupTableBatch creates the admin chain without flushing it', () => {
  const b = setupTableBatch('berth-abc');
  assert.match(b, /^add table ip berth-abc$/m);
  assert.match(b, new RegExp(`^add chain ip berth-abc ${USER_CHAIN}$`, 'm'));
  assert.doesNotMatch(b, new RegExp(`flush chain ip berth-abc ${USER_CHAIN}`));
});

test('addContainerBatch: one DNAT rule per range, one map element per range', () => {
  const b = addContainerBatch('berth-abc', ctr);
  assert.match(b, /^add rule ip berth-abc c-c1 meta l4proto tcp th dport 8080 dnat ip to 10\.99\.0\.2:80$/m);
  assert.match(b, /ip daddr 127\.0\.0\.1 meta l4proto tcp th dport 9000-9002 dnat ip to 10\.99\.0\.2:9000-9002$/m);
  assert.match(b, /th dport 8000-8001 dnat ip to 10\.99\.0\.2 : th dport map \{ 8000 : 7000, 8001 : 7001 \}$/m);
  assert.match(b, /^add element ip berth-abc ports \{ 0\.0\.0\.0\/0 \. tcp \. 8080 : jump c-c1 \}$/m);
  assert.equal(b.match(/^add rule /gm)?.length, 3);
  assert.equal(b.match(/^add element /gm)?.length, 3);
});

test('removeContainerBatch touches only that container', () => {
  const b = removeContainerBatch('berth-abc', ctr);
  for (const line of b.trim().split('\n')) assert.match(line, /c-c1|ports \{/);
  assert.match(b, /^delete chain ip berth-abc c-c1$/m);
});

test('internal networks get no masquerade and drop traffic leaving the bridge', () => {
  const b = addNetworkBatch('berth-abc', internalNet);
  assert.doesNotMatch(b, /masquerade/);
  assert.match(b, /n-n2-in oifname != "bt1" drop/);
  assert.match(addNetworkBatch('berth-abc', net), /n-n1-masq oifname != "bt0" masquerade/);
});

test('bad names and IPv6 host addresses are rejected', () => {
  assert.throws(() => setupTableBatch('bad name;'), (e) => kindOf(e) === 'InvalidParameter');
  assert.throws(
    () => addContainerBatch('t', { ...ctr, ports: [{ hostIp: '::1', hostPort: 1, containerPort: 1, count: 1, proto: 'tcp' }] }),
    (e) => kindOf(e) === 'InvalidParameter',
  );
});

const net6: NftNetwork = { id: 'n1', bridge: 'bt0', subnet: 'fd00:77::/64', gateway: 'fd00:77::1', internal: false };
const ctr6: NftContainer = {
  id: 'c1',
  ip: 'fd00:77::2',
  ports: [
    { hostIp: '::', hostPort: 8080, containerPort: 80, count: 1, proto: 'tcp' },
    { hostIp: 'fd00::2', hostPort: 9000, containerPort: 9000, count: 3, proto: 'tcp' },
    { hostIp: '::', hostPort: 8000, containerPort: 7000, count: 2, proto: 'udp' },
  ],
};

test('ip6: the same layout in table ip6, IPv6 maps, bracketed DNAT targets, no loopback hairpin', () => {
  const setup = setupTableBatch('berth-abc', 'ip6');
  assert.match(setup, /^add map ip6 berth-abc ports \{ type ipv6_addr \. inet_proto \. inet_service : verdict; flags interval; \}$/m);
  assert.match(setup, /^add rule ip6 berth-abc prerouting fib daddr type local ip6 daddr \. meta l4proto \. th dport vmap @ports$/m);
  assert.doesNotMatch(setup, / ip berth-abc/);
  const n = addNetworkBatch('berth-abc', net6, 'ip6');
  assert.match(n, /^add element ip6 berth-abc masq \{ fd00:77::\/64 : jump n-n1-masq \}$/m);
  assert.match(n, /n-n1-hair ct status dnat ip6 saddr fd00:77::\/64 ip6 saddr != fd00:77::1 masquerade$/m);
  assert.doesNotMatch(n, /127\.0\.0\.0|ip saddr/);
  const c = addContainerBatch('berth-abc', ctr6, 'ip6');
  assert.match(c, /^add rule ip6 berth-abc c-c1 meta l4proto tcp th dport 8080 dnat ip6 to \[fd00:77::2\]:80$/m);
  assert.match(c, /ip6 daddr fd00::2 meta l4proto tcp th dport 9000-9002 dnat ip6 to \[fd00:77::2\]:9000-9002$/m);
  assert.match(c, /^add element ip6 berth-abc ports \{ ::\/0 \. tcp \. 8080 : jump c-c1 \}$/m);
  assert.match(removeNetworkBatch('berth-abc', net6, 'ip6'), /^delete element ip6 berth-abc masq \{ fd00:77::\/64 \}$/m);
  // Each family's table takes only its own host addresses.
  assert.throws(() => addContainerBatch('t', ctr6), (e) => kindOf(e) === 'InvalidParameter');
  assert.throws(() => addContainerBatch('t', ctr, 'ip6'), (e) => kindOf(e) === 'InvalidParameter');
});

test('requiredSysctls asks for route_localnet only with 127.0.0.1 ports', () => {
  assert.deepEqual(requiredSysctls(net, { localhostPorts: false }).map((s) => s.path), ['/proc/sys/net/ipv4/ip_forward']);
  assert.ok(requiredSysctls(net, { localhostPorts: true }).some((s) => s.path === '/proc/sys/net/ipv4/conf/bt0/route_localnet'));
  assert.deepEqual(requiredSysctls(internalNet, { localhostPorts: true }), []);
});
