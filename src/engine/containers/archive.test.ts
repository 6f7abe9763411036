import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerPath, mountFor } from './archive.ts';
import { SharedRootfs, type MountableRootfs } from './rootfs-users.ts';

test('containerPath: joined to /, cleaned, trailing "/" and "/." kept', () => {
  assert.equal(containerPath('etc/hosts'), '/etc/hosts');
  assert.equal(containerPath('/etc/../etc/'), '/etc/');
  assert.equal(containerPath('/etc/.'), '/etc/.');
  assert.equal(containerPath('../../x'), '/x');
  assert.equal(containerPath('/'), '/');
  assert.equal(containerPath('.'), '/.');
});

class FakeRootfs implements MountableRootfs {
  mounted = false;
  log: string[] = [];
  async prepare(): Promise<void> {}
  async mount(): Promise<string> { this.log.push('mount'); this.mounted = true; return '/merged'; }
  async unmount(): Promise<void> { this.log.push('unmount'); this.mounted = false; }
  async remove(): Promise<void> {}
  async isMounted(): Promise<boolean> { return this.mounted; }
  async mountedContainers(): Promise<string[]> { return this.mounted ? ['c1'] : []; }
}

test('SharedRootfs: a stopped container is mounted for a user and unmounted after it', async () => {
  const inner = new FakeRootfs();
  const r = new SharedRootfs(inner);
  assert.equal(await r.use('c', async (p) => p), '/merged');
  assert.deepEqual(inner.log, ['mount', 'unmount']);
});

test('SharedRootfs: an exit during a use defers the unmount to the last release; a running one stays mounted', async () => {
  const inner = new FakeRootfs();
  const r = new SharedRootfs(inner);
  await r.mount('c'); // the container starts
  let release!: () => void;
  const using = r.use('c', () => new Promise<void>((res) => { release = res; }));
  await new Promise((res) => setImmediate(res));
  await r.unmount('c'); // it exits while cp runs
  assert.equal(inner.mounted, true);
  release();
  await using;
  assert.equal(inner.mounted, false);
  await r.mount('c');
  await r.use('c', async () => undefined);
  assert.equal(inner.mounted, true, 'a running container keeps its rootfs');
});

test('mountFor: the deepest mount holding a path, and the rest below it', () => {
  const mounts = [{ destination: '/data', source: '/v/data', rw: true }, { destination: '/data/deep/', source: '/v/deep', rw: false }, { destination: '/vol1', source: '/v/1', rw: true }];
  assert.deepEqual(mountFor(mounts, '/vol1'), { mount: mounts[2], rest: '/' });
  assert.deepEqual(mountFor(mounts, '/vol1/'), { mount: mounts[2], rest: '/' });
  assert.deepEqual(mountFor(mounts, '/vol1/.'), { mount: mounts[2], rest: '/.' });
  assert.deepEqual(mountFor(mounts, '/vol1/a/b.txt'), { mount: mounts[2], rest: '/a/b.txt' });
  assert.equal(mountFor(mounts, '/vol10'), undefined);
  assert.equal(mountFor(mounts, '/etc/passwd'), undefined);
  assert.deepEqual(mountFor(mounts, '/data/deep/x'), { mount: mounts[1], rest: '/x' });
  assert.deepEqual(mountFor(mounts, '/data/deeper'), { mount: mounts[0], rest: '/deeper' });
});
