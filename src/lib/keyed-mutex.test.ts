import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from './keyed-mutex.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { opened, open };
}

test('work on one key runs one at a time, in call order', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const g = gate();
  const a = m.run('c1', async () => { log.push('a start'); await g.opened; log.push('a end'); return 'a'; });
  const b = m.run('c1', async () => { log.push('b start'); log.push('b end'); return 'b'; });
  const c = m.run('c1', async () => { log.push('c'); return 'c'; });
  await tick(); await tick();
  assert.deepEqual(log, ['a start']);
  g.open();
  assert.deepEqual(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c']);
});

test('different keys run in parallel', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const g = gate();
  const a = m.run('c1', async () => { log.push('c1 start'); await g.opened; log.push('c1 end'); });
  const b = m.run('c2', async () => { log.push('c2 ran'); });
  await b;
  assert.deepEqual(log, ['c1 start', 'c2 ran']);
  g.open();
  await a;
  assert.deepEqual(log, ['c1 start', 'c2 ran', 'c1 end']);
});

test('a rejection reaches its caller only, and the queue goes on', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const a = m.run('c1', async () => { log.push('a'); throw new Error('boom'); });
  const b = m.run('c1', async () => { log.push('b'); return 2; });
  await assert.rejects(a, /boom/);
  assert.equal(await b, 2);
  assert.deepEqual(log, ['a', 'b']);
  // A function that throws synchronously is a rejection as well; later work still runs.
  await assert.rejects(m.run('c1', () => { throw new Error('again'); }), /again/);
  assert.equal(await m.run('c1', async () => 3), 3);
});

test('a key is usable again after its queue drained', async () => {
  const m = new KeyedMutex();
  assert.equal(await m.run('k', async () => 1), 1);
  await tick();
  const log: number[] = [];
  await Promise.all([m.run('k', async () => { await tick(); log.push(1); }), m.run('k', async () => { log.push(2); })]);
  assert.deepEqual(log, [1, 2]);
});
