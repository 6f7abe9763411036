import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from './db.ts';
import { IntentLog } from './intents.ts';

test('intents: record, replace, list by kind, clear', (t) => {
  const db = openDb(':memory:');
  t.after(() => db.close());
  const log = new IntentLog(db);
  log.record('container-start', 'b', { prev: 'created' });
  log.record('container-start', 'a', { prev: 'exited' });
  log.record('container-start', 'a', { prev: 'created' });
  log.record('container-starts', 'x', {});
  log.record('network-create', 'n1', { net: { id: 'n1' } });
  assert.deepEqual(log.list('container-start'), [{ id: 'a', data: { prev: 'created' } }, { id: 'b', data: { prev: 'created' } }]);
  assert.deepEqual(log.get('network-create', 'n1'), { net: { id: 'n1' } });
  assert.equal(log.get('network-create', 'n2'), undefined);
  log.clear('container-start', 'a');
  log.clear('container-start', 'nothing');
  assert.deepEqual(log.list('container-start').map((e) => e.id), ['b']);
  assert.deepEqual(log.list('container-starts').map((e) => e.id), ['x']);
});
