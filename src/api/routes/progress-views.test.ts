import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerProgress, outputProgress, progressMessage, type Progress } from '../../lib/progress.ts';
import { toJsonMessage } from './progress-views.ts';

const line = (p: Progress, style?: 'progress' | 'aux') => JSON.stringify(toJsonMessage(p, style));

test('progress events are written as dockerd writes them, key order included', () => {
  assert.equal(line(progressMessage('Pulling from library/busybox', 'latest')), '{"status":"Pulling from library/busybox","id":"latest"}');
  assert.equal(line(progressMessage('Digest: sha256:ab')), '{"status":"Digest: sha256:ab"}');
  assert.equal(line(layerProgress('0123456789ab', 'Pulling fs layer')), '{"status":"Pulling fs layer","progressDetail":{},"id":"0123456789ab"}');
  assert.equal(line(layerProgress('0123456789ab', 'Downloading', { current: 1, total: 2 })),
    '{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"0123456789ab"}');
  assert.equal(line(outputProgress('Loaded image: busybox:latest\n')), '{"stream":"Loaded image: busybox:latest\\n"}');
});

test('results: with a progressDetail from pull and push, without from a build', () => {
  const pushed: Progress = { kind: 'result', aux: { Tag: 'v1', Digest: 'sha256:ab', Size: 3 } };
  assert.equal(line(pushed), '{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:ab","Size":3}}');
  assert.equal(line({ kind: 'result', aux: { ID: 'sha256:ab' } }, 'aux'), '{"aux":{"ID":"sha256:ab"}}');
  assert.equal(line({ kind: 'result', id: 'berth.step', aux: { vertex: '0:0' } }, 'aux'), '{"id":"berth.step","aux":{"vertex":"0:0"}}');
});
