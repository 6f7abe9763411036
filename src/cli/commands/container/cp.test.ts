import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCpArg } from './cp.ts';
import { CopyError, getRebaseName, nameRebaser, prepareArchiveCopy, preserveTrailingDotOrSeparator, splitPathDirEntry } from './cp-local.ts';

test('splitCpArg: container paths, explicit local paths with colons', () => {
  assert.deepEqual(splitCpArg('c:/etc'), ['c', '/etc']);
  assert.deepEqual(splitCpArg('/abs:x'), ['', '/abs:x']);
  assert.deepEqual(splitCpArg('./f:x'), ['', './f:x']);
  assert.deepEqual(splitCpArg('plain'), ['', 'plain']);
});

test('path helpers as go-archive', () => {
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'a/b/.'), '/a/b/.');
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'a/b/'), '/a/b/');
  assert.deepEqual(getRebaseName('/data/link', '/data/a'), ['/data/a', 'link']);
  assert.equal(nameRebaser('.', 'new')('./x'), 'new/x');
  assert.equal(nameRebaser('data', 'd2')('data/sub'), 'd2/sub');
  assert.equal(nameRebaser('data', 'd2')('database'), 'database');
});

test('prepareArchiveCopy: docker cp semantics', () => {
  const info = (path: string, exists: boolean, isDir: boolean) => ({ path, exists, isDir, rebaseName: '' });
  assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d', true, true)), { dstDir: '/d' });
  assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d/g', false, false)), { dstDir: '/d', rebase: ['f', 'g'] });
  assert.deepEqual(prepareArchiveCopy(info('/s/dir/.', true, true), info('/d/new', false, false)), { dstDir: '/d', rebase: ['.', 'new'] });
  assert.throws(() => prepareArchiveCopy(info('/s/dir', true, true), info('/d/file', true, false)), (e: unknown) => e instanceof CopyError && e.message === 'cannot copy directory');
  assert.throws(() => prepareArchiveCopy(info('/s/f', true, false), info('/d/missing/', false, false)), /no such directory/);
});
