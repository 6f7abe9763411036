import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { httpStatusOf } from '../http-status.ts';
import { messageOf } from '../../lib/errors.ts';
import { type ApiRequest, Router } from '../router.ts';
import { NOT_A_MANAGER, NOT_IN_SWARM, pluginRoutes, swarmRoutes } from './cluster-absent.ts';

const router = new Router().add(swarmRoutes()).add(pluginRoutes());

/** Status and body (or error message) of one request through the router. */
async function call(method: string, path: string): Promise<{ status: number; body: unknown }> {
  const m = router.match(method, path);
  if (typeof m === 'string') return { status: 404, body: 'page not found' };
  const raw = new IncomingMessage(new Socket());
  const req: ApiRequest = { method, path, params: m.params, query: new URLSearchParams(), headers: {}, version: '1.47', raw, res: new ServerResponse(raw), signal: new AbortController().signal };
  try {
    const r = await m.route.handler(req);
    return { status: r.kind === 'json' ? r.status : 0, body: r.kind === 'json' ? r.body : undefined };
  } catch (err) {
    return { status: httpStatusOf(err), body: messageOf(err) };
  }
}

test('swarm endpoints answer as a dockerd in no swarm: 503 with its words, for every method and subpath', async () => {
  for (const [method, path] of [['GET', '/swarm'], ['GET', '/services'], ['POST', '/services/create'], ['GET', '/nodes'], ['DELETE', '/nodes/abc'],
    ['GET', '/tasks'], ['GET', '/secrets'], ['POST', '/secrets/x/update'], ['GET', '/configs/x'], ['GET', '/swarm/unlockkey'], ['POST', '/swarm/update']]) {
    assert.deepEqual(await call(method!, path!), { status: 503, body: NOT_A_MANAGER }, `${method} ${path}`);
  }
  assert.deepEqual(await call('POST', '/swarm/leave'), { status: 503, body: NOT_IN_SWARM });
  assert.equal((await call('POST', '/swarm/init')).status, 503);
});

test('plugin endpoints answer as a dockerd with no plugins', async () => {
  assert.deepEqual(await call('GET', '/plugins'), { status: 200, body: [] });
  assert.deepEqual(await call('GET', '/plugins/vieux/sshfs:latest/json'), { status: 404, body: 'plugin "vieux/sshfs:latest" not found' });
  assert.deepEqual(await call('DELETE', '/plugins/x'), { status: 404, body: 'plugin "x" not found' });
  for (const verb of ['enable', 'disable', 'push', 'upgrade', 'set']) assert.deepEqual(await call('POST', `/plugins/x/${verb}`), { status: 404, body: 'plugin "x" not found' });
  assert.equal((await call('POST', '/plugins/pull')).status, 501);
});
