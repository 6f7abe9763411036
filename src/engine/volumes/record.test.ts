import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../store/db.ts';
import { VolumeRepo, type MountRecord, type VolumeRecord } from './record.ts';

const vol = (name: string, extra: Partial<VolumeRecord> = {}): VolumeRecord => ({
  name, driver: 'local', createdAt: '2024-01-01T00:00:00.000Z', labels: {}, options: {}, anonymous: false, populated: false, ...extra,
});

function dbWithContainer(...ids: string[]) {
  const db = openDb(':memory:');
  for (const id of ids) {
    db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime) VALUES (?, ?, 'i', 'busybox', 'now', '{}', '{}', '{}', 'crun')`).run(id, `n-${id}`);
  }
  return db;
}

test('volumes round-trip; users and in-use come from mount points; a container row going takes its mount points', () => {
  const db = dbWithContainer('c1', 'c2');
  const repo = new VolumeRepo(db);
  repo.insert(vol('a', { labels: { k: 'v' }, options: { type: 'tmpfs', device: 'tmpfs' }, anonymous: true }));
  repo.insert(vol('b'));
  assert.deepEqual(repo.get('a'), vol('a', { labels: { k: 'v' }, options: { type: 'tmpfs', device: 'tmpfs' }, anonymous: true }));
  assert.deepEqual(repo.all().map((v) => v.name), ['a', 'b']);
  const m: MountRecord = { type: 'volume', name: 'a', source: '/x/a/_data', destination: '/data', driver: 'local', mode: 'z', rw: true, propagation: '' };
  const bind: MountRecord = { type: 'bind', source: '/h', destination: '/h', mode: '', rw: false, propagation: 'rprivate' };
  repo.setMounts('c1', [m, bind]);
  repo.setMounts('c2', [{ ...m, destination: '/other' }]);
  assert.deepEqual(repo.mountsOf('c1'), [m, bind]);
  assert.deepEqual(repo.usersOf('a'), ['c1', 'c2']);
  assert.deepEqual([...repo.inUse()], ['a']);
  // A volume with users cannot lose its row underneath them.
  assert.throws(() => repo.delete('a'), /FOREIGN KEY/);
  db.prepare(`DELETE FROM containers WHERE id = 'c1'`).run();
  assert.deepEqual(repo.usersOf('a'), ['c2']);
  repo.deleteMounts('c2');
  assert.deepEqual(repo.usersOf('a'), []);
  repo.markPopulated('a');
  assert.equal(repo.get('a')!.populated, true);
  repo.delete('a');
  assert.equal(repo.get('a'), undefined);
});
