import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthConfig, HealthState } from '../../api/types/index.ts';
import { FakeClock } from './fake-clock.ts';
import { HealthMonitor, LimitedBuffer, type ProbeOutcome, goDuration, probeCommand, validateHealthConfig } from './health.ts';

const S = 1e9;

/** A monitor with a scripted probe: each call takes the next outcome (or waits for the test). */
function setup(health: object, outcomes: (ProbeOutcome | 'hang')[]) {
  const clock = new FakeClock();
  clock.t = 1_000_000;
  const saved: HealthState[] = [];
  const events: string[] = [];
  const calls: string[][] = [];
  const m = new HealthMonitor({
    clock, save: (_id, h) => saved.push(structuredClone(h)), publish: (_id, a) => events.push(a),
    probe: async (_id, cmd, o) => {
      calls.push(cmd);
      const next = outcomes.shift() ?? { exitCode: 0, output: '' };
      if (next === 'hang') return new Promise((_r, reject) => o.signal.addEventListener('abort', () => reject(new Error('killed'))));
      return next;
    },
  });
  const c = { id: 'c1', config: { Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ok'], ...health } }, state: { startedAt: new Date(clock.t).toISOString() } };
  const tick = async (ms: number) => { clock.advance(ms); for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };
  return { clock, m, c, saved, events, calls, tick, last: () => saved[saved.length - 1]! };
}

test('probe commands: CMD, CMD-SHELL with the container shell, NONE and empty', () => {
  assert.deepEqual(probeCommand({ Healthcheck: { Test: ['CMD', 'true', 'x'] } }), ['true', 'x']);
  assert.deepEqual(probeCommand({ Healthcheck: { Test: ['CMD-SHELL', 'a && b'] } }), ['/bin/sh', '-c', 'a && b']);
  assert.deepEqual(probeCommand({ Shell: ['/bin/ash', '-e', '-c'], Healthcheck: { Test: ['CMD-SHELL', 'a'] } }), ['/bin/ash', '-e', '-c', 'a']);
  assert.equal(probeCommand({ Healthcheck: { Test: ['NONE'] } }), undefined);
  assert.equal(probeCommand({ Healthcheck: { Test: [] } }), undefined);
  assert.equal(probeCommand({}), undefined);
});

test('create-time checks use dockerd wording', () => {
  assert.throws(() => validateHealthConfig({ Interval: 10 }), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ Timeout: 999_999 }), /Timeout in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => validateHealthConfig({ StartPeriod: 5 }), /StartPeriod in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ StartInterval: 5 }), /StartInterval in Healthcheck cannot be less than 1ms/);
  validateHealthConfig({ Interval: 0, Timeout: 1_000_000, Retries: 0 });
  assert.throws(() => validateHealthConfig({ Interval: -1 }), /Interval in Healthcheck cannot be less than 1ms/);
});

test('null durations are unset, as Go decodes them (docker-py sends null for unset fields)', () => {
  const unset = JSON.parse('{"Test":["CMD","true"],"Interval":null,"Timeout":null,"Retries":null,"StartPeriod":null,"StartInterval":null}') as HealthConfig;
  validateHealthConfig(unset);
});

test('starting → healthy on success → unhealthy after `retries` failures → healthy again; one event per change', async () => {
  const t = setup({ Interval: 1 * S, Retries: 2 }, [{ exitCode: 0, output: 'ok' }, { exitCode: 1, output: 'no' }, { exitCode: 1, output: '' }, { exitCode: 0, output: '' }]);
  t.m.begin(t.c);
  assert.equal(t.last().Status, 'starting');
  await t.tick(999);
  assert.equal(t.calls.length, 0, 'the first probe waits an interval');
  await t.tick(1);
  assert.deepEqual(t.calls[0], ['/bin/sh', '-c', 'test -f /tmp/ok']);
  assert.equal(t.last().Status, 'healthy');
  await t.tick(1000);
  assert.deepEqual([t.last().Status, t.last().FailingStreak], ['healthy', 1]);
  await t.tick(1000);
  assert.deepEqual([t.last().Status, t.last().FailingStreak], ['unhealthy', 2]);
  await t.tick(1000);
  assert.deepEqual([t.last().Status, t.last().FailingStreak], ['healthy', 0]);
  assert.deepEqual(t.events, ['health_status: healthy', 'health_status: unhealthy', 'health_status: healthy']);
  assert.deepEqual(t.last().Log.map((l) => l.ExitCode), [0, 1, 1, 0]);
  assert.equal(t.last().Log[0]!.Output, 'ok');
  t.m.end('c1');
});

