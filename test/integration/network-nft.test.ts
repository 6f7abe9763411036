// nft batches applied to real throwaway tables (root). The batches' text is tested in
// src/network/nft.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from '../../src/lib/exec.ts';
import { recordTestObjects, requireRoot } from '../../src/lib/test-support.ts';
import { USER_CHAIN, addContainerBatch, addNetworkBatch, deleteTableBatch, removeContainerBatch, removeNetworkBatch, setupTableBatch, type NftContainer, type NftNetwork } from '../../src/network/nft.ts';

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

test('batches apply to a real throwaway table, conflict atomically and remove cleanly', async (t) => {
  if (!requireRoot(t)) return;
  const table = `berthtest-${randomBytes(4).toString('hex')}`;
  recordTestObjects({ tables: [table] });
  const nft = async (batch: string, check = false) => execFile('nft', [...(check ? ['-c'] : []), '-f', '-'], { input: batch });
  t.after(async () => {
    await nft(deleteTableBatch(table));
  });
  const rest = addNetworkBatch(table, net) + addNetworkBatch(table, internalNet) + addContainerBatch(table, ctr);
  let r = await nft(setupTableBatch(table), true);
  assert.equal(r.exitCode, 0, r.stderr);
  r = await nft(setupTableBatch(table));
  assert.equal(r.exitCode, 0, r.stderr);
  // Check mode (nothing changes), then for real.
  r = await nft(rest, true);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.doesNotMatch((await execFile('nft', ['list', 'table', 'ip', table])).stdout, /c-c1/);
  r = await nft(rest);
  assert.equal(r.exitCode, 0, r.stderr);
  const listed = (await execFile('nft', ['list', 'table', 'ip', table])).stdout;
  assert.match(listed, /chain c-c1 \{/);
  assert.match(listed, /127\.0\.0\.1 \. tcp \. 9000-9002 : jump c-c1/);

  // A second container wanting a host port already published fails as a whole: no chain left.
  const clash: NftContainer = {
    id: 'c2',
    ip: '10.99.0.3',
    ports: [
      { hostIp: '', hostPort: 7777, containerPort: 80, count: 1, proto: 'tcp' },
      { hostIp: '', hostPort: 8080, containerPort: 80, count: 1, proto: 'tcp' },
    ],
  };
  assert.notEqual((await nft(addContainerBatch(table, clash))).exitCode, 0);
  const after = (await execFile('nft', ['list', 'table', 'ip', table])).stdout;
  assert.doesNotMatch(after, /c-c2|7777/);

  // The admin's rule survives re-running setup.
  assert.equal((await execFile('nft', ['add', 'rule', 'ip', table, USER_CHAIN, 'ip', 'saddr', '198.51.100.7', 'drop'])).exitCode, 0);
  assert.equal((await nft(setupTableBatch(table))).exitCode, 0);
  assert.match((await execFile('nft', ['list', 'chain', 'ip', table, USER_CHAIN])).stdout, /198\.51\.100\.7 drop/);

  // Removal drops exactly that container and network, and is idempotent.
  for (let i = 0; i < 2; i++) {
    r = await nft(removeContainerBatch(table, ctr) + removeNetworkBatch(table, net) + removeNetworkBatch(table, internalNet));
    assert.equal(r.exitCode, 0, r.stderr);
  }
  const empty = (await execFile('nft', ['list', 'table', 'ip', table])).stdout;
  assert.doesNotMatch(empty, /c-c1|n-n1|n-n2|jump/);
});

test('ip6 batches apply to a real throwaway table and remove cleanly', async (t) => {
  if (!requireRoot(t)) return;
  const table = `berthtest-${randomBytes(4).toString('hex')}`;
  const nft = async (batch: string) => execFile('nft', ['-f', '-'], { input: batch });
  t.after(async () => { await nft(deleteTableBatch(table, 'ip6')); });
  let r = await nft(setupTableBatch(table, 'ip6'));
  assert.equal(r.exitCode, 0, r.stderr);
  r = await nft(addNetworkBatch(table, net6, 'ip6') + addNetworkBatch(table, { ...internalNet, subnet: 'fd00:78::/64' }, 'ip6') + addContainerBatch(table, ctr6, 'ip6'));
  assert.equal(r.exitCode, 0, r.stderr);
  const listed = (await execFile('nft', ['list', 'table', 'ip6', table])).stdout;
  assert.match(listed, /fd00::2 \. tcp \. 9000-9002 : jump c-c1/);
  // The shifted range keeps its address, its ports come from the map.
  assert.match(listed, /udp dport 8000-8001 dnat to \[fd00:77::2\]:udp dport map \{ 8000 : 7000, 8001 : 7001 \}/);
  for (let i = 0; i < 2; i++) {
    r = await nft(removeContainerBatch(table, ctr6, 'ip6') + removeNetworkBatch(table, net6, 'ip6') + removeNetworkBatch(table, { ...internalNet, subnet: 'fd00:78::/64' }, 'ip6'));
    assert.equal(r.exitCode, 0, r.stderr);
  }
  assert.doesNotMatch((await execFile('nft', ['list', 'table', 'ip6', table])).stdout, /c-c1|n-n1|n-n2|jump/);
});
