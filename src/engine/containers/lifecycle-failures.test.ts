import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { EngineError, kindOf } from '../../lib/errors.ts';
import { waitFor } from '../../lib/test-support.ts';
import { IntentLog } from '../../store/intents.ts';
import { REMOVE_INTENT, START_INTENT, type RemoveIntent, type StartIntent } from './recovery.ts';
import { ContainerService } from './service.ts';
import { fakeEngine, type FakeEngine } from './test-fakes.ts';

/**
 * The container engine's failure paths, over fakes of every host edge (runtime, monitor, rootfs,
 * network, volumes, cgroups): no root, no crun. What a failure must leave: nothing held on the
 * host, the container in the status the lifecycle table names, the cause logged, never swallowed.
 */

async function serviceOf(t: TestContext, f: FakeEngine): Promise<ContainerService> {
  const svc = new ContainerService(f.deps);
  t.after(() => svc.close());
  await svc.recover();
  return svc;
}

async function created(t: TestContext): Promise<{ f: FakeEngine; svc: ContainerService; id: string }> {
  const f = fakeEngine(t);
  const svc = await serviceOf(t, f);
  const { id } = await svc.create({ Image: 'busybox', Cmd: ['sh'] }, 'c1');
  return { f, svc, id };
}

/** Nothing of the container's run is left on the (fake) host. */
function assertNothingHeld(f: FakeEngine, id: string): void {
  assert.equal(f.rootfs.mounted.has(id), false, 'rootfs unmounted');
  assert.equal(f.network.held.has(id), false, 'network released');
  assert.equal(f.volumes.inUse.has(id), false, 'volumes released');
  assert.equal(f.cgroups.live.has(id), false, 'cgroup released');
  assert.equal(f.runtime.hasState(id), false, 'runtime record deleted');
}

test('start fails after the mount (the spec cannot be written): everything undone, still created, the error in dockerd\'s words', async (t) => {
  const { f, svc, id } = await created(t);
  f.spec.failure = new Error('bad mount option');
  await assert.rejects(svc.start(id), (err: Error) => kindOf(err) === 'Internal'
    && err.message === 'failed to create task for container: OCI runtime create failed: bad mount option: unknown');
  assertNothingHeld(f, id);
  const c = svc.resolve(id);
  assert.equal(c.state.status, 'created');
  assert.equal(c.state.error, 'failed to create task for container: OCI runtime create failed: bad mount option: unknown');
  assert.equal(new IntentLog(f.db).get(START_INTENT, id), undefined, 'start intent cleared');
  assert.equal(f.monitor.launches.length, 0, 'no monitor launched');
});

test('start fails when the mount fails while the network comes up: the network does not stay behind', async (t) => {
  const { f, svc, id } = await created(t);
  f.rootfs.failNext('mount', new Error('overlay: ENOSPC'));
  await assert.rejects(svc.start(id), /overlay: ENOSPC/);
  assertNothingHeld(f, id);
  assert.equal(svc.resolve(id).state.status, 'created');
});

test('start fails after the network (its host side fails once conmon is up): the network error as is, runtime record deleted', async (t) => {
  const { f, svc, id } = await created(t);
  const portTaken = new EngineError('Internal', 'driver failed programming external connectivity on endpoint c1: Bind for 0.0.0.0:80 failed: port is already allocated');
  f.network.readyFailure = portTaken;
  await assert.rejects(svc.start(id), (err) => err === portTaken);
  assertNothingHeld(f, id);
  assert.equal(f.monitor.launches.length, 1);
  assert.equal(svc.isRunning(id), false);
  // conmon had reported the process: the container counts as having run (dockerd: exited, 128).
  assert.equal(svc.resolve(id).state.status, 'exited');
});

test('start fails after `crun create` (start refused): runtime record deleted by force, attaches waiting for the start end', async (t) => {
  const { f, svc, id } = await created(t);
  const attached: (string | null)[] = [];
  svc.whenAttachable(id, async (socket) => { attached.push(socket); });
  f.runtime.failNext('start');
  await assert.rejects(svc.start(id), /start failed/);
  assertNothingHeld(f, id);
  assert.ok(f.runtime.calls.includes(`delete ${id} --force`));
  // The attach connected when conmon came up; a later attach waits for the next start.
  assert.deepEqual(attached, [svc.paths(id).attachSocket]);
  assert.equal(svc.resolve(id).state.status, 'exited');
});

