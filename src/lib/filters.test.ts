import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from './errors.ts';
import { checkFilterKeys, matchLabels, matchPruneLabels, parseFilters, pruneUntil } from './filters.ts';

const asObject = (raw: string | null) => Object.fromEntries(parseFilters(raw));
const invalid = (msg: RegExp) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && msg.test(err.message);

test('parseFilters: absent or blank is no filter', () => {
  assert.equal(parseFilters(null).size, 0);
  assert.equal(parseFilters('').size, 0);
  assert.equal(parseFilters('  ').size, 0);
  assert.equal(parseFilters('{}').size, 0);
});

test('parseFilters: the documented list shape', () => {
  assert.deepEqual(asObject('{"label":["a=1","b"],"status":["running"]}'), { label: ['a=1', 'b'], status: ['running'] });
  // Non-string list items are stringified rather than refused.
  assert.deepEqual(asObject('{"exited":[0,3]}'), { exited: ['0', '3'] });
});

test('parseFilters: the Go client map shape {"k":{"v":true}}', () => {
  assert.deepEqual(asObject('{"label":{"a=1":true,"b":true},"dangling":{"true":true}}'), { label: ['a=1', 'b'], dangling: ['true'] });
  // Docker keeps a key whatever its boolean says.
  assert.deepEqual(asObject('{"label":{"x":false}}'), { label: ['x'] });
  assert.deepEqual(asObject('{"label":{}}'), { label: [] });
});

test('parseFilters: malformed input is InvalidParameter', () => {
  assert.throws(() => parseFilters('{"label":'), invalid(/^invalid filter: /));
  assert.throws(() => parseFilters('nope'), invalid(/^invalid filter: /));
  for (const raw of ['[]', '"x"', '3', 'null', 'true']) assert.throws(() => parseFilters(raw), invalid(/^invalid filter: expected a JSON object$/), raw);
  assert.throws(() => parseFilters('{"label":"a=1"}'), invalid(/^invalid filter: values of 'label' must be a list or a map$/));
  assert.throws(() => parseFilters('{"label":null}'), invalid(/values of 'label'/));
  assert.throws(() => parseFilters('{"label":7}'), invalid(/values of 'label'/));
});

test('parseFilters: the cause of a JSON error is kept', () => {
  try { parseFilters('{'); assert.fail('no error'); } catch (err) {
    assert.ok(err instanceof EngineError);
    assert.ok(err.cause instanceof SyntaxError);
  }
});

test('checkFilterKeys: unknown keys are refused with Docker\'s wording', () => {
  checkFilterKeys(parseFilters('{"label":["a"]}'), ['label', 'name']);
  checkFilterKeys(parseFilters(null), []);
  assert.throws(() => checkFilterKeys(parseFilters('{"label":["a"],"colour":["red"]}'), ['label']), invalid(/^invalid filter 'colour'$/));
});

test('matchLabels: key presence and key=value, every one must hold', () => {
  const labels = { a: '1', b: '', 'c=d': 'x', e: 'x=y' };
  assert.equal(matchLabels(labels, undefined), true);
  assert.equal(matchLabels(labels, []), true);
  assert.equal(matchLabels(labels, ['a']), true);
  assert.equal(matchLabels(labels, ['a=1']), true);
  assert.equal(matchLabels(labels, ['a=2']), false);
  assert.equal(matchLabels(labels, ['b']), true);
  assert.equal(matchLabels(labels, ['b=']), true);
  assert.equal(matchLabels(labels, ['z']), false);
  assert.equal(matchLabels(labels, ['a', 'z']), false);
  assert.equal(matchLabels(labels, ['a=1', 'b']), true);
  // The first "=" splits: the value may contain "=".
  assert.equal(matchLabels(labels, ['e=x=y']), true);
  assert.equal(matchLabels(null, ['a']), false);
  assert.equal(matchLabels(undefined, []), true);
  // Inherited properties are not labels.
  assert.equal(matchLabels({}, ['toString']), false);
  assert.equal(matchLabels({}, ['constructor=x']), false);
});

test('matchPruneLabels: label must all match; label! spares only what matches all of its values (dockerd)', () => {
  const f = (o: Record<string, string[]>) => new Map(Object.entries(o));
  assert.equal(matchPruneLabels(f({}), undefined), true);
  assert.equal(matchPruneLabels(f({ label: ['a=1'] }), { a: '1' }), true);
  assert.equal(matchPruneLabels(f({ label: ['a=1'] }), { a: '2' }), false);
  assert.equal(matchPruneLabels(f({ label: ['a=1'] }), {}), false);
  assert.equal(matchPruneLabels(f({ 'label!': ['keep'] }), { keep: '' }), false);
  assert.equal(matchPruneLabels(f({ 'label!': ['keep'] }), {}), true);
  assert.equal(matchPruneLabels(f({ 'label!': ['keep', 'x=1'] }), { keep: 'y' }), true);
  assert.equal(matchPruneLabels(f({ 'label!': ['keep', 'x=1'] }), { keep: 'y', x: '1' }), false);
});

test('pruneUntil: one time bound at most, refused with dockerd\'s words when bad', () => {
  const f = (v: string[]) => new Map([['until', v]]);
  assert.equal(pruneUntil(new Map(), 1000), undefined);
  assert.equal(pruneUntil(f(['1s']), 10_000), 9000);
  assert.throws(() => pruneUntil(f(['1h', '2h'])), invalid(/^more than one until filter specified$/));
  assert.throws(() => pruneUntil(f(['soon'])), invalid(/^invalid value for 'until' filter: /));
});
