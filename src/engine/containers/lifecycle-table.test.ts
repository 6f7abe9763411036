import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf } from '../../lib/errors.ts';
import { TRANSITIONS, assertCan, can, moveTo, type LifecycleEvent } from './lifecycle-table.ts';
import { initialState, type ContainerRecord, type ContainerStatus } from './record.ts';

const ID = 'f'.repeat(64);
const inStatus = (status: ContainerStatus): ContainerRecord => ({
  id: ID, name: 'web', imageId: 'sha256:x', imageRef: 'busybox', createdAt: '', config: {}, hostConfig: {},
  runtime: 'crun', restartCount: 0, state: { ...initialState(), status },
});

test('lifecycle table: no event leaves a removal or reaches creating; dead is never a target', () => {
  for (const [event, rule] of Object.entries(TRANSITIONS)) {
    assert.ok(!(rule.to as readonly string[]).includes('creating'), `${event} reaches creating`);
    assert.ok(!(rule.to as readonly string[]).includes('dead'), `${event} reaches dead`);
    if (event !== 'remove' && event !== 'force-remove') assert.ok(!(rule.from as readonly string[]).includes('removing'), `${event} leaves removing`);
  }
});

test('lifecycle table: start from created or exited only; the refusals in dockerd\'s words', () => {
  assert.ok(can('start', 'created') && can('start', 'exited'));
  const refusedWith = (status: ContainerStatus, event: LifecycleEvent) => {
    try { assertCan(event, inStatus(status)); } catch (err) { return `${kindOf(err)}: ${(err as Error).message}`; }
    return 'allowed';
  };
  assert.equal(refusedWith('running', 'start'), 'NotModified: container already started');
  assert.equal(refusedWith('restarting', 'start'), 'NotModified: container already started');
  assert.equal(refusedWith('paused', 'start'), 'Conflict: cannot start a paused container, try unpause instead');
  assert.equal(refusedWith('removing', 'start'), 'Conflict: container is marked for removal and cannot be started');
  assert.equal(refusedWith('paused', 'pause'), `Conflict: Container ${ID} is already paused`);
  assert.equal(refusedWith('exited', 'pause'), `Conflict: Container ${ID} is not running`);
  assert.equal(refusedWith('running', 'unpause'), `Conflict: Container ${ID} is not paused`);
  assert.equal(refusedWith('running', 'remove'), 'Conflict: cannot remove container "/web": container is running: stop the container before removing or force remove');
  assert.equal(refusedWith('removing', 'remove'), 'allowed');
});

test('lifecycle table: moveTo takes only the moves an event names; anything else is an engine bug (Internal)', () => {
  const c = inStatus('running');
  moveTo(c, 'exit', 'restarting');
  assert.equal(c.state.status, 'restarting');
  assert.throws(() => moveTo(c, 'pause', 'paused'), (err) => kindOf(err) === 'Internal');
  assert.throws(() => moveTo(inStatus('running'), 'exit', 'created'), (err) => kindOf(err) === 'Internal');
  assert.equal(c.state.status, 'restarting', 'a refused move changes nothing');
});
