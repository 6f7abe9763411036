import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { cachePrunePredicate, type CacheEntry } from './cache-prune.ts';

const NOW = Date.UTC(2024, 0, 2);
const old: CacheEntry = { key: 'k1', imageId: 'sha256:aaa111', parentId: 'sha256:p1', createdAt: new Date(NOW - 48 * 3600_000).toISOString() };
const fresh: CacheEntry = { key: 'k2', imageId: 'sha256:bbb222', parentId: 'sha256:p2', createdAt: new Date(NOW - 60_000).toISOString() };
const pick = (f: string) => [old, fresh].filter(cachePrunePredicate(parseFilters(f), NOW)).map((e) => e.key);
const invalid = (re: RegExp) => (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter' && re.test(e.message);

test('builder prune filters: until (and unused-for), id, parent; label ignored as dockerd does', () => {
  assert.deepEqual(pick('{}'), ['k1', 'k2']);
  assert.deepEqual(pick('{"until":["24h"]}'), ['k1']);
  assert.deepEqual(pick('{"unused-for":["24h"]}'), ['k1']);
  assert.deepEqual(pick('{"id":["bbb"]}'), ['k2']);
  assert.deepEqual(pick('{"parent":["sha256:p1"]}'), ['k1']);
  assert.deepEqual(pick('{"label":["x=y"]}'), ['k1', 'k2']);
  assert.deepEqual(pick('{"type":["regular"],"private":["true"],"inuse":["false"]}'), ['k1', 'k2']);
  assert.deepEqual(pick('{"type":["exec.cachemount"]}'), []);
  assert.deepEqual(pick('{"shared":["true"]}'), []);
  assert.deepEqual(pick('{"inuse":[""]}'), []);
});

test('builder prune filters: unknown keys, two values, until with unused-for are refused', () => {
  assert.throws(() => pick('{"dangling":["true"]}'), invalid(/^invalid filter 'dangling'$/));
  assert.throws(() => pick('{"id":["a","b"]}'), invalid(/only one value/));
  assert.throws(() => pick('{"until":["1h"],"unused-for":["2h"]}'), invalid(/conflicting/));
  assert.throws(() => pick('{"until":["x"]}'), invalid(/until/));
});
