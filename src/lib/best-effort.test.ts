import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestEffort } from './best-effort.ts';

const recorder = () => {
  const lines: { fields: object; message?: string }[] = [];
  return { lines, warn: (fields: object, message?: string) => { lines.push({ fields, ...(message ? { message } : {}) }); } };
};

test('bestEffort: a step that succeeds logs nothing and says so', async () => {
  const log = recorder();
  assert.equal(await bestEffort(log, 'unmount rootfs', 'c1', async () => undefined), true);
  assert.deepEqual(log.lines, []);
});

test('bestEffort: a failing step is logged with its cause and the object, and does not throw', async () => {
  const log = recorder();
  const cause = new Error('EBUSY');
  assert.equal(await bestEffort(log, 'unmount rootfs', 'c1', async () => { throw cause; }), false);
  assert.deepEqual(log.lines, [{ fields: { err: cause, id: 'c1' }, message: 'unmount rootfs' }]);
});

test('bestEffort: a synchronous throw is caught too; no id, no id field', async () => {
  const log = recorder();
  const cause = new Error('boom');
  assert.equal(await bestEffort(log, 'sweep', '', () => { throw cause; }), false);
  assert.deepEqual(log.lines, [{ fields: { err: cause }, message: 'sweep' }]);
});