test('the log keeps the last 5 results; defaults are 30 s and 3 retries', async () => {
  const t = setup({}, Array.from({ length: 7 }, (_, i) => ({ exitCode: 1, output: String(i) })));
  t.m.begin(t.c);
  await t.tick(29_999);
  assert.equal(t.calls.length, 0);
  await t.tick(1);
  await t.tick(30_000);
  assert.equal(t.last().Status, 'starting');
  await t.tick(30_000);
  assert.equal(t.last().Status, 'unhealthy');
  for (let i = 0; i < 4; i++) await t.tick(30_000);
  assert.deepEqual(t.last().Log.map((l) => l.Output), ['2', '3', '4', '5', '6']);
  t.m.end('c1');
});

test('start period: failures do not count while starting, probes come every start interval', async () => {
  const t = setup({ Interval: 10 * S, StartPeriod: 3 * S, StartInterval: 1 * S, Retries: 1 }, [{ exitCode: 1, output: '' }, { exitCode: 1, output: '' }, { exitCode: 1, output: '' }]);
  t.m.begin(t.c);
  await t.tick(1000);
  await t.tick(1000);
  assert.equal(t.calls.length, 2);
  assert.deepEqual([t.last().Status, t.last().FailingStreak], ['starting', 0]);
  // Past the start period: the normal interval, and a failure counts.
  await t.tick(1000);
  assert.equal(t.calls.length, 3);
  assert.deepEqual([t.last().Status, t.last().FailingStreak], ['unhealthy', 1]);
  await t.tick(9_999);
  assert.equal(t.calls.length, 3);
  await t.tick(1);
  assert.equal(t.calls.length, 4);
  t.m.end('c1');
});

test('a timed-out probe fails with dockerd text; a probe error is a failure with its message', async () => {
  const t = setup({ Interval: 1 * S, Timeout: 1.5 * S }, [{ exitCode: 137, output: 'partial', timedOut: true }, { exitCode: 0, output: '', timedOut: true }]);
  t.m.begin(t.c);
  await t.tick(1000);
  assert.equal(t.last().Log[0]!.ExitCode, -1);
  assert.equal(t.last().Log[0]!.Output, 'Health check exceeded timeout (1.5s): partial');
  await t.tick(1000);
  assert.equal(t.last().Log[1]!.Output, 'Health check exceeded timeout (1.5s)');
  t.m.end('c1');
});

test('end stops the timer and a probe under way; its late result changes nothing', async () => {
  const t = setup({ Interval: 1 * S }, ['hang']);
  t.m.begin(t.c);
  await t.tick(1000);
  assert.equal(t.calls.length, 1);
  const before = t.saved.length;
  t.m.end('c1');
  await t.tick(10_000);
  assert.equal(t.calls.length, 1);
  assert.equal(t.saved.length, before);
  assert.equal(t.clock.pending, 0);
  assert.equal(t.m.current('c1'), undefined);
});

test('begin after a restart resets to starting and keeps the log; unpause (reset false) goes on', async () => {
  const t = setup({ Interval: 1 * S }, [{ exitCode: 0, output: '' }]);
  t.m.begin(t.c);
  await t.tick(1000);
  const h = t.last();
  t.m.end('c1');
  t.m.begin({ ...t.c, state: { ...t.c.state, health: h } }, { reset: false });
  assert.equal(t.last().Status, 'healthy');
  t.m.begin({ ...t.c, state: { ...t.c.state, health: h } });
  assert.deepEqual([t.last().Status, t.last().Log.length], ['starting', 1]);
  t.m.close();
  assert.equal(t.clock.pending, 0);
});

test('no health check: nothing is saved or scheduled', () => {
  const t = setup({}, []);
  t.m.begin({ ...t.c, config: { Healthcheck: { Test: ['NONE'] } } });
  assert.equal(t.saved.length, 0);
  assert.equal(t.clock.pending, 0);
});

test('output is capped at 4096 bytes with "..."; Go duration text', () => {
  const b = new LimitedBuffer();
  b.write(Buffer.alloc(4000, 'a'));
  b.write(Buffer.alloc(200, 'b'));
  const s = b.toString();
  assert.equal(s.length, 4099);
  assert.ok(s.endsWith('bbb...'));
  assert.deepEqual([goDuration(30_000), goDuration(1500), goDuration(500), goDuration(90_000), goDuration(3_600_000)], ['30s', '1.5s', '500ms', '1m30s', '1h0m0s']);
});
