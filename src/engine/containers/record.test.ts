import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { openDb } from '../../store/db.ts';
import { ContainerRepo, type ContainerRecord, initialState } from './record.ts';

const ID_A = 'abc1' + '0'.repeat(60);
const ID_B = 'abc2' + '1'.repeat(60);
const ID_C = 'def0' + '2'.repeat(60);

function rec(id: string, name: string, createdAt: string): ContainerRecord {
  return {
    id, name, imageId: 'sha256:' + 'e'.repeat(64), imageRef: 'busybox', createdAt,
    config: { Cmd: ['sh'], Labels: { k: 'v' } }, hostConfig: { NetworkMode: 'none' }, runtime: 'crun', restartCount: 0,
    state: { ...initialState(), status: 'created' },
  };
}

function repo(t: { after: (fn: () => void) => void }): ContainerRepo {
  const db = openDb(':memory:');
  t.after(() => db.close());
  const r = new ContainerRepo(db);
  r.insert(rec(ID_A, 'alpha', '2024-05-01T10:00:01Z'));
  r.insert(rec(ID_B, 'beta', '2024-05-01T10:00:02Z'));
  r.insert(rec(ID_C, 'gamma/x', '2024-05-01T10:00:03Z'));
  return r;
}

const kindAndMessage = (kind: string, message: string) => (err: unknown) =>
  err instanceof EngineError && err.kind === kind && err.message === message;

test('insert then get returns the same record, JSON fields included', (t) => {
  const r = repo(t);
  assert.deepEqual(r.get(ID_A), rec(ID_A, 'alpha', '2024-05-01T10:00:01Z'));
  assert.equal(r.get('f'.repeat(64)), undefined);
});

test('insert with a taken name: Docker\'s Conflict message naming the holder', (t) => {
  const r = repo(t);
  assert.throws(() => r.insert(rec('9'.repeat(64), 'alpha', '2024-05-01T10:00:09Z')), kindAndMessage('Conflict',
    `Conflict. The container name "/alpha" is already in use by container "${ID_A}". You have to remove (or rename) that container to be able to reuse that name.`));
  assert.equal(r.all().length, 3);
});

test('insert with a duplicate id is not mistaken for a name conflict', (t) => {
  const r = repo(t);
  assert.throws(() => r.insert(rec(ID_A, 'other', '2024-05-01T10:00:09Z')), (err: unknown) => !(err instanceof EngineError) && /UNIQUE/.test(String(err)));
});

test('resolve: full id, name with and without "/", unique prefix', (t) => {
  const r = repo(t);
  assert.equal(r.resolve(ID_B).name, 'beta');
  assert.equal(r.resolve('beta').id, ID_B);
  assert.equal(r.resolve('/beta').id, ID_B);
  assert.equal(r.resolve('gamma/x').id, ID_C);
  assert.equal(r.resolve('abc1').id, ID_A);
  assert.equal(r.resolve('d').id, ID_C);
});

test('resolve: an exact name wins over an ID prefix', (t) => {
  const r = repo(t);
  r.insert(rec('7'.repeat(64), 'abc2', '2024-05-01T10:00:04Z'));
  assert.equal(r.resolve('abc2').id, '7'.repeat(64));
});

test('resolve: an ambiguous prefix is InvalidParameter', (t) => {
  const r = repo(t);
  assert.throws(() => r.resolve('abc'), kindAndMessage('InvalidParameter', 'multiple IDs found with provided prefix: abc'));
});

test('resolve: missing is NotFound with Docker\'s wording', (t) => {
  const r = repo(t);
  assert.throws(() => r.resolve('x'), kindAndMessage('NotFound', 'No such container: x'));
  assert.throws(() => r.resolve('0123'), kindAndMessage('NotFound', 'No such container: 0123'));
  assert.throws(() => r.resolve(''), kindAndMessage('NotFound', 'No such container: '));
  // LIKE wildcards are not hex, so they never reach the prefix query.
  assert.throws(() => r.resolve('%'), kindAndMessage('NotFound', 'No such container: %'));
  assert.throws(() => r.resolve('a_c'), kindAndMessage('NotFound', 'No such container: a_c'));
});

test('byName and nameTaken', (t) => {
  const r = repo(t);
  assert.equal(r.byName('/alpha')?.id, ID_A);
  assert.equal(r.byName('alpha')?.id, ID_A);
  assert.equal(r.byName('nope'), undefined);
  assert.equal(r.nameTaken('alpha'), true);
  assert.equal(r.nameTaken('nope'), false);
});

test('rename: to a free name; to a taken one is a Conflict naming the holder', (t) => {
  const r = repo(t);
  r.rename(ID_A, 'alpha2');
  assert.equal(r.resolve('alpha2').id, ID_A);
  assert.throws(() => r.resolve('alpha'), kindAndMessage('NotFound', 'No such container: alpha'));
  assert.throws(() => r.rename(ID_A, 'beta'), kindAndMessage('Conflict',
    `Conflict. The container name "/beta" is already in use by container "${ID_B}". You have to remove (or rename) that container to be able to reuse that name.`));
  assert.equal(r.get(ID_A)?.name, 'alpha2');
});

test('saveState, saveHostConfig, all (newest first), usingImage, delete', (t) => {
  const r = repo(t);
  const st = { ...initialState(), status: 'running' as const, pid: 42 };
  r.saveState(ID_A, st);
  assert.deepEqual(r.get(ID_A)?.state, st);
  assert.equal(r.get(ID_A)?.restartCount, 0);
  r.saveState(ID_A, { ...st, status: 'exited' }, 3);
  assert.equal(r.get(ID_A)?.state.status, 'exited');
  assert.equal(r.get(ID_A)?.restartCount, 3);
  r.saveHostConfig(ID_B, { NetworkMode: 'host', Privileged: true });
  assert.deepEqual(r.get(ID_B)?.hostConfig, { NetworkMode: 'host', Privileged: true });
  assert.deepEqual(r.all().map((c) => c.name), ['gamma/x', 'beta', 'alpha']);
  assert.deepEqual(r.usingImage('sha256:' + 'e'.repeat(64)).sort(), [ID_A, ID_B, ID_C].sort());
  assert.deepEqual(r.usingImage('sha256:none'), []);
  r.delete(ID_B);
  assert.equal(r.get(ID_B), undefined);
  assert.throws(() => r.resolve('beta'), kindAndMessage('NotFound', 'No such container: beta'));
  // The name is free again.
  r.insert(rec('8'.repeat(64), 'beta', '2024-05-01T10:00:08Z'));
  assert.equal(r.resolve('beta').id, '8'.repeat(64));
});

test('markStoppedByUser sets only that flag, keeping a newer state written meanwhile', (t) => {
  const r = repo(t);
  const stale = r.get(ID_A)!;
  r.saveState(ID_A, { ...stale.state, status: 'exited', exitCode: 3 });
  r.markStoppedByUser(ID_A);
  const now = r.get(ID_A)!.state;
  assert.equal(now.status, 'exited');
  assert.equal(now.exitCode, 3);
  assert.equal(now.stoppedByUser, true);
});
