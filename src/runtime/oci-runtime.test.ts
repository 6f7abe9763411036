import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { withOomScoreAdj } from './oci-runtime.ts';

test('withOomScoreAdj: the command runs with the given oom_score_adj, its arguments intact', () => {
  const [file, ...args] = withOomScoreAdj(['sh', '-c', 'cat /proc/self/oom_score_adj; echo "$1 $2"', 'x', 'a b', '$HOME'], 500);
  const r = spawnSync(file!, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '500\na b $HOME\n');
});

test('withOomScoreAdj: unset or 0 leaves the command alone', () => {
  assert.deepEqual(withOomScoreAdj(['crun', 'exec'], undefined), ['crun', 'exec']);
  assert.deepEqual(withOomScoreAdj(['crun', 'exec'], 0), ['crun', 'exec']);
});
