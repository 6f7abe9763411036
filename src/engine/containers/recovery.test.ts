import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRecovery, type RecoveryFacts } from './recovery.ts';

const plan = (f: Partial<RecoveryFacts> & Pick<RecoveryFacts, 'status'>) => planRecovery({ starting: false, runtime: null, exitFile: false, ...f });

test('half-made and half-removed containers are discarded; rm -v keeps its volumes flag', () => {
  assert.deepEqual(plan({ status: 'creating' }), { do: 'discard', volumes: true });
  assert.deepEqual(plan({ status: 'removing' }), { do: 'discard', volumes: false });
  assert.deepEqual(plan({ status: 'removing', removing: { volumes: true } }), { do: 'discard', volumes: true });
});

test('a start cut short is undone unless its process runs or has run', () => {
  // Before conmon reported a pid, or with the process still waiting in the runtime's exec fifo.
  for (const status of ['created', 'exited', 'restarting'] as const) {
    for (const runtime of [null, 'created', 'stopped'] as const) assert.deepEqual(plan({ status, starting: true, runtime }), { do: 'undo-start' }, `${status} ${runtime}`);
  }
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: 'created' }), { do: 'undo-start' });
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: 'created', exitFile: true }), { do: 'undo-start' });
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: null }), { do: 'undo-start' });
  // The process was started: it is adopted, or its exit settled.
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: 'running' }), { do: 'adopt', status: 'running' });
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: 'stopped', exitFile: true }), { do: 'exit-file' });
  assert.deepEqual(plan({ status: 'running', starting: true, runtime: null, exitFile: true }), { do: 'exit-file' });
});

test('without intents: adopt the living, settle the dead, restart the restarting, leave the stopped', () => {
  assert.deepEqual(plan({ status: 'running', runtime: 'running' }), { do: 'adopt', status: 'running' });
  assert.deepEqual(plan({ status: 'running', runtime: 'paused' }), { do: 'adopt', status: 'paused' });
  assert.deepEqual(plan({ status: 'paused', runtime: 'paused' }), { do: 'adopt', status: 'paused' });
  assert.deepEqual(plan({ status: 'running', runtime: null, exitFile: true }), { do: 'exit-file' });
  assert.deepEqual(plan({ status: 'running', runtime: 'stopped' }), { do: 'settle' });
  assert.deepEqual(plan({ status: 'paused', runtime: null }), { do: 'settle' });
  assert.deepEqual(plan({ status: 'restarting', runtime: null }), { do: 'restart' });
  for (const status of ['created', 'exited', 'dead'] as const) assert.deepEqual(plan({ status }), { do: 'none' });
});
