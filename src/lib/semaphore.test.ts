import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from './semaphore.ts';

test('runs at most limit tasks at once, in arrival order', async () => {
  const s = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (n: number) => s.run(async () => {
    running++;
    peak = Math.max(peak, running);
    order.push(n);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    return n;
  });
  const results = await Promise.all([1, 2, 3, 4, 5].map(task));
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
});

test('a failing task frees its slot', async () => {
  const s = new Semaphore(1);
  await assert.rejects(s.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await s.run(async () => 7), 7);
  assert.equal(s.busy, false);
});
