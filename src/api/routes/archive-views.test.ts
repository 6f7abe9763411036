import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goFileMode, toApiChanges, toApiPathStat } from './archive-views.ts';

test('goFileMode: st_mode type and special bits become Go os.FileMode bits', () => {
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755);
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
});

test('path stat: the bytes of dockerd\'s header JSON (Go mode, mtime cut to milliseconds)', () => {
  const stat = { name: 'hosts', size: 174, mode: 0o100644, mtime: 1700000000.1234567, linkTarget: '' };
  assert.equal(JSON.stringify(toApiPathStat(stat)), '{"name":"hosts","size":174,"mode":420,"mtime":"2023-11-14T22:13:20.123Z","linkTarget":""}');
  const link = toApiPathStat({ name: 'l', size: 3, mode: 0o120777, mtime: 0, linkTarget: '/etc/hosts' });
  assert.equal(JSON.stringify(link), '{"name":"l","size":3,"mode":134218239,"mtime":"1970-01-01T00:00:00.000Z","linkTarget":"/etc/hosts"}');
});

test('changes: Docker\'s numeric kinds, in the engine\'s order', () => {
  const out = toApiChanges([{ path: '/a', kind: 'added' }, { path: '/etc', kind: 'modified' }, { path: '/gone', kind: 'deleted' }]);
  assert.equal(JSON.stringify(out), '[{"Path":"/a","Kind":1},{"Path":"/etc","Kind":0},{"Path":"/gone","Kind":2}]');
});
