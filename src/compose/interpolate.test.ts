import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterpolationError, interpolate, interpolateTree } from './interpolate.ts';

const env: Record<string, string> = { TAG: '1.2', EMPTY: '', HOST: 'db' };
const lookup = (n: string) => env[n];
const i = (s: string) => interpolate(s, lookup);

test('plain and braced variables, and $$ for a dollar', () => {
  assert.equal(i('web:$TAG'), 'web:1.2');
  assert.equal(i('web:${TAG}-x'), 'web:1.2-x');
  assert.equal(i('cost $$5 and $$TAG'), 'cost $5 and $TAG');
  assert.equal(i('no variables'), 'no variables');
});

test('defaults: :- for unset or empty, - for unset only', () => {
  assert.equal(i('${NOPE:-d}'), 'd');
  assert.equal(i('${EMPTY:-d}'), 'd');
  assert.equal(i('${EMPTY-d}'), '');
  assert.equal(i('${NOPE-d}'), 'd');
  assert.equal(i('${TAG:-d}'), '1.2');
});

test('required: :? for unset or empty, ? for unset only, with the message', () => {
  assert.throws(() => i('${NOPE:?set NOPE}'), /required variable NOPE is missing a value: set NOPE/);
  assert.throws(() => i('${EMPTY:?must be set}'), InterpolationError);
  assert.equal(i('${EMPTY?x}'), '');
  assert.throws(() => i('${NOPE?x}'), /required variable NOPE/);
});

test('replacements: :+ when set and non-empty, + when set', () => {
  assert.equal(i('${TAG:+yes}'), 'yes');
  assert.equal(i('${EMPTY:+yes}'), '');
  assert.equal(i('${EMPTY+yes}'), 'yes');
  assert.equal(i('${NOPE+yes}'), '');
});

test('defaults nest further interpolations', () => {
  assert.equal(i('${NOPE:-${HOST}:5432}'), 'db:5432');
  assert.equal(i('${NOPE:-${ALSO:-x}}'), 'x');
});

test('an unset variable without a default is blank and reported', () => {
  const unset: string[] = [];
  assert.equal(interpolate('a${NOPE}b$OTHER', lookup, { onUnset: (n) => unset.push(n) }), 'ab');
  assert.deepEqual(unset, ['NOPE', 'OTHER']);
});

test('malformed templates are refused', () => {
  for (const bad of ['${', '${TAG', '${}', '${1A}', '$', 'a $-b', '${TAG!x}']) {
    assert.throws(() => i(bad), /invalid template/, bad);
  }
});

test('interpolateTree: every string value, keys kept, errors name the key path', () => {
  const doc = { services: { web: { image: 'app:${TAG}', ports: ['${PORT:-8080}:80'], labels: { '$KEEP': '$HOST' }, scale: 2 } } };
  assert.deepEqual(interpolateTree(doc, lookup), { services: { web: { image: 'app:1.2', ports: ['8080:80'], labels: { '$KEEP': 'db' }, scale: 2 } } });
  assert.throws(() => interpolateTree({ services: { web: { ports: ['80', '${P:?no port}'] } } }, lookup), /^Error: services\.web\.ports\[1\]: required variable P is missing a value: no port$|services\.web\.ports\[1\]: required variable P/);
});
