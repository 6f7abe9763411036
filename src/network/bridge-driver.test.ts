import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeDriver } from './bridge-driver.ts';

/** nft -j output for a table with one network's elements, one container's port element and a stray chain. */
const TABLE = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'ip', name: 'bt', handle: 1 } },
    { map: { family: 'ip', name: 'ports', table: 'bt', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict', flags: ['interval'],
      elem: [[{ concat: [{ prefix: { addr: '0.0.0.0', len: 0 } }, 'tcp', { range: [8000, 8002] }] }, { jump: { target: 'c-0123456789ab' } }]] } },
    { map: { family: 'ip', name: 'masq', table: 'bt', type: 'ipv4_addr', map: 'verdict', flags: ['interval'],
      elem: [[{ prefix: { addr: '172.18.0.0', len: 16 } }, { jump: { target: 'n-aaaaaaaaaaaa-masq' } }],
        [{ prefix: { addr: '172.19.0.0', len: 16 } }, { jump: { target: 'n-bbbbbbbbbbbb-masq' } }]] } },
    { map: { family: 'ip', name: 'hairpin', table: 'bt', type: 'ifname', map: 'verdict', elem: [['bt-aaaaaaaa', { jump: { target: 'n-aaaaaaaaaaaa-hair' } }]] } },
    { map: { family: 'ip', name: 'fwd_out', table: 'bt', type: 'ifname', map: 'verdict', elem: [['bt-aaaaaaaa', { jump: { target: 'n-aaaaaaaaaaaa-out' } }]] } },
    ...['forward', 'n-aaaaaaaaaaaa-out', 'n-aaaaaaaaaaaa-masq', 'n-aaaaaaaaaaaa-hair', 'c-0123456789ab'].map((name) => ({ chain: { family: 'ip', table: 'bt', name } })),
  ],
});

/** The ip6 table: network aaaa is dual-stack; the container published nothing on IPv6. */
const TABLE6 = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'ip6', name: 'bt', handle: 2 } },
    { map: { family: 'ip6', name: 'ports', table: 'bt', type: ['ipv6_addr', 'inet_proto', 'inet_service'], map: 'verdict', flags: ['interval'] } },
    { map: { family: 'ip6', name: 'masq', table: 'bt', type: 'ipv6_addr', map: 'verdict', flags: ['interval'],
      elem: [[{ prefix: { addr: 'fd00:1::', len: 64 } }, { jump: { target: 'n-aaaaaaaaaaaa-masq' } }]] } },
    { map: { family: 'ip6', name: 'fwd_out', table: 'bt', type: 'ifname', map: 'verdict', elem: [['bt-aaaaaaaa', { jump: { target: 'n-aaaaaaaaaaaa-out' } }]] } },
    ...['forward', 'n-aaaaaaaaaaaa-out', 'n-aaaaaaaaaaaa-masq'].map((name) => ({ chain: { family: 'ip6', table: 'bt', name } })),
  ],
});

function driver() {
  const batches: string[] = [];
  const d = new BridgeDriver({
    table: 'bt', ifPrefix: 'bt', netnsDir: '/nonexistent', log: { warn() {} },
    exec: async (file, args, o) => {
      if (file === 'nft' && args.join(' ') === '-j list table ip bt') return { exitCode: 0, stdout: TABLE, stderr: '' };
      if (file === 'nft' && args.join(' ') === '-j list table ip6 bt') return { exitCode: 0, stdout: TABLE6, stderr: '' };
      if (file === 'nft' && args.join(' ') === 'list chains') {
        return {
          exitCode: 0, stderr: '',
          stdout: 'table ip other {\n\tchain n-cccccccccccc-out {\n\t}\n}\ntable ip bt {\n\tchain forward {\n\t}\n\tchain n-aaaaaaaaaaaa-out {\n\t}\n\tchain c-0123456789ab {\n\t}\n}\n' +
            'table ip6 bt {\n\tchain forward {\n\t}\n\tchain n-aaaaaaaaaaaa-out {\n\t}\n\tchain c-fedcba987654 {\n\t}\n}\ntable inet bt {\n\tchain n-dddddddddddd-out {\n\t}\n}\n',
        };
      }
      if (file === 'nft') batches.push(String(o?.input ?? ''));
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  });
  return { d, batches };
}

test('chains lists our ip and ip6 tables only, each name once; containerChains their c- ids', async () => {
  const { d } = driver();
  assert.deepEqual(await d.chains(), ['forward', 'n-aaaaaaaaaaaa-out', 'c-0123456789ab', 'c-fedcba987654']);
  assert.deepEqual(await d.containerChains(), ['0123456789ab', 'fedcba987654']);
});

test('dropChains deletes every map element jumping to the chains, then the chains, in one batch', async () => {
  const { d, batches } = driver();
  await d.dropChains(['n-aaaaaaaaaaaa-out', 'n-aaaaaaaaaaaa-masq', 'n-aaaaaaaaaaaa-hair']);
  assert.deepEqual(batches, [[
    'delete element ip bt masq { 172.18.0.0/16 }',
    'delete element ip bt hairpin { "bt-aaaaaaaa" }',
    'delete element ip bt fwd_out { "bt-aaaaaaaa" }',
    'flush chain ip bt n-aaaaaaaaaaaa-out', 'delete chain ip bt n-aaaaaaaaaaaa-out',
    'flush chain ip bt n-aaaaaaaaaaaa-masq', 'delete chain ip bt n-aaaaaaaaaaaa-masq',
    'flush chain ip bt n-aaaaaaaaaaaa-hair', 'delete chain ip bt n-aaaaaaaaaaaa-hair',
    // The IPv6 side of the dual-stack network: its elements and the chains that table has.
    'delete element ip6 bt masq { fd00:1::/64 }',
    'delete element ip6 bt fwd_out { "bt-aaaaaaaa" }',
    'flush chain ip6 bt n-aaaaaaaaaaaa-out', 'delete chain ip6 bt n-aaaaaaaaaaaa-out',
    'flush chain ip6 bt n-aaaaaaaaaaaa-masq', 'delete chain ip6 bt n-aaaaaaaaaaaa-masq', '',
  ].join('\n')]);
  await d.dropContainerChain('0123456789ab');
  assert.equal(batches[1], 'delete element ip bt ports { 0.0.0.0/0 . tcp . 8000-8002 }\nflush chain ip bt c-0123456789ab\ndelete chain ip bt c-0123456789ab\n');
});

test('removeNetwork of a dual-stack network removes its ip6 chains and elements in the same batch', async () => {
  const { d, batches } = driver();
  await d.removeNetwork({ id: 'aaaaaaaaaaaa', bridge: 'bt-aaaaaaaa', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false,
    ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } }, { keepBridge: true });
  assert.equal(batches.length, 1);
  assert.match(batches[0]!, /^delete element ip bt masq \{ 172\.18\.0\.0\/16 \}$/m);
  assert.match(batches[0]!, /^delete element ip6 bt masq \{ fd00:1::\/64 \}$/m);
  assert.match(batches[0]!, /^delete chain ip6 bt n-aaaaaaaaaaaa-out$/m);
  await d.removeNetwork({ id: 'bbbbbbbbbbbb', bridge: 'bt-bbbbbbbb', subnet: '172.19.0.0/16', internal: false }, { keepBridge: true });
  assert.doesNotMatch(batches[1]!, /ip6/, 'an IPv4-only network has nothing in the ip6 table');
});
