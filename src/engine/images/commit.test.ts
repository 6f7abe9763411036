import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitImageConfig, mergeCommitConfig } from './commit.ts';

test('mergeCommitConfig: empty fields come from the container, Env and Labels merge by key', () => {
  const merged = mergeCommitConfig({ Env: ['A=user'], Labels: { l: 'u' } }, { Env: ['A=c', 'B=c'], Labels: { l: 'c', m: 'c' }, Cmd: ['sh'], User: 'nobody', WorkingDir: '/w' });
  assert.deepEqual(merged.Env, ['A=user', 'B=c']);
  assert.deepEqual(merged.Labels, { l: 'u', m: 'c' });
  assert.deepEqual(merged.Cmd, ['sh']);
  assert.equal(merged.User, 'nobody');
  assert.equal(merged.WorkingDir, '/w');
  // An Entrypoint of the user's keeps the container's Cmd out.
  assert.equal(mergeCommitConfig({ Entrypoint: ['x'] }, { Cmd: ['sh'] }).Cmd, undefined);
});

test('commitImageConfig: parent layers plus the new one, history entry with the command, changes applied', () => {
  const blob = commitImageConfig({
    parent: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:a'] }, history: [{ created_by: 'base' }] },
    container: { Cmd: ['sh', '-c', 'echo hi'], Env: ['PATH=/bin'] }, containerId: 'abc',
    changes: ['ENV X=1', 'CMD ["true"]'], author: 'me', comment: 'msg', diffId: 'sha256:b', created: new Date(0), parentId: 'sha256:p',
  });
  assert.equal(blob['parent'], 'sha256:p', "dockerd's legacy parent field");
  assert.equal(blob['container'], 'abc');
  assert.deepEqual(blob.rootfs.diff_ids, ['sha256:a', 'sha256:b']);
  assert.deepEqual(blob.config?.Cmd, ['true']);
  assert.deepEqual(blob.config?.Env, ['PATH=/bin', 'X=1']);
  assert.equal(blob.history?.length, 2);
  assert.deepEqual(blob.history?.[1], { created: '1970-01-01T00:00:00.000Z', author: 'me', created_by: 'sh -c echo hi', comment: 'msg' });
  // A parent without history gets one entry per layer.
  const bare = commitImageConfig({ parent: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:c'] } }, container: {}, containerId: 'x', diffId: 'sha256:b' });
  assert.equal(bare.history?.length, 3);
});
