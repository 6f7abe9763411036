import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADJECTIVES, generateName, randomName, SURNAMES } from './names.ts';

/** A random source that returns the given values in turn (then repeats the last). */
const seq = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
};
const at = (list: readonly string[], word: string): number => (list.indexOf(word) + 0.5) / list.length;

test('word lists: about 100 adjectives and 150 surnames, unique, lowercase ASCII', () => {
  assert.ok(ADJECTIVES.length >= 100, `${ADJECTIVES.length} adjectives`);
  assert.ok(SURNAMES.length >= 150, `${SURNAMES.length} surnames`);
  for (const list of [ADJECTIVES, SURNAMES]) {
    assert.equal(new Set(list).size, list.length);
    for (const w of list) assert.match(w, /^[a-z]+$/);
  }
});

test('names look like docker\'s and are valid container names', () => {
  for (let i = 0; i < 200; i++) assert.match(generateName(() => false), /^[a-z]+_[a-z]+$/);
});

test('boring_wozniak is never produced', () => {
  const random = seq(at(ADJECTIVES, 'boring'), at(SURNAMES, 'wozniak'), at(ADJECTIVES, 'boring'), at(SURNAMES, 'turing'));
  assert.equal(randomName(0, random), 'boring_turing');
});

test('after a collision the retries carry a digit suffix', () => {
  const taken = new Set<string>();
  const first = generateName(() => false, { random: seq(at(ADJECTIVES, 'distracted'), at(SURNAMES, 'meitner')) });
  assert.equal(first, 'distracted_meitner');
  taken.add(first);
  const second = generateName((n) => taken.has(n), { random: seq(at(ADJECTIVES, 'distracted'), at(SURNAMES, 'meitner'), at(ADJECTIVES, 'distracted'), at(SURNAMES, 'meitner'), 0.35) });
  assert.equal(second, 'distracted_meitner3');
});

test('after six collisions the fallback (docker: the short ID) is used', () => {
  const seen: string[] = [];
  const name = generateName((n) => { seen.push(n); return true; }, { fallback: '4f66ad9a0b2e' });
  assert.equal(name, '4f66ad9a0b2e');
  assert.equal(seen.length, 6);
  assert.match(seen[0]!, /^[a-z]+_[a-z]+$/);
  for (const n of seen.slice(1)) assert.match(n, /^[a-z]+_[a-z]+\d$/);
});

test('without a fallback it keeps looking with longer suffixes', () => {
  let calls = 0;
  const name = generateName(() => ++calls <= 6);
  assert.match(name, /^[a-z]+_[a-z]+\d+$/);
});
