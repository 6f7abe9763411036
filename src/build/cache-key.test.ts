import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKey } from './cache-key.ts';

test('cache keys: stable under key order, sensitive to parent, instruction and source checksums', () => {
  const a = cacheKey('sha256:p', { createdBy: 'x', sum: 'abc', chown: undefined });
  assert.equal(a, cacheKey('sha256:p', { sum: 'abc', createdBy: 'x' }), 'key order and undefined fields do not matter');
  assert.match(a, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(a, cacheKey('sha256:q', { createdBy: 'x', sum: 'abc' }), 'another parent');
  assert.notEqual(a, cacheKey('sha256:p', { createdBy: 'y', sum: 'abc' }), 'another instruction');
  assert.notEqual(a, cacheKey('sha256:p', { createdBy: 'x', sum: 'abd' }), 'another content');
  assert.notEqual(cacheKey(null, { createdBy: 'x' }), cacheKey('sha256:p', { createdBy: 'x' }), 'scratch is a parent of its own');
});