test('start fails at `crun create` (under conmon): dockerd\'s message, exit code 127 for a missing command, InvalidParameter', async (t) => {
  const { f, svc, id } = await created(t);
  f.monitor.failNextLaunch('exec: "nope": executable file not found in $PATH');
  const waiting: (string | null)[] = [];
  svc.whenAttachable(id, async (socket) => { waiting.push(socket); });
  await assert.rejects(svc.start(id), (err: Error) => kindOf(err) === 'InvalidParameter' && /executable file not found/.test(err.message));
  assertNothingHeld(f, id);
  const c = svc.resolve(id);
  assert.equal(c.state.status, 'created');
  assert.equal(c.state.exitCode, 127);
  assert.deepEqual(waiting, [null], 'the attach waiting for this start ends');
});

test('a cleanup that fails while a start is undone is logged with its cause, and the undo goes on', async (t) => {
  const { f, svc, id } = await created(t);
  f.runtime.failNext('start');
  f.runtime.failNext('delete', new Error('crun delete: device busy'));
  await assert.rejects(svc.start(id));
  const logged = f.log.problems('runtime delete');
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.fields['id'], id);
  assert.match(String(logged[0]!.fields['err']), /device busy/);
  assert.equal(f.rootfs.mounted.has(id), false, 'the unmount after it still ran');
});

test('a run, an exit through the exit directory, and a removal leave nothing', async (t) => {
  const { f, svc, id } = await created(t);
  await svc.start(id);
  assert.equal(svc.resolve(id).state.status, 'running');
  assert.equal(f.runtime.statusOf(id), 'running');
  const exit = svc.wait(id, 'not-running');
  await svc.kill(id, 'SIGKILL');
  assert.deepEqual(await exit, { StatusCode: 137, Error: null });
  assert.equal(svc.resolve(id).state.status, 'exited');
  await svc.remove(id);
  assert.throws(() => svc.resolve(id), /No such container/);
  assertNothingHeld(f, id);
  assert.deepEqual(f.volumes.forgotten, [{ id, anonymous: false }]);
});

test('removal when the unmount fails: stays removing, row and intent kept, cause logged; recovery finishes it', async (t) => {
  const { f, svc, id } = await created(t);
  f.rootfs.mounted.add(id); // a cp or export left it mounted
  f.rootfs.failAlways('unmount', new Error('umount: target is busy'));
  await assert.rejects(svc.remove(id, { volumes: true }), (err: Error) => kindOf(err) === 'Internal' && /root filesystem is still mounted/.test(err.message));
  assert.equal(f.db.prepare('SELECT 1 FROM containers WHERE id = ?').get(id) !== undefined, true, 'row kept');
  assert.equal(svc.resolve(id).state.status, 'removing');
  assert.deepEqual(new IntentLog(f.db).get<RemoveIntent>(REMOVE_INTENT, id), { volumes: true });
  assert.equal(f.rootfs.prepared.has(id), true, 'nothing deleted under a mounted rootfs');
  assert.match(String(f.log.problems('unmount rootfs')[0]?.fields['err']), /target is busy/);
  svc.close();
  // The daemon restarts; the unmount works now.
  f.rootfs.heal('unmount');
  const again = await serviceOf(t, f);
  assert.throws(() => again.resolve(id), /No such container/);
  assert.equal(f.rootfs.prepared.has(id), false);
  assert.deepEqual(f.volumes.forgotten, [{ id, anonymous: true }], 'volumes as the rm -v asked');
  assert.equal(new IntentLog(f.db).get(REMOVE_INTENT, id), undefined);
});

test('removal when the cgroup cannot be released: stays removing; a second rm retries it instead of "already in progress"', async (t) => {
  const { f, svc, id } = await created(t);
  f.cgroups.live.add(id);
  f.cgroups.failNext('release', new Error('rmdir: EBUSY'));
  await assert.rejects(svc.remove(id), /cgroup could not be removed/);
  assert.equal(svc.resolve(id).state.status, 'removing');
  assert.equal(f.rootfs.prepared.has(id), true);
  assert.match(String(f.log.problems('release cgroup')[0]?.fields['err']), /EBUSY/);
  await svc.remove(id);
  assert.throws(() => svc.resolve(id), /No such container/);
  assert.equal(f.cgroups.live.has(id), false);
});

