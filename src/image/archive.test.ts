import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';
import { EngineError } from '../lib/errors.ts';
import { sha256Digest } from '../lib/digest.ts';
import { parseReference } from '../lib/reference.ts';
import { readImageArchive } from './archive-read.ts';
import { writeImageArchive } from './archive-write.ts';
import { chainIds, imageIdOf } from './config.ts';
import { makeTar, type TestEntry } from './test-tar.ts';

async function tmp(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-archive-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const hex = (d: string) => d.slice(7);
const configOf = (diffIds: string[], extra: object = {}) =>
  Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, ...extra }));

/** Entries of a tar, name → bytes. */
async function listTar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = (async () => { for await (const e of ex) out.set(e.header.name, await buffer(e as unknown as Readable)); })();
  Readable.from([bytes]).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

test('chain IDs follow the OCI image spec', () => {
  const a = sha256Digest('a');
  const b = sha256Digest('b');
  const c = sha256Digest('c');
  const ab = sha256Digest(`${a} ${b}`);
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds([a]), [a]);
  assert.deepEqual(chainIds([a, b, c]), [a, ab, sha256Digest(`${ab} ${c}`)]);
});

test('save then load round-trips two images sharing a layer', async (t) => {
  const dir = await tmp(t);
  const l1 = await makeTar([{ name: 'bin/', mode: 0o755 }, { name: 'bin/sh', body: 'shell' }]);
  const l2 = await makeTar([{ name: 'app', body: 'app' }]);
  const layers = new Map([[sha256Digest(l1), l1], [sha256Digest(l2), l2]]);
  const c1 = configOf([sha256Digest(l1)], { config: { Cmd: ['sh'] } });
  const c2 = configOf([sha256Digest(l1), sha256Digest(l2)]);
  const opened: string[] = [];
  const out = new PassThrough();
  const collected = buffer(out);
  await writeImageArchive(
    [{ configBytes: c1, tags: [parseReference('busybox:latest'), parseReference('localhost:5000/bb:1')] }, { configBytes: c2, tags: [] }],
    async (d) => { opened.push(d); const b = layers.get(d)!; return { stream: Readable.from([b]), size: b.length }; },
    out,
  );
  const bytes = await collected;
  const entries = await listTar(bytes);
  assert.deepEqual(JSON.parse(entries.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
  const manifest = JSON.parse(entries.get('manifest.json')!.toString());
  assert.deepEqual(manifest[0], {
    Config: `blobs/sha256/${hex(imageIdOf(c1))}`,
    RepoTags: ['busybox:latest', 'localhost:5000/bb:1'],
    Layers: [`blobs/sha256/${hex(sha256Digest(l1))}`],
  });
  assert.equal(manifest[1].RepoTags, null);
  const index = JSON.parse(entries.get('index.json')!.toString());
  assert.equal(index.manifests.length, 3);
  assert.deepEqual(index.manifests[0].annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
  assert.deepEqual(entries.get(`blobs/sha256/${hex(sha256Digest(l1))}`), l1);
  assert.deepEqual(JSON.parse(entries.get('repositories')!.toString()), { busybox: { latest: hex(sha256Digest(l1)) }, 'localhost:5000/bb': { 1: hex(sha256Digest(l1)) } });

  const archive = await readImageArchive(Readable.from([bytes]), { tmpRoot: dir });
  t.after(() => archive.cleanup());
  assert.deepEqual(archive.images.map((i) => i.id), [imageIdOf(c1), imageIdOf(c2)]);
  assert.deepEqual(archive.images[0]!.refs, ['busybox:latest', 'localhost:5000/bb:1']);
  assert.deepEqual(archive.images[1]!.refs, []);
  assert.deepEqual(await readFile(archive.images[1]!.layerPaths[1]!), l2);
  assert.deepEqual(archive.images[0]!.configBytes, c1);
  await archive.cleanup();
  assert.deepEqual(await readdir(dir), []);
});

test('legacy docker save archives: <id>/layer.tar, <hex>.json, symlinked layers, gzip', async (t) => {
  const dir = await tmp(t);
  const l1 = await makeTar([{ name: 'f', body: 'x' }]);
  const cfg = configOf([sha256Digest(l1), sha256Digest(l1)]);
  const entries: TestEntry[] = [
    { name: 'aaa/', type: 'directory' },
    { name: 'aaa/layer.tar', body: l1 },
    { name: 'bbb/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
    { name: `${hex(imageIdOf(cfg))}.json`, body: cfg },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${hex(imageIdOf(cfg))}.json`, RepoTags: ['old:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }]) },
  ];
  const archive = await readImageArchive(Readable.from([await makeTar(entries, { gzip: true })]), { tmpRoot: dir });
  t.after(() => archive.cleanup());
  const img = archive.images[0]!;
  assert.equal(img.id, imageIdOf(cfg));
  assert.deepEqual(img.refs, ['old:1']);
  assert.deepEqual(await readFile(img.layerPaths[1]!), l1);
});

test('OCI layouts with names in annotations and a nested index', async (t) => {
  const dir = await tmp(t);
  const layer = await makeTar([{ name: 'f', body: 'x' }], { gzip: true });
  const cfg = configOf([sha256Digest(await makeTar([{ name: 'f', body: 'x' }]))]);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha256Digest(cfg), size: cfg.length }, layers: [{ digest: sha256Digest(layer), size: layer.length }] }));
  const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: sha256Digest(manifest), platform: { os: 'linux', architecture: 'amd64' } }] }));
  const blob = (b: Buffer): TestEntry => ({ name: `blobs/sha256/${hex(sha256Digest(b))}`, body: b });
  const archive = await readImageArchive(Readable.from([await makeTar([
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    blob(layer), blob(cfg), blob(manifest), blob(nested),
    { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [
      { digest: sha256Digest(nested), annotations: { 'io.containerd.image.name': 'docker.io/library/app:2', 'org.opencontainers.image.ref.name': '2' } },
      { digest: sha256Digest(manifest), annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
    ] }) },
  ])]), { tmpRoot: dir });
  t.after(() => archive.cleanup());
  assert.equal(archive.images.length, 1);
  assert.deepEqual(archive.images[0]!.refs, ['docker.io/library/app:2']);
});

const isInvalid = (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter';

test('hostile archives are refused and the spool removed', async (t) => {
  const dir = await tmp(t);
  const cases: TestEntry[][] = [
    [{ name: '../escape', body: 'x' }],
    [{ name: '/abs', body: 'x' }],
    [{ name: `blobs/sha256/${'0'.repeat(64)}`, body: 'not that' }],
    [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'manifest.json', body: '[{"Config":"l/passwd","Layers":[]}]' }],
    [{ name: 'l', type: 'symlink', linkname: '../..' }],
    [{ name: 'manifest.json', body: '[{"Config":"../../etc/passwd","Layers":[]}]' }],
    [{ name: 'a.json', body: '{}' }, { name: 'manifest.json', body: '[{"Config":"a.json","Layers":[]}]' }],
    [{ name: 'nothing', body: 'x' }],
  ];
  for (const entries of cases) {
    await assert.rejects(readImageArchive(Readable.from([await makeTar(entries)]), { tmpRoot: dir }), isInvalid, JSON.stringify(entries[0]!.name));
    assert.deepEqual(await readdir(dir), []);
  }
  const cfg = configOf([]);
  await assert.rejects(readImageArchive(Readable.from([await makeTar([
    { name: `${'1'.repeat(64)}.json`, body: cfg },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${'1'.repeat(64)}.json`, Layers: [] }]) },
  ])]), { tmpRoot: dir }), isInvalid);
  await assert.rejects(readImageArchive(Readable.from([await makeTar([{ name: 'big', body: Buffer.alloc(4096) }])]), { tmpRoot: dir, maxBytes: 100 }), isInvalid);
  assert.deepEqual(await readdir(dir), []);
});
