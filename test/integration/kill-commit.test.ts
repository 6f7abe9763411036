/**
 * Lifecycle races of issue 11: a SIGKILL kill answers once the exit is recorded (paused containers
 * too), commit pauses only what runs and never fails on a container that just exited, and a refused
 * rm is worded as the client's dockerd release words it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** One API call over the daemon's socket; the body as text. */
function api(d: TestDaemon, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const state = async (d: TestDaemon, id: string) => (JSON.parse((await api(d, 'GET', `/containers/${id}/json`)).body) as { State: { Status: string; Running: boolean; Paused: boolean } }).State;

test('kill with SIGKILL returns once the container has exited; inspect and rm right after see it stopped', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  for (let i = 0; i < 5; i++) {
    const id = d.ok(['run', '-d', 'busybox', 'sleep', '300']);
    assert.equal((await api(d, 'POST', `/containers/${id}/kill`)).status, 204);
    assert.equal((await state(d, id)).Status, 'exited', `round ${i}: inspect right after kill`);
    const rm = await api(d, 'DELETE', `/containers/${id}`);
    assert.equal(rm.status, 204, `round ${i}: rm right after kill: ${rm.body}`);
  }
  // Through the docker CLI, as a script would do it.
  d.ok(['run', '-d', '--name', 'k1', 'busybox', 'sleep', '300']);
  assert.equal(d.docker(['kill', 'k1']).code, 0);
  const rm = d.docker(['rm', 'k1']);
  assert.equal(rm.code, 0, rm.stderr);

  // A paused container is thawed so the kill takes effect (a frozen process never sees it).
  const p = d.ok(['run', '-d', 'busybox', 'sleep', '300']);
  d.ok(['pause', p]);
  assert.equal((await api(d, 'POST', `/containers/${p}/kill`)).status, 204);
  assert.deepEqual(await state(d, p), { ...(await state(d, p)), Status: 'exited', Running: false, Paused: false });
  // Another signal is sent and answered at once; the container goes on its own time.
  const s = d.ok(['run', '-d', 'busybox', 'sh', '-c', 'trap "exit 7" USR1; while :; do sleep 0.1; done']);
  assert.equal((await api(d, 'POST', `/containers/${s}/kill?signal=USR1`)).status, 204);
  assert.equal(d.ok(['wait', s]), '7');
  d.ok(['rm', p, s]);
});

test('commit: a container that just exited commits without a pause; a running one is paused and thawed', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  for (let i = 0; i < 10; i++) {
    const id = d.ok(['run', '-d', 'busybox', 'sh', '-c', `echo ${i} > /round`]);
    const r = await api(d, 'POST', `/commit?container=${id}&repo=quick&tag=r${i}`);
    assert.equal(r.status, 201, `round ${i}: ${r.body}`);
  }
  assert.equal(d.ok(['run', '--rm', 'quick:r9', 'cat', '/round']), '9');

  const live = d.ok(['run', '-d', 'busybox', 'sleep', '300']);
  const since = (Date.now() / 1000 - 1).toFixed(3);
  d.ok(['commit', live, 'quick:live']);
  assert.equal(d.docker(['commit', '--pause=false', live, 'quick:nopause']).code, 0);
  const until = (Date.now() / 1000 + 1).toFixed(3);
  assert.deepEqual(await state(d, live), { ...(await state(d, live)), Status: 'running', Paused: false });
  const actions = d.ok(['events', '--since', since, '--until', until, '--filter', `container=${live}`, '--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=commit', '--format', '{{.Action}}']).split('\n');
  assert.deepEqual(actions, ['pause', 'unpause', 'commit', 'commit'], '--pause=false commits without pausing');

  // A container the user paused stays paused.
  d.ok(['pause', live]);
  d.ok(['commit', live, 'quick:paused']);
  assert.equal((await state(d, live)).Status, 'paused');
  d.ok(['rm', '-f', live]);
  d.ok(['rmi', ...Array.from({ length: 10 }, (_, i) => `quick:r${i}`), 'quick:live', 'quick:nopause', 'quick:paused']);
});

test('a refused rm: dockerd 24\'s words below API 1.44 (docker-py matches them), dockerd 25\'s from 1.44', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const id = d.ok(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
  const old = await api(d, 'DELETE', `/v1.41/containers/${id}`);
  assert.equal(old.status, 409);
  assert.equal(JSON.parse(old.body).message, `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
  const cur = await api(d, 'DELETE', `/v1.47/containers/${id}`);
  assert.equal(JSON.parse(cur.body).message, 'cannot remove container "/busy": container is running: stop the container before removing or force remove');
  assert.match(d.docker(['rm', 'busy']).stderr, /cannot remove container "\/busy": container is running: stop the container before removing or force remove/);
  d.ok(['pause', 'busy']);
  assert.equal(JSON.parse((await api(d, 'DELETE', `/v1.41/containers/${id}`)).body).message,
    `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove`);
  assert.equal(JSON.parse((await api(d, 'DELETE', `/v1.44/containers/${id}`)).body).message, 'cannot remove container "/busy": container is paused and must be unpaused first');
  d.ok(['rm', '-f', 'busy']);
});
