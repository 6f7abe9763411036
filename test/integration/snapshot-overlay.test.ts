// OverlaySnapshotter against the kernel (root): real overlay mounts. Its pure logic is tested in
// src/snapshot/overlay.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, type ExecFn } from '../../src/lib/exec.ts';
import { sha256Digest } from '../../src/lib/digest.ts';
import { recordTestObjects, requireRoot } from '../../src/lib/test-support.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';

const C1 = sha256Digest('layer1');
const C2 = sha256Digest('layer2');
const CID = 'a'.repeat(64);

async function setup(t: { after: (fn: () => Promise<void>) => void }, exec: ExecFn = execFile) {
  const root = await mkdtemp(join(tmpdir(), 'berth-overlay-'));
  recordTestObjects({ dirs: [root] });
  const snap = new OverlaySnapshotter({ root, exec });
  t.after(async () => {
    await snap.remove(CID).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });
  return { root, snap };
}

test('real overlay mount: layers stack, writes go to upper, unmount and remove clean up', async (t) => {
  if (!requireRoot(t)) return;
  const { root, snap } = await setup(t);
  await snap.ensureLayer(C1, async (dir) => { await writeFile(join(dir, 'base'), 'from base'); await writeFile(join(dir, 'over'), 'base'); });
  await snap.ensureLayer(C2, async (dir) => { await writeFile(join(dir, 'over'), 'top'); });
  await snap.prepare(CID, [C1, C2]);
  const merged = await snap.mount(CID);
  assert.equal(await snap.isMounted(CID), true);
  assert.equal(await snap.mount(CID), merged);
  assert.equal(await readFile(join(merged, 'base'), 'utf8'), 'from base');
  assert.equal(await readFile(join(merged, 'over'), 'utf8'), 'top');
  await writeFile(join(merged, 'new'), 'rw');
  assert.equal(await readFile(join(snap.upperPath(CID), 'new'), 'utf8'), 'rw');
  await snap.unmount(CID);
  assert.equal(await snap.isMounted(CID), false);
  await snap.unmount(CID);
  await snap.remove(CID);
  await assert.rejects(stat(join(root, 'containers', CID)));
});

test('real overlay mount of an image without layers', async (t) => {
  if (!requireRoot(t)) return;
  const { snap } = await setup(t);
  await snap.prepare(CID, []);
  const merged = await snap.mount(CID);
  assert.deepEqual(await readdir(merged), []);
  await snap.remove(CID);
  assert.equal(await snap.isMounted(CID), false);
});
