import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toApiBuildCachePrune } from './build-views.ts';

test('build cache prune: dockerd\'s bytes, CachesDeleted null when nothing went', () => {
  assert.equal(JSON.stringify(toApiBuildCachePrune({ deleted: [], reclaimed: 0 })), '{"CachesDeleted":null,"SpaceReclaimed":0}');
  assert.equal(JSON.stringify(toApiBuildCachePrune({ deleted: ['sha256:a', 'sha256:b'], reclaimed: 0 })), '{"CachesDeleted":["sha256:a","sha256:b"],"SpaceReclaimed":0}');
});
