import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EngineError } from '../lib/errors.ts';
import { sha256Digest } from '../lib/digest.ts';
import type { WhiteoutEntry } from '../lib/native-helper.ts';
import { applyLayer, type ApplyLayerOptions } from './layer-apply.ts';
import { makeTar, type TestEntry } from './test-tar.ts';

/** A sandbox: `root` is the target, `outside` a sibling that must stay empty. */
async function sandbox(t: { after: (fn: () => Promise<void>) => void }) {
  const base = await mkdtemp(join(tmpdir(), 'berth-layer-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  const calls: { root: string; entries: WhiteoutEntry[] }[] = [];
  const opts: ApplyLayerOptions = { makeWhiteouts: async (r, entries) => { calls.push({ root: r, entries: [...entries] }); } };
  return { base, root, outside, calls, opts };
}

const apply = async (entries: TestEntry[], root: string, opts: ApplyLayerOptions, gzip = false) =>
  applyLayer(Readable.from([await makeTar(entries, { gzip })]), root, opts);

test('files, dirs, symlinks, hardlinks, modes, owners and times are preserved', async (t) => {
  const { root, opts } = await sandbox(t);
  const mtime = new Date('2020-01-02T03:04:05Z');
  const entries: TestEntry[] = [
    { name: './' },
    { name: 'bin/', mode: 0o755 },
    { name: 'bin/busybox', body: 'ELF', mode: 0o4755, uid: 1000, gid: 1001, mtime },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/ash', type: 'link', linkname: 'bin/busybox' },
    { name: 'etc/abs', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'tmp/', mode: 0o1777, mtime },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
  ];
  const tarBytes = await makeTar(entries);
  const r = await applyLayer(Readable.from([tarBytes]), root, opts);
  assert.equal(r.diffId, sha256Digest(tarBytes));
  assert.equal(r.size, 3);
  assert.equal(r.skipped, 1);
  const bb = await stat(join(root, 'bin/busybox'));
  assert.equal(bb.mode & 0o7777, 0o4755);
  // Owners are kept as root; off root the chown's EPERM is tolerated and the caller owns the file.
  const asRoot = process.getuid?.() === 0;
  assert.equal(bb.uid, asRoot ? 1000 : process.getuid?.());
  assert.equal(bb.gid, asRoot ? 1001 : process.getgid?.());
  assert.equal(bb.mtime.getTime(), mtime.getTime());
  assert.equal(bb.nlink, 2);
  assert.equal(await readlink(join(root, 'bin/sh')), 'busybox');
  assert.equal(await readlink(join(root, 'etc/abs')), '/etc/passwd');
  const tmp = await stat(join(root, 'tmp'));
  assert.equal(tmp.mode & 0o7777, 0o1777);
  assert.equal(tmp.mtime.getTime(), mtime.getTime());
  await assert.rejects(lstat(join(root, 'dev/null')));
});

test('gzip layers give the diffID of the uncompressed tar', async (t) => {
  const { root, opts } = await sandbox(t);
  const entries = [{ name: 'a', body: 'hello' }];
  const r = await apply(entries, root, opts, true);
  assert.equal(r.diffId, sha256Digest(await makeTar(entries)));
  assert.equal(await readFile(join(root, 'a'), 'utf8'), 'hello');
});

test('whiteouts and opaque dirs go to makeWhiteouts in one call', async (t) => {
  const { root, opts, calls } = await sandbox(t);
  await apply([
    { name: 'etc/' },
    { name: 'etc/.wh.passwd', body: '' },
    { name: 'var/lib/.wh..wh..opq', body: '' },
    { name: '.wh..wh..plnk', body: '' },
    { name: 'gone', type: 'character-device', devmajor: 0, devminor: 0 },
  ], root, opts);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.root, root);
  assert.deepEqual(calls[0]!.entries, [
    { kind: 'whiteout', path: 'etc/passwd' },
    { kind: 'opaque', path: 'var/lib' },
    { kind: 'whiteout', path: 'gone' },
  ]);
  await assert.rejects(lstat(join(root, 'etc/.wh.passwd')));
});

test('later entries replace earlier ones, a dir entry over a dir keeps its content', async (t) => {
  const { root, opts } = await sandbox(t);
  await apply([
    { name: 'd/x', body: '1' },
    { name: 'd/', mode: 0o700 },
    { name: 'f', body: 'old' },
    { name: 'f', body: 'new' },
  ], root, opts);
  assert.equal(await readFile(join(root, 'd/x'), 'utf8'), '1');
  assert.equal((await stat(join(root, 'd'))).mode & 0o777, 0o700);
  assert.equal(await readFile(join(root, 'f'), 'utf8'), 'new');
});

const isInvalid = (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter';

for (const [label, entries] of Object.entries<(outside: string) => TestEntry[]>({
  'a ../ escape': () => [{ name: '../../etc/x', body: 'pwned' }],
  'a nested ../ escape': () => [{ name: 'a/../../x', body: 'pwned' }],
  'an absolute path': (o) => [{ name: `${o}/x`, body: 'pwned' }],
  'a write through a symlink': (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'link/x', body: 'pwned' }],
  'a write through a symlink replacing a dir': (o) => [
    { name: 'd/' }, { name: 'd', type: 'symlink', linkname: o }, { name: 'd/x', body: 'pwned' }],
  'a relative symlink climbing out': () => [{ name: 'l', type: 'symlink', linkname: '../outside' }, { name: 'l/x', body: 'pwned' }],
  'a hardlink to /etc/passwd': () => [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }],
  'a hardlink outside': () => [{ name: 'pw', type: 'link', linkname: '../outside/secret' }],
  'a hardlink through a symlink': () => [{ name: 'e', type: 'symlink', linkname: '/etc' }, { name: 'pw', type: 'link', linkname: 'e/passwd' }],
  'a hardlink to a missing file': () => [{ name: 'pw', type: 'link', linkname: 'nope' }],
  'a whiteout through a newline': () => [{ name: '.wh.a\nw x', body: '' }],
})) {
  test(`hostile layer: ${label} is refused and nothing lands outside`, async (t) => {
    const { root, outside, opts, calls } = await sandbox(t);
    await assert.rejects(apply(entries(outside), root, opts), isInvalid);
    assert.deepEqual(await readdir(outside), []);
    assert.equal(calls.length, 0);
    await assert.rejects(lstat('/etc/x'));
  });
}

