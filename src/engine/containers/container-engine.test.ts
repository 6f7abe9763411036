import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test, type TestContext } from 'node:test';
import { kindOf } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { LogEntry } from './logs.ts';
import { ContainerEngineImpl } from './container-engine.ts';
import { ContainerService } from './service.ts';
import { fakeEngine, type FakeEngine } from './test-fakes.ts';

/**
 * The logic that used to sit in the HTTP handlers, over fakes of every host edge: log reading
 * and its checks, attach set-up and its event, top and resize refused when not running, `ps`
 * filters that need other services.
 */

const unused = () => { throw new Error('not used by this test'); };

async function engineOf(t: TestContext): Promise<{ f: FakeEngine; svc: ContainerService; engine: ContainerEngineImpl; resized: string[] }> {
  const f = fakeEngine(t);
  const svc = new ContainerService(f.deps);
  t.after(() => svc.close());
  await svc.recover();
  const resized: string[] = [];
  const engine = new ContainerEngineImpl({
    containers: svc, events: f.events,
    files: { stat: unused, archive: unused, extract: unused, export: unused, changes: unused },
    stats: { frames: unused },
    monitor: { attach: unused, resize: async (fifo, rows, cols) => { resized.push(`${fifo} ${rows}x${cols}`); } },
    execIdsOf: () => [], imageIdOf: async (ref) => (ref === 'busybox' ? 'sha256:' + 'a'.repeat(64) : undefined),
    sizes: async () => ({ rw: 1, rootFs: 2 }), mountsOf: () => [], attached: () => [], sandboxKey: () => '',
    graphData: () => ({}), update: unused, commit: unused,
  });
  return { f, svc, engine, resized };
}

/** Writes conmon's k8s-file log of a container. */
function writeLog(path: string, lines: string[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
}

async function collect(entries: AsyncIterable<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of entries) out.push(`${e.stream} ${e.data.toString()}`);
  return out;
}

test('logs: at least one stream, a driver that can be read; entries of the streams asked for', async (t) => {
  const { svc, engine } = await engineOf(t);
  const { id } = await svc.create({ Image: 'busybox', Cmd: ['sh'] }, 'web');
  writeLog(svc.paths(id).logPath, ['2024-05-01T10:00:00.000000001Z stdout F out1', '2024-05-01T10:00:00.000000002Z stderr F err1']);
  await assert.rejects(engine.logs('web', { stdout: false, stderr: false }),
    (err: Error) => kindOf(err) === 'InvalidParameter' && err.message === 'Bad parameters: you must choose at least one stream');
  const logs = await engine.logs('web', { stdout: true, stderr: false });
  assert.equal(logs.tty, false);
  assert.deepEqual(await collect(logs.entries), ['stdout out1\n']);
  assert.deepEqual(await collect((await engine.logs('web', { stdout: true, stderr: true, tail: 1 })).entries), ['stderr err1\n']);
  await svc.create({ Image: 'busybox', HostConfig: { LogConfig: { Type: 'none', Config: {} } } }, 'quiet');
  await assert.rejects(engine.logs('quiet', { stdout: true, stderr: true }),
    (err: Error) => kindOf(err) === 'InvalidParameter' && err.message === 'configured logging driver does not support reading');
  await assert.rejects(engine.logs('nope', { stdout: true, stderr: true }), (err) => kindOf(err) === 'NotFound');
});

test('attach: the log replayed, then the attach event; a paused container is refused in dockerd\'s words', async (t) => {
  const { f, svc, engine } = await engineOf(t);
  const { id } = await svc.create({ Image: 'busybox', Cmd: ['sh'], Tty: true }, 'web');
  writeLog(svc.paths(id).logPath, ['2024-05-01T10:00:00.000000001Z stdout F hello']);
  const events: string[] = [];
  f.events.subscribe((e) => events.push(`${e.action} ${e.actor.attributes['name']}`));
  const a = await engine.attach('web', { stdin: false, stdout: true, stderr: true, stream: false, logs: true });
  assert.equal(a.tty, true);
  assert.equal(a.session, null);
  assert.deepEqual(events, [], 'announced only once the log is replayed');
  assert.deepEqual(await collect(a.replay), ['stdout hello\n']);
  assert.deepEqual(events, ['attach web']);
  await svc.start(id);
  await svc.pause(id);
  await assert.rejects(engine.attach('web', { stdin: false, stdout: true, stderr: true, stream: true, logs: false }),
    (err: Error) => kindOf(err) === 'Conflict' && err.message === 'container web is paused, unpause the container before attach');
});

test('top and resize: Conflict unless running; resize goes to the monitor\'s control fifo', async (t) => {
  const { svc, engine, resized } = await engineOf(t);
  const { id } = await svc.create({ Image: 'busybox', Cmd: ['sh'] }, 'web');
  for (const call of [() => engine.top('web', '-ef'), () => engine.resize('web', { height: 24, width: 80 })]) {
    await assert.rejects(call(), (err: Error) => kindOf(err) === 'Conflict' && err.message === `Container ${id} is not running`);
  }
  await svc.start(id);
  await engine.resize('web', { height: 24, width: 80 });
  assert.deepEqual(resized, [`${svc.paths(id).ctlFifo} 24x80`]);
});

test('list: ancestor= resolves the image through the image service; details carry sizes when asked', async (t) => {
  const { svc, engine } = await engineOf(t);
  await svc.create({ Image: 'busybox', Cmd: ['sh'] }, 'web');
  const all = await engine.list({ all: true, filters: parseFilters(JSON.stringify({ ancestor: ['busybox'] })), size: true });
  assert.deepEqual(all.map((d) => [d.record.name, d.sizes]), [['web', { rw: 1, rootFs: 2 }]]);
  assert.deepEqual(await engine.list({ all: true, filters: parseFilters(JSON.stringify({ ancestor: ['alpine'] })) }), []);
  assert.deepEqual(await engine.list({}), [], 'running ones only by default');
});

test('wait: how the run ended, in the engine\'s words', async (t) => {
  const { svc, engine } = await engineOf(t);
  const { id } = await svc.create({ Image: 'busybox', Cmd: ['sh'] }, 'web');
  assert.deepEqual(await engine.wait('web', 'not-running'), { statusCode: 0 });
  await svc.start(id);
  const exit = engine.wait('web', 'next-exit');
  await svc.kill(id, 'SIGKILL');
  assert.deepEqual(await exit, { statusCode: 137 });
});
