import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../lib/errors.ts';
import { execFile, type ExecFn } from '../lib/exec.ts';
import { sha256Digest } from '../lib/digest.ts';
import { recordTestObjects } from '../lib/test-support.ts';
import { OverlaySnapshotter, mountPoints, newLinkName, overlayOptions } from './overlay.ts';

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

test('link names are 26 base32 characters', () => {
  assert.match(newLinkName(), /^[A-Z2-7]{26}$/);
  assert.notEqual(newLinkName(), newLinkName());
});

test('overlay options use relative paths and fit 128 layers in a page', () => {
  const lowers = Array.from({ length: 128 }, () => `l/${newLinkName()}`);
  const o = overlayOptions(CID, lowers);
  assert.ok(o.startsWith(`lowerdir=${lowers[0]}:`));
  assert.ok(o.endsWith(`upperdir=containers/${CID}/upper,workdir=containers/${CID}/work`));
  assert.ok(o.length < 4096);
  assert.throws(() => overlayOptions(CID, Array.from({ length: 200 }, () => `l/${newLinkName()}`)), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
});

test('mountinfo parsing decodes escapes', () => {
  const info = '36 35 98:0 / /mnt/with\\040space rw - ext4 /dev/x rw\n37 35 0:1 / /proc rw - proc proc rw\n';
  assert.deepEqual([...mountPoints(info)], ['/mnt/with space', '/proc']);
});

test('ensureLayer unpacks once, links it and removes the temp dir on failure', async (t) => {
  const { root, snap } = await setup(t);
  let calls = 0;
  assert.equal(await snap.ensureLayer(C1, async (dir) => { calls++; await writeFile(join(dir, 'f'), 'x'); }), true);
  assert.equal(await snap.ensureLayer(C1, async () => { calls++; }), false);
  assert.equal(calls, 1);
  assert.equal(await readFile(join(snap.diffPath(C1), 'f'), 'utf8'), 'x');
  const short = (await readFile(join(root, 'layers', C1.slice(7), 'link'), 'utf8')).trim();
  assert.equal(await readlink(join(root, 'l', short)), `../layers/${C1.slice(7)}/diff`);
  assert.equal(await snap.layerSize(C1), 1);

  await assert.rejects(snap.ensureLayer(C2, async (dir) => { await writeFile(join(dir, 'g'), 'y'); throw new Error('bad layer'); }), /bad layer/);
  assert.equal(await snap.hasLayer(C2), false);
  assert.deepEqual((await readdir(join(root, 'layers'))).sort(), [C1.slice(7)]);
  assert.deepEqual(await readdir(join(root, 'l')), [short]);

  await snap.removeLayer(C1);
  assert.equal(await snap.hasLayer(C1), false);
  assert.deepEqual(await readdir(join(root, 'l')), []);
  assert.deepEqual(await readdir(join(root, 'layers')), []);
});

test('recover removes temp dirs and dangling links', async (t) => {
  const { root, snap } = await setup(t);
  await mkdir(join(root, 'layers', `.tmp-${C1.slice(7)}-1234/diff`), { recursive: true });
  await mkdir(join(root, 'l'), { recursive: true });
  const { symlink } = await import('node:fs/promises');
  await symlink(`../layers/${C1.slice(7)}/diff`, join(root, 'l', 'DANGLING'));
  await snap.recover();
  assert.deepEqual(await readdir(join(root, 'layers')), []);
  assert.deepEqual(await readdir(join(root, 'l')), []);
});

test('prepare and mount run mount with relative lowerdirs (fake exec)', async (t) => {
  const calls: { file: string; args: readonly string[]; cwd: string | undefined }[] = [];
  const fake: ExecFn = async (file, args, opts) => { calls.push({ file, args, cwd: opts?.cwd }); return { exitCode: 0, stdout: '', stderr: '' }; };
  const { root, snap } = await setup(t, fake);
  await snap.ensureLayer(C1, async () => undefined);
  await snap.ensureLayer(C2, async () => undefined);
  await assert.rejects(snap.prepare(CID, [C1, sha256Digest('missing')]), (e: unknown) => e instanceof EngineError && e.kind === 'NotFound');
  await snap.prepare(CID, [C1, C2]);
  await snap.mount(CID);
  const l1 = (await readFile(join(root, 'layers', C1.slice(7), 'link'), 'utf8')).trim();
  const l2 = (await readFile(join(root, 'layers', C2.slice(7), 'link'), 'utf8')).trim();
  assert.deepEqual(calls, [{
    file: 'mount',
    args: ['-t', 'overlay', 'overlay', '-o', `lowerdir=l/${l2}:l/${l1},upperdir=containers/${CID}/upper,workdir=containers/${CID}/work`, snap.mergedPath(CID)],
    cwd: root,
  }]);
});
