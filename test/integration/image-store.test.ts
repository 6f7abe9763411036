// The image store for real, without a daemon: the busybox fixture built by
// scripts/make-busybox-image.mjs is loaded, a layer with whiteouts goes on top (real berth-helper),
// the overlay is mounted and busybox runs in it with chroot. Everything is unmounted and removed after.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ImageService } from '../../src/engine/images/index.ts';
import { makeTar } from '../../src/image/test-tar.ts';
import { execFile } from '../../src/lib/exec.ts';
import { NativeHelper } from '../../src/lib/native-helper.ts';
import { OverlaySnapshotter } from '../../src/snapshot/index.ts';
import { FsBlobStore } from '../../src/store/blob-store.ts';
import { openDb } from '../../src/store/db.ts';
import { REPO, requireRoot } from './harness.ts';

const HELPER = join(REPO, 'native/build/berth-helper');
const CID = 'f'.repeat(64);

async function store(t: TestContext) {
  const root = await mkdtemp(join(tmpdir(), 'berth-imgstore-'));
  const db = openDb(join(root, 'berth.db'));
  const snapshotter = new OverlaySnapshotter({ root: join(root, 'overlay'), exec: execFile });
  t.after(async () => {
    await snapshotter.remove(CID).catch(() => undefined);
    db.close();
    await rm(root, { recursive: true, force: true });
  });
  const helper = new NativeHelper({ path: HELPER });
  const svc = new ImageService({
    db, blobs: new FsBlobStore(root), snapshotter, dataRoot: root,
    makeWhiteouts: (r, entries) => helper.makeWhiteouts(r, entries),
    containersUsingImage: () => [],
  });
  return { root, svc, snapshotter };
}

const collect = async (it: AsyncIterable<{ kind: string; text?: string }>) => {
  const out: string[] = [];
  for await (const m of it) out.push(m.text ?? '');
  return out;
};

test('busybox fixture loads, mounts with whiteouts and runs; save reloads to the same ID', async (t) => {
  if (!requireRoot(t)) return;
  if (!existsSync(HELPER)) { t.skip('native/build/berth-helper not built'); return; }
  const { root, svc, snapshotter } = await store(t);
  const tarPath = join(root, 'busybox.tar');
  const made = spawnSync(process.execPath, [join(REPO, 'scripts/make-busybox-image.mjs'), tarPath], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  assert.deepEqual(await collect(svc.load(Readable.from([await readFile(tarPath)]))), ['Loaded image: busybox:latest\n']);
  const bb = await svc.resolve('busybox');
  assert.deepEqual(bb.config.config?.Cmd, ['sh']);

  // A second image on top: deletes /etc/group, makes /var opaque, adds a file.
  const top = await makeTar([{ name: 'etc/.wh.group', body: '' }, { name: 'var/.wh..wh..opq', body: '' }, { name: 'var/new', body: 'fresh' }]);
  const topId = await svc.import(Readable.from([top]), { ref: 'scratch-top' });
  const topLayer = (await svc.resolve(topId)).chainIds[0]!;

  await snapshotter.prepare(CID, [...bb.chainIds, topLayer]);
  const merged = await snapshotter.mount(CID);
  const run = spawnSync('chroot', [merged, '/bin/sh', '-c', 'echo hello from $(busybox | head -1 | cut -d" " -f1); id -un; ls /etc; ls /var'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n'), ['hello from BusyBox', 'root', 'passwd', 'new']);
  await snapshotter.remove(CID);
  assert.equal(await snapshotter.isMounted(CID), false);

  const out = new PassThrough();
  const bytes = buffer(out);
  await svc.save(['busybox:latest'], out);
  const other = await store(t);
  assert.deepEqual(await collect(other.svc.load(Readable.from([await bytes]))), ['Loaded image: busybox:latest\n']);
  assert.equal((await other.svc.resolve('busybox')).id, bb.id);
});
