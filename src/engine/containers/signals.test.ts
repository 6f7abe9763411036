import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { normalizeSignal, signalNumberOf } from './signals.ts';

const invalid = (s: string) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === `invalid signal: ${s}`;

test('normalizeSignal: names with or without SIG, any case, surrounding spaces', () => {
  for (const s of ['SIGTERM', 'TERM', 'term', 'sigterm', 'SigTerm', ' TERM ']) assert.equal(normalizeSignal(s), 'SIGTERM', s);
  assert.equal(normalizeSignal('KILL'), 'SIGKILL');
  assert.equal(normalizeSignal('usr1'), 'SIGUSR1');
  assert.equal(normalizeSignal('SIGWINCH'), 'SIGWINCH');
  assert.equal(normalizeSignal('STKFLT'), 'SIGSTKFLT');
});

test('normalizeSignal: numbers map to names; real-time signals pass through by number', () => {
  assert.equal(normalizeSignal('9'), 'SIGKILL');
  assert.equal(normalizeSignal('15'), 'SIGTERM');
  assert.equal(normalizeSignal('1'), 'SIGHUP');
  assert.equal(normalizeSignal('31'), 'SIGSYS');
  assert.equal(normalizeSignal('34'), '34');
  assert.equal(normalizeSignal('64'), '64');
});

test('normalizeSignal: anything else is InvalidParameter with Docker\'s wording', () => {
  for (const s of ['0', 'FOO', 'SIGFOO', '', '-9', '9x', 'SIG', 'RTMIN+31']) assert.throws(() => normalizeSignal(s), invalid(s), JSON.stringify(s));
});

test('normalizeSignal: Docker passes other numbers through and knows the aliases and real-time names', () => {
  assert.equal(normalizeSignal('32'), '32');
  assert.equal(normalizeSignal('65'), '65');
  assert.equal(normalizeSignal('IOT'), 'SIGABRT');
  assert.equal(normalizeSignal('SIGCLD'), 'SIGCHLD');
  assert.equal(normalizeSignal('POLL'), 'SIGIO');
  assert.equal(normalizeSignal('RTMIN'), '34');
  assert.equal(normalizeSignal('RTMIN+2'), '36');
  assert.equal(normalizeSignal('SIGRTMAX-1'), '63');
});

test('signalNumberOf: names to numbers, numeric names as is', () => {
  assert.equal(signalNumberOf('SIGKILL'), 9);
  assert.equal(signalNumberOf('SIGTERM'), 15);
  assert.equal(signalNumberOf('40'), 40);
  for (const s of ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'TERM', 'CHLD', 'CONT', 'STOP', 'WINCH']) {
    assert.equal(signalNumberOf(normalizeSignal(s)), (({ HUP: 1, INT: 2, QUIT: 3, USR1: 10, USR2: 12, TERM: 15, CHLD: 17, CONT: 18, STOP: 19, WINCH: 28 }) as Record<string, number>)[s], s);
  }
});