test('hostile layer: over the byte cap or the entry cap', async (t) => {
  const { root, opts } = await sandbox(t);
  await assert.rejects(apply([{ name: 'big', body: Buffer.alloc(2048) }], root, { ...opts, maxBytes: 1024 }), isInvalid);
  await assert.rejects(apply([{ name: 'a', body: '' }, { name: 'b', body: '' }, { name: 'c', body: '' }], root, { ...opts, maxEntries: 2 }), isInvalid);
});

test('zstd layers are NotImplemented, garbage is refused', async (t) => {
  const { root, opts } = await sandbox(t);
  const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
  await assert.rejects(applyLayer(Readable.from([zstd]), root, opts), (e: unknown) => e instanceof EngineError && e.kind === 'NotImplemented');
  await assert.rejects(applyLayer(Readable.from([Buffer.alloc(1024, 7)]), root, opts));
});

test('hash: false unpacks the same and reports no diffID', async (t) => {
  const { root, opts } = await sandbox(t);
  const r = await applyLayer(Readable.from([await makeTar([{ name: 'a/b', body: 'hello' }])]), root, { ...opts, hash: false });
  assert.equal(r.diffId, undefined);
  assert.equal(r.size, 5);
  assert.equal(await readFile(join(root, 'a/b'), 'utf8'), 'hello');
});
