import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeNetwork, NftNetwork } from '../../network/index.ts';
import { openDb } from '../../store/db.ts';
import { IntentLog } from '../../store/intents.ts';
import { NetworkRepo, type NetworkRecord } from './record.ts';
import { CREATE_INTENT, REMOVE_INTENT, recoverNetworkIntents, sweepNetworkChains } from './recovery.ts';

const quiet = { info() {}, warn() {} };
const ID_A = 'a1'.repeat(32);
const ID_B = 'b2'.repeat(32);
const ID_GONE = 'c3'.repeat(32);

const net = (id: string, subnet: string): NetworkRecord => ({
  id, name: `n-${id.slice(0, 4)}`, driver: 'bridge', createdAt: '2024-05-01T10:00:00Z', bridge: `bt-${id.slice(0, 8)}`, subnet,
  gateway: subnet.replace(/0\/\d+$/, '1'), ipRange: '', enableIPv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, attachable: false, builtin: false, labels: {}, options: {},
  ipam: { Driver: 'default', Options: null, Config: [{ Subnet: subnet }] },
});
const nft = (n: NetworkRecord): NftNetwork => ({ id: n.id.slice(0, 12), bridge: n.bridge, subnet: n.subnet, internal: false, gateway: n.gateway });

/** A driver that records what recovery asks of it; `chainNames` is the table's content. */
function fakeDriver(chainNames: string[] = []) {
  const calls: string[] = [];
  return {
    calls,
    async removeNetwork(n: BridgeNetwork, o: { keepBridge?: boolean } = {}) {
      calls.push(`remove ${n.id} ${n.bridge}${n.ipv6 ? ` ${n.ipv6.subnet}` : ''}${o.keepBridge ? ' keep-bridge' : ''}`);
    },
    async chains() { return chainNames; },
    async dropChains(names: readonly string[]) { calls.push(`drop ${names.join(',')}`); },
  };
}

function setup(t: { after: (fn: () => void) => void }) {
  const db = openDb(':memory:');
  t.after(() => db.close());
  return { db, repo: new NetworkRepo(db), intents: new IntentLog(db) };
}

test('recovery undoes a network create that has no row, keeping a bridge it did not make', async (t) => {
  const { repo, intents } = setup(t);
  const a = net(ID_A, '172.18.0.0/16');
  const b = net(ID_B, '172.19.0.0/16');
  intents.record(CREATE_INTENT, ID_A, { net: nft(a), keepBridge: false });
  intents.record(CREATE_INTENT, ID_B, { net: nft(b), keepBridge: true });
  const driver = fakeDriver();
  await recoverNetworkIntents({ intents, repo, driver, log: quiet });
  assert.deepEqual(driver.calls, [`remove ${ID_A.slice(0, 12)} ${a.bridge}`, `remove ${ID_B.slice(0, 12)} ${b.bridge} keep-bridge`]);
  assert.deepEqual(intents.list(CREATE_INTENT), []);
});

test('undoing an interrupted create of a dual-stack network takes its IPv6 side too', async (t) => {
  const { repo, intents } = setup(t);
  const a = net(ID_A, '172.18.0.0/16');
  intents.record(CREATE_INTENT, ID_A, { net: { ...nft(a), ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } }, keepBridge: false });
  const driver = fakeDriver();
  await recoverNetworkIntents({ intents, repo, driver, log: quiet });
  assert.deepEqual(driver.calls, [`remove ${ID_A.slice(0, 12)} ${a.bridge} fd00:1::/64`]);
});

test('recovery keeps a network whose create got as far as its row', async (t) => {
  const { repo, intents } = setup(t);
  const a = net(ID_A, '172.18.0.0/16');
  repo.insert(a);
  intents.record(CREATE_INTENT, ID_A, { net: nft(a), keepBridge: false });
  const driver = fakeDriver();
  await recoverNetworkIntents({ intents, repo, driver, log: quiet });
  assert.deepEqual(driver.calls, []);
  assert.ok(repo.get(ID_A));
  assert.deepEqual(intents.list(CREATE_INTENT), []);
});

test('recovery finishes a network remove: host objects, endpoints and row go', async (t) => {
  const { db, repo, intents } = setup(t);
  const a = net(ID_A, '172.18.0.0/16');
  repo.insert(a);
  const ct = 'd4'.repeat(32);
  db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime)
    VALUES (?, 'one', 'sha256:x', 'busybox', '2024-05-01T10:00:00Z', '{}', '{}', '{}', 'crun')`).run(ct);
  repo.addEndpoint({ containerId: ct, networkId: ID_A, endpointId: 'e1', config: {} });
  intents.record(REMOVE_INTENT, ID_A, { net: nft(a), keepBridge: false });
  const driver = fakeDriver();
  await recoverNetworkIntents({ intents, repo, driver, log: quiet });
  assert.deepEqual(driver.calls, [`remove ${ID_A.slice(0, 12)} ${a.bridge}`]);
  assert.equal(repo.get(ID_A), undefined);
  assert.deepEqual(repo.endpointsOf(ct), []);
  assert.deepEqual(intents.list(REMOVE_INTENT), []);
});

test('a remove whose host objects resist stays recorded, to be tried at the next start', async (t) => {
  const { repo, intents } = setup(t);
  const a = net(ID_A, '172.18.0.0/16');
  repo.insert(a);
  intents.record(REMOVE_INTENT, ID_A, { net: nft(a), keepBridge: false });
  const driver = { ...fakeDriver(), async removeNetwork() { throw new Error('nft: busy'); } };
  await recoverNetworkIntents({ intents, repo, driver, log: quiet });
  assert.equal(intents.list(REMOVE_INTENT).length, 1);
  assert.ok(repo.get(ID_A));
});

test('the sweep drops the chains of networks without a row, and nothing else', async (t) => {
  const { repo } = setup(t);
  repo.insert(net(ID_A, '172.18.0.0/16'));
  const gone = ID_GONE.slice(0, 12);
  const kept = ID_A.slice(0, 12);
  const driver = fakeDriver(['berth-user', 'prerouting', 'forward', `n-${kept}-out`, `n-${kept}-masq`, `n-${gone}-out`, `n-${gone}-masq`, `n-${gone}-hair`, 'c-0123456789ab']);
  await sweepNetworkChains({ repo, driver, log: quiet });
  assert.deepEqual(driver.calls, [`drop n-${gone}-out,n-${gone}-masq,n-${gone}-hair`]);
  const clean = fakeDriver(['berth-user', `n-${kept}-out`]);
  await sweepNetworkChains({ repo, driver: clean, log: quiet });
  assert.deepEqual(clean.calls, []);
});
