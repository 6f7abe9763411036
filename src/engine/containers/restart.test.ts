import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_MAX_MS, RestartManager, policyWantsRestart } from './restart.ts';
import { FakeClock } from './fake-clock.ts';

const facts = (name: string, o: { exitCode?: number; stopped?: boolean; count?: number; max?: number } = {}) => ({
  policy: { Name: name as 'always', MaximumRetryCount: o.max ?? 0 }, exitCode: o.exitCode ?? 1,
  stoppedByUser: o.stopped ?? false, restartCount: o.count ?? 0,
});

test('policies: no never, always and unless-stopped unless stopped by the user, on-failure on non-zero exits up to N', () => {
  assert.equal(policyWantsRestart(facts('no')), false);
  assert.equal(policyWantsRestart({ ...facts('no'), policy: undefined }), false);
  assert.equal(policyWantsRestart(facts('always', { exitCode: 0 })), true);
  assert.equal(policyWantsRestart(facts('always', { stopped: true })), false);
  assert.equal(policyWantsRestart(facts('unless-stopped', { exitCode: 0 })), true);
  assert.equal(policyWantsRestart(facts('unless-stopped', { stopped: true })), false);
  assert.equal(policyWantsRestart(facts('on-failure', { exitCode: 0 })), false);
  assert.equal(policyWantsRestart(facts('on-failure', { exitCode: 3 })), true);
  assert.equal(policyWantsRestart(facts('on-failure', { exitCode: 3, count: 1, max: 2 })), true);
  assert.equal(policyWantsRestart(facts('on-failure', { exitCode: 3, count: 2, max: 2 })), false);
  assert.equal(policyWantsRestart(facts('on-failure', { exitCode: 3, count: 99, max: 0 })), true);
});

test('back-off doubles from 100 ms, is capped at a minute and resets after a 10 s run', () => {
  const m = new RestartManager({ restart: async () => undefined, clock: new FakeClock() });
  const delays: (number | undefined)[] = [];
  for (let i = 0; i < 12; i++) delays.push(m.plan('a', { ...facts('always'), ranMs: 50 }));
  assert.deepEqual(delays.slice(0, 6), [100, 200, 400, 800, 1600, 3200]);
  assert.equal(delays[9], 51200);
  assert.equal(delays[10], BACKOFF_MAX_MS);
  assert.equal(delays[11], BACKOFF_MAX_MS);
  assert.equal(m.plan('a', { ...facts('always'), ranMs: 10_000 }), 100);
  assert.equal(m.plan('a', { ...facts('always'), ranMs: 10 }), 200);
  // Another container has its own back-off; no restart means undefined, but the back-off still moves.
  assert.equal(m.plan('b', { ...facts('on-failure', { exitCode: 0 }), ranMs: 10 }), undefined);
  assert.equal(m.plan('b', { ...facts('on-failure'), ranMs: 10 }), 200);
  m.reset('b');
  assert.equal(m.plan('b', { ...facts('on-failure'), ranMs: 10 }), 100);
});

test('a scheduled restart fires after its delay; cancel stops it; nothing fires before ready()', async () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  const m = new RestartManager({ restart: async (id) => { fired.push(id); }, clock });
  m.schedule('early', 100);
  clock.advance(500);
  assert.deepEqual(fired, [], 'waits for the daemon start-up');
  assert.equal(m.isPending('early'), true);
  m.ready();
  assert.deepEqual(fired, ['early']);
  assert.equal(m.isPending('early'), false);

  m.schedule('x', 200);
  clock.advance(199);
  assert.deepEqual(fired, ['early']);
  clock.advance(1);
  assert.deepEqual(fired, ['early', 'x']);

  m.schedule('y', 200);
  assert.equal(m.cancel('y'), true);
  assert.equal(m.cancel('y'), false);
  clock.advance(1000);
  assert.deepEqual(fired, ['early', 'x']);

  m.schedule('z', 100);
  m.close();
  assert.equal(clock.pending, 0);
});

test('a failing restart is reported, not thrown', async () => {
  const errors: string[] = [];
  const clock = new FakeClock();
  const m = new RestartManager({ restart: async () => { throw new Error('boom'); }, clock, onError: (id) => errors.push(id) });
  m.ready();
  m.schedule('a', 1);
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(errors, ['a']);
});
