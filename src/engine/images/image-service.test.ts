import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { sha256Digest } from '../../lib/digest.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import { parseReference } from '../../lib/reference.ts';
import { chainIds, imageIdOf, writeImageArchive } from '../../image/index.ts';
import { makeTar } from '../../image/test-tar.ts';
import { OverlaySnapshotter } from '../../snapshot/index.ts';
import { FsBlobStore } from '../../store/blob-store.ts';
import { openDb } from '../../store/db.ts';
import { ImageService } from './image-service.ts';
import type { ImageUser } from './remove.ts';
import type { ImageConfig } from '../../image/index.ts';

interface Env {
  svc: ImageService;
  root: string;
  users: Map<string, ImageUser[]>;
  events: string[];
  whiteouts: string[];
  blobs: FsBlobStore;
  snap: OverlaySnapshotter;
}

async function env(t: { after: (fn: () => Promise<void>) => void }): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  const db = openDb(join(root, 'berth.db'));
  t.after(async () => { db.close(); await rm(root, { recursive: true, force: true }); });
  const users = new Map<string, ImageUser[]>();
  const events: string[] = [];
  const whiteouts: string[] = [];
  const blobs = new FsBlobStore(root);
  const snap = new OverlaySnapshotter({ root: join(root, 'overlay'), exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }) });
  const svc = new ImageService({
    db, blobs, snapshotter: snap, dataRoot: root,
    makeWhiteouts: async (_r, entries) => { whiteouts.push(...entries.map((e) => `${e.kind} ${e.path}`)); },
    containersUsingImage: (id) => users.get(id) ?? [],
    events: (action, id, attrs) => events.push(`${action} ${id.slice(7, 11)} ${attrs['name'] ?? ''}`.trim()),
  });
  return { svc, root, users, events, whiteouts, blobs, snap };
}

const LAYER1 = () => makeTar([{ name: 'bin/', mode: 0o755 }, { name: 'bin/sh', body: 'shell', mode: 0o755 }]);
const LAYER2 = () => makeTar([{ name: 'etc/.wh.passwd', body: '' }, { name: 'app', body: 'app' }]);

function config(diffIds: string[], extra: Partial<ImageConfig> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['sh'], Labels: { tier: 'base' } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs' }, { created: '2024-01-01T00:00:00Z', created_by: 'CMD ["sh"]', empty_layer: true }, { created_by: 'COPY app' }].slice(0, diffIds.length + 1),
    ...extra,
  }));
}

async function archive(images: { configBytes: Buffer; tags: string[] }[], layers: Buffer[]): Promise<Buffer> {
  const byDigest = new Map(layers.map((l) => [sha256Digest(l), l]));
  const out = new PassThrough();
  const done = buffer(out);
  await writeImageArchive(images.map((i) => ({ configBytes: i.configBytes, tags: i.tags.map((t) => parseReference(t)) })),
    async (d) => ({ stream: Readable.from([byDigest.get(d)!]), size: byDigest.get(d)!.length }), out);
  return done;
}

async function collect(it: AsyncIterable<Progress>): Promise<string[]> {
  const out: string[] = [];
  for await (const m of it) out.push(m.kind === 'output' ? m.text : '');
  return out;
}

/** Loads busybox (1 layer) and app (2 layers, untagged unless tags given). */
async function loadBasics(e: Env, appTags: string[] = []) {
  const l1 = await LAYER1();
  const l2 = await LAYER2();
  const bb = config([sha256Digest(l1)]);
  const app = config([sha256Digest(l1), sha256Digest(l2)], { created: '2024-02-01T00:00:00Z', config: { Labels: { tier: 'app' } } });
  const msgs = await collect(e.svc.load(Readable.from([await archive([{ configBytes: bb, tags: ['busybox:latest'] }, { configBytes: app, tags: appTags }], [l1, l2])])));
  return { bb: imageIdOf(bb), app: imageIdOf(app), msgs, l1, l2 };
}

