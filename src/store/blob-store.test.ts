import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { EngineError } from '../lib/errors.ts';
import { sha256Digest } from '../lib/digest.ts';
import { FsBlobStore } from './blob-store.ts';

async function store(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'berth-blobs-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, blobs: new FsBlobStore(root) };
}

test('put, has, open, readJson, size, delete', async (t) => {
  const { blobs } = await store(t);
  const body = JSON.stringify({ hello: 'world' });
  const d = sha256Digest(body);
  assert.equal(await blobs.has(d), false);
  const info = await blobs.put(Readable.from([Buffer.from(body.slice(0, 5)), Buffer.from(body.slice(5))]), d);
  assert.deepEqual(info, { digest: d, size: body.length });
  assert.equal(await blobs.has(d), true);
  assert.equal(await blobs.size(d), body.length);
  assert.equal(await text(await blobs.open(d)), body);
  assert.deepEqual(await blobs.readJson(d), { hello: 'world' });
  await blobs.delete(d);
  assert.equal(await blobs.has(d), false);
  await blobs.delete(d);
});

test('a digest mismatch stores nothing and leaves no temp file', async (t) => {
  const { root, blobs } = await store(t);
  const wrong = sha256Digest('other');
  await assert.rejects(blobs.put(Buffer.from('data'), wrong), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter' && /digest mismatch/.test(e.message));
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  assert.equal(await blobs.has(wrong), false);
});

test('malformed digests are InvalidParameter, absent blobs NotFound', async (t) => {
  const { blobs } = await store(t);
  await assert.rejects(blobs.put(Buffer.from('x'), 'sha256:zz'), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
  assert.throws(() => blobs.path('../../etc/passwd'), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
  await assert.rejects(blobs.open(sha256Digest('nope')), (e: unknown) => e instanceof EngineError && e.kind === 'NotFound');
  await assert.rejects(blobs.readJson(sha256Digest('nope')), (e: unknown) => e instanceof EngineError && e.kind === 'NotFound');
});

test('a failing source stream stores nothing', async (t) => {
  const { root, blobs } = await store(t);
  const failing = new Readable({ read() { this.destroy(new Error('boom')); } });
  await assert.rejects(blobs.put(failing), /boom/);
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
});
