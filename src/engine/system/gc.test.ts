import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../store/db.ts';
import { collectOrphans, collectOrphansAtStart, findOrphans, type GcDeps } from './gc.ts';

const hex = (c: string) => c.repeat(64);

function fixture(t: import('node:test').TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'berth-gc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const db = openDb(':memory:');
  t.after(() => db.close());
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'exec');
  const removed: string[] = [];
  const deps: GcDeps = { db, dataRoot, execRoot, removeSnapshot: async (id) => { removed.push(id); }, graceMs: 60_000 };
  const file = (path: string, bytes: number, ageMs = 3_600_000) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, Buffer.alloc(bytes));
    const when = new Date(Date.now() - ageMs);
    // The file and every directory above it, up to the roots, get the age.
    for (let p = path; p.startsWith(root) && p !== root; p = join(p, '..')) utimesSync(p, when, when);
  };
  return { db, dataRoot, execRoot, deps, removed, file };
}

test('finds only what the database does not know, and leaves young files alone', async (t) => {
  const f = fixture(t);
  f.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime)
    VALUES (?, 'live', 'sha256:x', 'busybox', '2024-01-01', '{}', '{}', '{}', 'crun')`).run(hex('a'));
  f.db.prepare(`INSERT INTO layers (chain_id, diff_id, size, blob) VALUES (?, ?, 10, ?)`).run(`sha256:${hex('c')}`, `sha256:${hex('c')}`, `sha256:${hex('d')}`);
  f.file(join(f.dataRoot, 'containers', hex('a'), 'container.log'), 5);        // live container
  f.file(join(f.dataRoot, 'containers', hex('b'), 'container.log'), 7);        // gone container
  f.file(join(f.dataRoot, 'overlay', 'containers', hex('b'), 'upper', 'x'), 11);
  f.file(join(f.execRoot, 'containers', hex('b'), 'config.json'), 3);
  f.file(join(f.dataRoot, 'overlay', 'layers', hex('c'), 'f'), 13);           // used layer
  f.file(join(f.dataRoot, 'overlay', 'layers', hex('e'), 'f'), 17);           // unused layer
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('d')), 19);                  // the used layer's blob
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('f')), 23);                  // unreferenced blob
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('9')), 29, 1000);            // unreferenced but young
  f.file(join(f.dataRoot, 'tmp', 'load-old', 'x'), 31);
  const found = await findOrphans(f.deps);
  const byKind = Object.fromEntries(found.map((o) => [o.path.replace(f.dataRoot, 'D').replace(f.execRoot, 'E'), [o.kind, o.bytes]]));
  assert.deepEqual(byKind, {
    [`D/containers/${hex('b')}`]: ['container-data', 7],
    [`D/overlay/containers/${hex('b')}`]: ['container-snapshot', 11],
    [`E/containers/${hex('b')}`]: ['container-bundle', 3],
    [`D/overlay/layers/${hex('e')}`]: ['layer', 17],
    [`D/blobs/sha256/${hex('f')}`]: ['blob', 23],
    'D/tmp/load-old': ['temp', 31],
  });
  const r = await collectOrphans(f.deps, found);
  assert.equal(r.removed.length, 6);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(f.removed, [hex('b')], 'the snapshot is unmounted through the snapshotter first');
  assert.ok(existsSync(join(f.dataRoot, 'overlay', 'layers', hex('c'))));
  assert.ok(existsSync(join(f.dataRoot, 'blobs', 'sha256', hex('9'))));
  assert.ok(!existsSync(join(f.dataRoot, 'blobs', 'sha256', hex('f'))));
  assert.deepEqual(await findOrphans(f.deps), []);
});

test('an orphan claimed between finding and collecting is kept', async (t) => {
  const f = fixture(t);
  f.file(join(f.dataRoot, 'containers', hex('b'), 'container.log'), 7);
  const found = await findOrphans(f.deps);
  f.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime)
    VALUES (?, 'late', 'sha256:x', 'busybox', '2024-01-01', '{}', '{}', '{}', 'crun')`).run(hex('b'));
  const r = await collectOrphans(f.deps, found);
  assert.deepEqual(r.removed, []);
  assert.ok(existsSync(join(f.dataRoot, 'containers', hex('b'))));
});

test('the compressed layer blobs kept for push are not orphans', async (t) => {
  const f = fixture(t);
  f.db.prepare('INSERT INTO layer_blobs (digest, diff_id, media_type, size) VALUES (?, ?, ?, 5)').run(`sha256:${hex('1')}`, `sha256:${hex('2')}`, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('1')), 5);
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('3')), 5);
  assert.deepEqual((await findOrphans(f.deps)).map((o) => o.path), [join(f.dataRoot, 'blobs', 'sha256', hex('3'))]);
});

test('at start-up every orphan goes at once, young or old; recorded objects stay', async (t) => {
  const f = fixture(t);
  f.db.prepare(`INSERT INTO layers (chain_id, diff_id, size, blob) VALUES (?, ?, 10, ?)`).run(`sha256:${hex('c')}`, `sha256:${hex('c')}`, `sha256:${hex('d')}`);
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('d')), 19, 0);
  f.file(join(f.dataRoot, 'blobs', 'sha256', hex('f')), 23, 0);
  f.file(join(f.dataRoot, 'tmp', 'import-1', 'x'), 3, 0);
  f.file(join(f.dataRoot, 'overlay', 'layers', hex('e'), 'f'), 17, 0);
  const logged: object[] = [];
  await collectOrphansAtStart(f.deps, { info: (o) => logged.push(o), warn: (o) => logged.push(o) });
  assert.ok(existsSync(join(f.dataRoot, 'blobs', 'sha256', hex('d'))));
  for (const p of [join('blobs', 'sha256', hex('f')), join('tmp', 'import-1'), join('overlay', 'layers', hex('e'))]) assert.ok(!existsSync(join(f.dataRoot, p)), p);
  assert.equal(logged.length, 1);
});