test('recovery finds a `creating` row (a create cut short): every trace goes, with its anonymous volumes', async (t) => {
  const { f, svc, id } = await created(t);
  const c = svc.repo.get(id)!;
  svc.repo.saveState(id, { ...c.state, status: 'creating' });
  svc.close();
  await serviceOf(t, f);
  assert.equal(f.db.prepare('SELECT 1 FROM containers WHERE id = ?').get(id), undefined);
  assert.equal(f.rootfs.prepared.has(id), false);
  assert.deepEqual(f.volumes.forgotten, [{ id, anonymous: true }]);
});

test('recovery finds a `removing` row whose cleanup fails again: it stays removing (logged) for the next start', async (t) => {
  const { f, svc, id } = await created(t);
  const c = svc.repo.get(id)!;
  svc.repo.saveState(id, { ...c.state, status: 'removing' });
  new IntentLog(f.db).record(REMOVE_INTENT, id, { volumes: false } satisfies RemoveIntent);
  f.cgroups.failNext('release');
  svc.close();
  const again = await serviceOf(t, f);
  assert.equal(again.resolve(id).state.status, 'removing');
  assert.equal(f.log.problems('recover container').length, 1);
  again.close();
  await serviceOf(t, f);
  assert.equal(f.db.prepare('SELECT 1 FROM containers WHERE id = ?').get(id), undefined);
});

test('recovery finds a pending start (intent recorded, process never started): undone, the state before it restored', async (t) => {
  const { f, svc, id } = await created(t);
  const c = svc.repo.get(id)!;
  // What a daemon that died between `crun create` and `crun start` leaves.
  new IntentLog(f.db).record(START_INTENT, id, { prev: { ...c.state } } satisfies StartIntent);
  await f.rootfs.mount(id);
  await f.monitor.launch(f.runtime, { ...svc.paths(id), id, name: c.name, logPath: null, tty: false, stdin: false, leaveStdinOpen: false, exitDir: '/nowhere' });
  svc.repo.saveState(id, { ...c.state, status: 'running', pid: 1000 });
  svc.close();
  const again = await serviceOf(t, f);
  const after = again.resolve(id);
  assert.equal(after.state.status, 'created');
  assert.equal(after.state.pid, 0);
  assert.equal(again.isRunning(id), false);
  assertNothingHeld(f, id);
  assert.equal(new IntentLog(f.db).get(START_INTENT, id), undefined);
});

test('recovery adopts a running container and settles its exit when conmon reports it', async (t) => {
  const { f, svc, id } = await created(t);
  await svc.start(id);
  svc.close();
  const again = await serviceOf(t, f);
  assert.equal(again.isRunning(id), true);
  f.runtime.exit(id, 3);
  await waitFor('the exit to be settled', () => again.resolve(id).state.status === 'exited', { timeoutMs: 5000 });
  assert.equal(again.resolve(id).state.exitCode, 3);
  assert.equal(f.rootfs.mounted.has(id), false);
  assert.equal(existsSync(`${f.deps.config.execRoot}/exits/${id}`), false, 'exit file consumed');
});

test('the lifecycle table is checked: start of a paused container, pause of a paused one, unpause of a running one', async (t) => {
  const { svc, id } = await created(t);
  await assert.rejects(svc.unpause(id), { message: `Container ${id} is not paused` });
  await svc.start(id);
  await assert.rejects(svc.start(id), (err) => kindOf(err) === 'NotModified');
  await svc.pause(id);
  await assert.rejects(svc.pause(id), { message: `Container ${id} is already paused` });
  await assert.rejects(svc.start(id), { message: 'cannot start a paused container, try unpause instead' });
  await assert.rejects(svc.remove(id), /container is paused and must be unpaused first/);
  await svc.unpause(id);
  await svc.remove(id, { force: true });
  assert.throws(() => svc.resolve(id), /No such container/);
});
