import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVersionOutput, readComponentVersions } from './versions.ts';

test('parseVersionOutput: conmon, crun, runc and tini as they print it', () => {
  assert.deepEqual(parseVersionOutput('conmon version 2.1.6\ncommit: unknown\n'), { version: '2.1.6', commit: '' });
  assert.deepEqual(parseVersionOutput('crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\nspec: 1.0.0\n'), { version: '1.8.1', commit: 'f8a096be' });
  assert.deepEqual(parseVersionOutput('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n'), { version: '1.1.5+ds1', commit: '1.1.5+ds1-1+deb12u1' });
  assert.deepEqual(parseVersionOutput('tini version 0.19.0 - git.de40ad0\n'), { version: '0.19.0', commit: 'de40ad0' });
  assert.deepEqual(parseVersionOutput('nonsense'), { version: '', commit: '' });
});

test('readComponentVersions: a binary that fails or cannot run gives empty strings', async () => {
  const exec = async (path: string) => {
    if (path === '/missing') throw new Error('ENOENT');
    if (path === '/fails') return { exitCode: 1, stdout: '', stderr: 'no' };
    return { exitCode: 0, stdout: 'crun version 1.8.1\ncommit: abc\n', stderr: '' };
  };
  assert.deepEqual(await readComponentVersions(exec, [{ name: 'crun', path: '/ok' }, { name: 'runc', path: '/missing' }, { name: 'tini', path: '/fails' }]), [
    { name: 'crun', version: '1.8.1', commit: 'abc' }, { name: 'runc', version: '', commit: '' }, { name: 'tini', version: '', commit: '' },
  ]);
});
