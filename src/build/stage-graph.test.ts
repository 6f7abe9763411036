import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile/index.ts';
import { neededStages, stageDeps, targetStage } from './stage-graph.ts';

const df = parseDockerfile([
  'ARG IMG=busybox',
  'FROM $IMG AS base',
  'FROM busybox AS tools',
  'RUN --mount=type=bind,from=base,target=/b true',
  'FROM base AS app',
  'COPY --from=tools /x /x',
  'FROM busybox AS unrelated',
  'FROM app',
  'COPY --from=0 /y /y',
  '',
].join('\n'));
const expand = (w: string) => w.replace('$IMG', 'busybox');

test('stage graph: FROM <stage>, COPY --from by name and index, RUN --mount from=', () => {
  const deps = stageDeps(df.stages, expand);
  assert.equal(deps[2]!.base, 0);
  assert.deepEqual([...deps[2]!.stages], [1]);
  assert.deepEqual([...deps[1]!.stages], [0]);
  assert.equal(deps[4]!.base, 2);
  assert.deepEqual([...deps[4]!.stages], [0]);
  assert.deepEqual(neededStages(deps, targetStage(df.stages, undefined)), [0, 1, 2, 4], 'the unrelated stage is skipped');
  assert.deepEqual(neededStages(deps, targetStage(df.stages, 'TOOLS')), [0, 1], 'targets match case-insensitively');
});

test('stage graph errors use dockerd wording', () => {
  assert.throws(() => targetStage(df.stages, 'nope'), /target stage "nope" could not be found/);
  const dup = parseDockerfile('FROM busybox AS a\nFROM busybox AS a\n');
  assert.throws(() => stageDeps(dup.stages, (w) => w), /a stage name already used/);
  const self = parseDockerfile('FROM busybox\nCOPY --from=0 /a /a\n');
  assert.throws(() => stageDeps(self.stages, (w) => w), /refers to current build stage/);
});
