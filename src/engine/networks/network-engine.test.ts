import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as api from '../../api/types/index.ts';
import { kindOf } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { NetworkEngineImpl, type NetworkEngineContainers } from './network-engine.ts';
import { insertContainerRow, netFixture } from './test-fakes.ts';

const RUNNING = 'a'.repeat(64);
const STOPPED = 'b'.repeat(64);

/** Containers as the network engine sees them; connect/disconnect are recorded. */
class FakeContainers implements NetworkEngineContainers {
  readonly calls: string[] = [];
  constructor(readonly names: Map<string, string>, readonly running: Set<string>) {}
  get(id: string) { const name = this.names.get(id); return name ? { id, name } : undefined; }
  isRunning(id: string) { return this.running.has(id); }
  async connectNetwork(c: string, n: string, cfg: api.EndpointSettings) { this.calls.push(`connect ${c} ${n} ${JSON.stringify(cfg)}`); }
  async disconnectNetwork(c: string, n: string) { this.calls.push(`disconnect ${c} ${n}`); }
}

test('NetworkEngine: members are the running containers with an endpoint; scope other than local is NotFound', async (t) => {
  const f = netFixture(t);
  await f.service.init();
  const { id } = await f.service.create({ Name: 'app' });
  for (const [cid, name] of [[RUNNING, 'web'], [STOPPED, 'old']] as const) {
    insertContainerRow(f.db, cid, name);
    f.service.repo.addEndpoint({ containerId: cid, networkId: id, endpointId: `ep-${name}`, config: {} });
  }
  const containers = new FakeContainers(new Map([[RUNNING, 'web'], [STOPPED, 'old']]), new Set([RUNNING]));
  const engine = new NetworkEngineImpl({ networks: f.service, containers });
  const app = engine.inspect('app');
  assert.equal(app.record.id, id);
  assert.deepEqual(app.members.map((m) => [m.id, m.name, m.attached.ep.endpointId]), [[RUNNING, 'web', 'ep-web']]);
  assert.deepEqual(engine.list(parseFilters(JSON.stringify({ name: ['app'] }))).map((n) => n.record.name), ['app']);
  assert.equal(engine.inspect('app', { scope: 'local' }).record.id, id);
  assert.throws(() => engine.inspect('app', { scope: 'swarm' }), (err) => kindOf(err) === 'NotFound');
  assert.throws(() => engine.inspect('nope'), (err) => kindOf(err) === 'NotFound');
});

test('NetworkEngine: connect and disconnect reach the container side with the network and container in place', async (t) => {
  const f = netFixture(t);
  const containers = new FakeContainers(new Map(), new Set());
  const engine = new NetworkEngineImpl({ networks: f.service, containers });
  await engine.connect('app', 'web', { Aliases: ['x'] });
  await engine.disconnect('app', 'web');
  assert.deepEqual(containers.calls, ['connect web app {"Aliases":["x"]}', 'disconnect web app']);
});