const kind = (k: string, message?: string | RegExp) => (e: unknown) =>
  e instanceof EngineError && e.kind === k && (message === undefined || (typeof message === 'string' ? e.message === message : message.test(e.message)));

test('load stores images, unpacks layers once and reports like docker', async (t) => {
  const e = await env(t);
  const { bb, app, msgs } = await loadBasics(e);
  assert.deepEqual(msgs, ['Loaded image: busybox:latest\n', `Loaded image ID: ${app}\n`]);
  assert.deepEqual(e.whiteouts, ['whiteout etc/passwd']);
  const r = await e.svc.resolve('busybox');
  assert.equal(r.id, bb);
  assert.deepEqual(r.config.config?.Cmd, ['sh']);
  assert.equal(r.chainIds.length, 1);
  assert.equal((await e.svc.resolve(bb.slice(7, 15))).id, bb);
  assert.equal((await e.svc.resolve(bb)).id, bb);
  assert.equal((await e.svc.resolve(`sha256:${bb.slice(7, 20)}`)).id, bb);
  assert.equal((await e.svc.resolve('docker.io/library/busybox:latest')).id, bb);
  assert.equal(e.svc.count(), 2);
  assert.equal(e.svc.matches('busybox', bb), true);
  assert.equal(e.svc.matches(bb.slice(7, 14), bb), true);
  assert.equal(e.svc.matches('busybox', app), false);
  assert.equal(e.svc.matches('Nope', bb), false);
  await assert.rejects(e.svc.resolve('nope'), kind('NotFound', 'No such image: nope:latest'));
  await assert.rejects(e.svc.resolve('Nope'), kind('InvalidParameter'));
  // Layer dirs: two layers, shared base unpacked once; blobs keep the uncompressed tars.
  assert.equal((await readdir(join(e.root, 'overlay', 'layers'))).length, 2);
  assert.equal(await e.blobs.has(sha256Digest(await LAYER1())), true);

  const again = await collect(e.svc.load(Readable.from([await archive([{ configBytes: config([sha256Digest(await LAYER1())]), tags: ['busybox:latest'] }], [await LAYER1()])])));
  assert.deepEqual(again, ['Loaded image: busybox:latest\n']);
  assert.deepEqual(await readdir(join(e.root, 'tmp')), []);
});

test('a retagged load renames the old image like docker', async (t) => {
  const e = await env(t);
  const { bb } = await loadBasics(e);
  const l = await makeTar([{ name: 'x', body: 'y' }]);
  const msgs = await collect(e.svc.load(Readable.from([await archive([{ configBytes: config([sha256Digest(l)]), tags: ['busybox:latest'] }], [l])])));
  assert.deepEqual(msgs, [`The image busybox:latest already exists, renaming the old one with ID ${bb} to empty string\n`, 'Loaded image: busybox:latest\n']);
  assert.deepEqual((await e.svc.inspect(bb)).repoTags, []);
});

test('a load with a lying layer stores nothing visible', async (t) => {
  const e = await env(t);
  const l1 = await LAYER1();
  const cfg = config([sha256Digest('something else')]);
  await assert.rejects(collect(e.svc.load(Readable.from([await makeTar([
    { name: 'l.tar', body: l1 }, { name: 'c.json', body: cfg },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:1'], Layers: ['l.tar'] }]) },
  ])]))), kind('InvalidParameter', /digest mismatch/));
  assert.deepEqual(await e.svc.list({ all: true }), []);
  // The layer was unpacked while its blob was stored: neither is left, even before recovery.
  assert.deepEqual((await readdir(join(e.root, 'overlay', 'layers'))).filter((n) => !n.startsWith('.del-')), []);
  assert.deepEqual((await readdir(join(e.root, 'blobs', 'sha256'))).filter((n) => !n.startsWith('.tmp-')), []);
  await e.svc.recover();
  assert.deepEqual(await readdir(join(e.root, 'blobs', 'sha256')), []);
});

