import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineInfo } from '../../engine/index.ts';
import { Router } from '../router.ts';
import { type ApiLogger, ApiServer } from '../server.ts';
import { type SystemBackend, systemRoutes } from './system.ts';

class SilentLogger implements ApiLogger {
  debug() {} info() {} warn() {} error() {}
}

class FakeSystemBackend implements SystemBackend {
  readonly events = new EventBus();
  readonly system = {
    version: async () => ({ version: '0.1.0', components: [{ name: 'crun', version: '1.8.1', commit: 'abc' }], os: 'linux', arch: 'amd64', kernel: '6', runtime: 'node' }),
    info: async () => ({ containers: { total: 0, running: 0, paused: 0, stopped: 0 } }) as EngineInfo,
  };
}

async function serve(t: { after: (fn: () => Promise<void> | void) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sys-'));
  const socketPath = join(dir, 'api.sock');
  const server = new ApiServer({ router: new Router().add(systemRoutes(new FakeSystemBackend())), log: new SilentLogger(), serverVersion: '0.1.0' });
  await server.listenUnix(socketPath);
  t.after(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); });
  return socketPath;
}

function call(socketPath: string, method: string, path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

function assertPingHeaders(h: IncomingHttpHeaders) {
  assert.equal(h['api-version'], '1.47');
  assert.equal(h['builder-version'], '1');
  assert.equal(h['docker-experimental'], 'false');
  assert.equal(h['swarm'], 'inactive');
  assert.equal(h['cache-control'], 'no-cache, no-store, must-revalidate');
  assert.equal(h['pragma'], 'no-cache');
  assert.equal(h['ostype'], 'linux');
  assert.equal(h['server'], 'Berth/0.1.0 (linux)');
  assert.equal(h['content-length'], '2');
}

test('GET /_ping: OK with the headers clients probe for', async (t) => {
  const socketPath = await serve(t);
  for (const path of ['/_ping', '/v1.41/_ping', '/v1.47/_ping']) {
    const a = await call(socketPath, 'GET', path);
    assert.equal(a.status, 200, path);
    assert.equal(a.body, 'OK');
    assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
    assertPingHeaders(a.headers);
  }
});

test('HEAD /_ping: the same headers, no body', async (t) => {
  const socketPath = await serve(t);
  const a = await call(socketPath, 'HEAD', '/_ping');
  assert.equal(a.status, 200);
  assert.equal(a.body, '');
  assertPingHeaders(a.headers);
});

test('GET /version: the backend facts plus the API versions', async (t) => {
  const socketPath = await serve(t);
  const a = await call(socketPath, 'GET', '/version');
  assert.equal(a.status, 200);
  const v = JSON.parse(a.body) as Record<string, unknown>;
  assert.equal(v['ApiVersion'], '1.47');
  assert.equal(v['MinAPIVersion'], '1.24');
  assert.equal(v['Version'], '0.1.0');
  // The engine's components follow the Engine's own entry, with the commit each binary printed.
  const components = v['Components'] as { Name: string; Version: string; Details: Record<string, string> }[];
  assert.deepEqual(components.map((c) => c.Name), ['Engine', 'crun']);
  assert.deepEqual(components[1], { Name: 'crun', Version: '1.8.1', Details: { GitCommit: 'abc' } });
});
