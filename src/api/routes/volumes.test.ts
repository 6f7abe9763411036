import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '../../lib/filters.ts';
import { pruneFiltersFor } from './volumes.ts';

test('volume prune: clients below API 1.42 prune every unused volume (all=true), newer ones only anonymous ones', () => {
  const f = parseFilters('{"label":["a=1"]}');
  assert.deepEqual(Object.fromEntries(pruneFiltersFor('1.41', f)), { label: ['a=1'], all: ['true'] });
  assert.deepEqual(Object.fromEntries(pruneFiltersFor('1.24', new Map())), { all: ['true'] });
  assert.equal(pruneFiltersFor('1.42', f), f);
  assert.equal(pruneFiltersFor('1.47', f), f);
  // An old client's own all=false meets dockerd's all=true: two values, which the engine refuses.
  assert.deepEqual(pruneFiltersFor('1.41', parseFilters('{"all":["false"]}')).get('all'), ['false', 'true']);
});