test('a hostile layer fails the load and leaves nothing, whether its file was taken over or copied while unpacking', async (t) => {
  const e = await env(t);
  // Big enough that the blob store is still writing when the unpacker refuses the second entry.
  const evil = await makeTar([{ name: 'esc', type: 'symlink', linkname: '/tmp' }, { name: 'esc/pwned', body: 'x' }, { name: 'pad', body: 'p'.repeat(4 << 20) }]);
  const cfg = config([sha256Digest(evil)]);
  // Docker 25+'s layout (blobs/sha256/<diffID>: the spooled file is taken over) and the legacy
  // one (l.tar: copied into the store while unpacked).
  const archives = [
    await archive([{ configBytes: cfg, tags: ['evil:1'] }], [evil]),
    await makeTar([{ name: 'l.tar', body: evil }, { name: 'c.json', body: cfg }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l.tar'] }]) }]),
  ];
  for (const a of archives) {
    await assert.rejects(collect(e.svc.load(Readable.from([a]))), kind('InvalidParameter', /symlink/));
    assert.deepEqual(await e.svc.list({ all: true }), []);
    assert.deepEqual((await readdir(join(e.root, 'blobs', 'sha256'))).filter((n) => !n.startsWith('.tmp-')), []);
    assert.deepEqual((await readdir(join(e.root, 'overlay', 'layers'))).filter((n) => !n.startsWith('.del-')), []);
  }
  // The service goes on: a good load afterwards works.
  await loadBasics(e);
  assert.equal(e.svc.count(), 2);
});

test('a load puts back a lost layer blob whose snapshot is still there', async (t) => {
  const e = await env(t);
  const { bb, l1 } = await loadBasics(e);
  await e.svc.remove('busybox:latest');
  await e.blobs.delete(sha256Digest(l1));
  const msgs = await collect(e.svc.load(Readable.from([await archive([{ configBytes: config([sha256Digest(l1)]), tags: ['busybox:latest'] }], [l1])])));
  assert.deepEqual(msgs, ['Loaded image: busybox:latest\n']);
  assert.equal((await e.svc.resolve('busybox')).id, bb);
  assert.equal(await e.blobs.has(sha256Digest(l1)), true);
});

test('list, filters, inspect and history', async (t) => {
  const e = await env(t);
  const { bb, app } = await loadBasics(e, ['localhost:5000/app:v1']);
  const ids = async (f?: string) => (await e.svc.list({ filters: parseFilters(f ?? null) })).map((i) => i.id);
  assert.deepEqual(await ids(), [app, bb]);
  assert.deepEqual(await ids('{"reference":["busy*"]}'), [bb]);
  assert.deepEqual(await ids('{"reference":["*/app:v1"]}'), [app]);
  assert.deepEqual(await ids('{"reference":{"busybox:latest":true}}'), [bb]);
  assert.deepEqual(await ids('{"label":["tier=app"]}'), [app]);
  assert.deepEqual(await ids('{"dangling":["true"]}'), []);
  assert.deepEqual(await ids('{"since":["busybox"]}'), [app]);
  assert.deepEqual(await ids('{"before":["localhost:5000/app:v1"]}'), [bb]);
  await assert.rejects(ids('{"bogus":["x"]}'), kind('InvalidParameter', "invalid filter 'bogus'"));
  await assert.rejects(ids('{"dangling":["maybe"]}'), kind('InvalidParameter', "invalid filter 'dangling=maybe'"));
  const [summary] = (await e.svc.list()).filter((i) => i.id === bb);
  assert.deepEqual([summary?.repoTags, summary?.repoDigests, summary?.size, summary?.config.created, summary?.config.config?.Labels],
    [['busybox:latest'], [], 5, '2024-01-01T00:00:00Z', { tier: 'base' }]);

  const ins = await e.svc.inspect('localhost:5000/app:v1');
  assert.equal(ins.id, app);
  assert.deepEqual(ins.repoTags, ['localhost:5000/app:v1']);
  assert.equal(ins.config.rootfs.diff_ids.length, 2);
  assert.deepEqual(ins.layerDirs, chainIds(ins.config.rootfs.diff_ids).map((c) => e.snap.diffPath(c)));
  assert.equal(ins.size, 8);

  const h = await e.svc.history(app);
  assert.deepEqual(h.map((x) => [x.id, x.createdBy, x.size, x.tags]), [
    [app, 'COPY app', 3, ['localhost:5000/app:v1']],
    [undefined, 'CMD ["sh"]', 0, []],
    [undefined, 'ADD rootfs', 5, []],
  ]);
});

test('remove follows docker: untag, conflicts, force, layers freed', async (t) => {
  const e = await env(t);
  const { bb, l1 } = await loadBasics(e);
  const short = bb.slice(7, 19);
  await e.svc.tag('busybox', 'mine:1');
  assert.deepEqual(await e.svc.remove('mine:1'), [{ untagged: 'mine:1' }]);
  await e.svc.tag('busybox', 'mine:1');
  await assert.rejects(e.svc.remove(short), kind('Conflict', `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`));

  e.users.set(bb, [{ id: 'c'.repeat(64), running: false }]);
  // With two tags, removing one is a plain untag even while a container uses the image.
  assert.deepEqual(await e.svc.remove('mine:1'), [{ untagged: 'mine:1' }]);
  await assert.rejects(e.svc.remove('busybox'),
    kind('Conflict', `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${short}`));
  e.users.set(bb, [{ id: 'd'.repeat(64), running: true }]);
  await assert.rejects(e.svc.remove(short, { force: true }), kind('Conflict', `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container dddddddddddd`));
  assert.deepEqual(await e.svc.remove('busybox', { force: true }), [{ untagged: 'busybox:latest' }]);

  // Forced delete of an image a stopped container uses: gone from view, layers kept until gc.
  e.users.set(bb, [{ id: 'c'.repeat(64), running: false }]);
  await assert.rejects(e.svc.remove(short), kind('Conflict', `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc`));
  assert.deepEqual(await e.svc.remove(short, { force: true }), [{ deleted: bb }]);
  await assert.rejects(e.svc.resolve(bb), kind('NotFound'));
  assert.equal(await e.snap.hasLayer(sha256Digest(l1)), true);
  e.users.delete(bb);
  await e.svc.gc();
  // The base layer is still the app image's.
  assert.equal(await e.snap.hasLayer(sha256Digest(l1)), true);
  const app = (await e.svc.list())[0]!.id;
  const res = await e.svc.remove(app);
  assert.equal(res.length, 3);
  assert.deepEqual(res[0], { deleted: app });
  assert.deepEqual(await readdir(join(e.root, 'overlay', 'layers')), []);
  assert.deepEqual(await readdir(join(e.root, 'blobs', 'sha256')), []);
  assert.ok(e.events.includes(`untag ${bb.slice(7, 11)} mine:1`));
  assert.ok(e.events.includes(`delete ${bb.slice(7, 11)}`));
});

test('save then load into another daemon gives the same image', async (t) => {
  const e = await env(t);
  const { bb, app } = await loadBasics(e, ['app:1', 'app:2']);
  const out = new PassThrough();
  const bytes = buffer(out);
  await e.svc.save(['busybox', 'app', app.slice(7, 17)], out);
  const other = await env(t);
  const msgs = await collect(other.svc.load(Readable.from([await bytes])));
  assert.deepEqual(msgs.sort(), ['Loaded image: app:1\n', 'Loaded image: app:2\n', 'Loaded image: busybox:latest\n']);
  assert.equal((await other.svc.resolve('app:2')).id, app);
  assert.equal((await other.svc.resolve('busybox')).id, bb);
  await assert.rejects(e.svc.save(['nope'], new PassThrough()), kind('NotFound'));
});

test('import builds a one-layer image with changes', async (t) => {
  const e = await env(t);
  const tarball = await makeTar([{ name: 'hello', body: 'world' }], { gzip: true });
  const id = await e.svc.import(Readable.from([tarball]), { ref: 'imported:v1', changes: ['CMD ["/hello"]', 'ENV A=b C=d', 'EXPOSE 80 53/udp', 'LABEL x="y z"', 'WORKDIR /srv', 'USER nobody'] });
  const ins = await e.svc.inspect('imported:v1');
  assert.equal(ins.id, id);
  const c = ins.config.config;
  assert.deepEqual(c?.Cmd, ['/hello']);
  assert.deepEqual(c?.Env, ['A=b', 'C=d']);
  assert.deepEqual(c?.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c?.Labels, { x: 'y z' });
  assert.equal(c?.WorkingDir, '/srv');
  assert.equal(c?.User, 'nobody');
  assert.equal(ins.config.rootfs.diff_ids[0], sha256Digest(await makeTar([{ name: 'hello', body: 'world' }])));
  assert.equal((await e.svc.history(id))[0]!.comment, 'Imported from -');
  await assert.rejects(e.svc.import(Readable.from([tarball]), { changes: ['ADD x y'] }), kind('InvalidParameter', 'ADD is not a valid change command'));
  assert.ok(e.events.some((x) => x.startsWith('import')));
});

test('prune removes dangling images, or all unused ones', async (t) => {
  const e = await env(t);
  const { bb, app } = await loadBasics(e);
  const r = await e.svc.prune();
  assert.deepEqual(r.removed[0], { deleted: app });
  assert.equal(r.spaceReclaimed, 3);
  assert.deepEqual((await e.svc.prune()).removed, []);
  e.users.set(bb, [{ id: 'c'.repeat(64), running: false }]);
  assert.deepEqual((await e.svc.prune({ all: true })).removed, []);
  e.users.clear();
  const all = await e.svc.prune({ all: true, filters: parseFilters('{"label!":["tier=app"]}') });
  assert.deepEqual(all.removed.slice(0, 2), [{ untagged: 'busybox:latest' }, { deleted: bb }]);
  assert.deepEqual(await e.svc.list(), []);
});

test('recover drops pending images and layers and temp leftovers', async (t) => {
  const e = await env(t);
  const { bb } = await loadBasics(e);
  const db = openDb(join(e.root, 'berth.db'));
  t.after(() => db.close());
  const pendingChain = sha256Digest('half');
  db.prepare(`INSERT INTO images (id, config, layers, size, created_at, state) VALUES ('sha256:${'1'.repeat(64)}', '{}', ?, 0, 'x', 'pending')`).run(JSON.stringify([pendingChain]));
  db.prepare(`INSERT INTO layers (chain_id, diff_id, size, state) VALUES (?, ?, 0, 'pending')`).run(pendingChain, pendingChain);
  await e.snap.ensureLayer(pendingChain, async () => undefined);
  await mkdir(join(e.root, 'tmp', 'load-abc'), { recursive: true });
  await mkdir(join(e.root, 'overlay', 'layers', '.tmp-x'), { recursive: true });
  await writeFile(join(e.root, 'blobs', 'sha256', '.tmp-1'), 'x');
  await e.svc.recover();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n, 2);
  assert.equal(await e.snap.hasLayer(pendingChain), false);
  assert.deepEqual(await readdir(join(e.root, 'tmp')), []);
  assert.equal((await readdir(join(e.root, 'overlay', 'layers'))).length, 2);
  assert.ok(!(await readdir(join(e.root, 'blobs', 'sha256'))).includes('.tmp-1'));
  assert.equal((await e.svc.resolve('busybox')).id, bb);
});
