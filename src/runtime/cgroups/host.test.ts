import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kindOf } from '../../lib/errors.ts';
import { cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from './host.ts';

// The dev/CI machine, as /proc/self/mountinfo shows it (hybrid, hugetlb still on v2).
const HYBRID_MOUNTINFO = `23 1 0:21 / /sys rw,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// A systemd v1 host as /proc/mounts shows it: co-mounted controllers.
const V1_MOUNTS = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/net_cls,net_prio cgroup rw,nosuid,nodev,noexec,relatime,net_cls,net_prio 0 0
cgroup /sys/fs/cgroup/hugetlb cgroup rw,nosuid,nodev,noexec,relatime,hugetlb 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
`;

const V2_MOUNTINFO = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';

test('hybrid layout from mountinfo', () => {
  const l = detectCgroups(HYBRID_MOUNTINFO);
  assert.equal(l.version, 'hybrid');
  assert.equal(l.unifiedMount, '/sys/fs/cgroup/unified');
  assert.equal(l.v1Controllers.get('memory'), '/sys/fs/cgroup/memory');
  assert.equal(l.v1Controllers.get('name=systemd'), '/sys/fs/cgroup/systemd');
  assert.equal(l.hugetlbOnV1, false);
  assert.equal(l.v1Controllers.size, 9);
});

test('v1 layout from /proc/mounts with co-mounted controllers', () => {
  const l = detectCgroups(V1_MOUNTS);
  assert.equal(l.version, 1);
  assert.equal(l.unifiedMount, undefined);
  assert.equal(l.v1Controllers.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1Controllers.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1Controllers.get('net_prio'), '/sys/fs/cgroup/net_cls,net_prio');
  assert.ok(!l.v1Controllers.has('xattr') && !l.v1Controllers.has('relatime'));
  assert.equal(l.hugetlbOnV1, true);
});

test('v2 layout', () => {
  const l = detectCgroups(V2_MOUNTINFO);
  assert.equal(l.version, 2);
  assert.equal(l.unifiedMount, '/sys/fs/cgroup');
  assert.equal(l.v1Controllers.size, 0);
});

test('cgroupPathsFor lists one directory per hierarchy', () => {
  const paths = cgroupPathsFor('/berth-x/abc', detectCgroups(V1_MOUNTS));
  assert.deepEqual(paths, ['/sys/fs/cgroup/systemd/berth-x/abc', '/sys/fs/cgroup/cpu,cpuacct/berth-x/abc',
    '/sys/fs/cgroup/net_cls,net_prio/berth-x/abc', '/sys/fs/cgroup/hugetlb/berth-x/abc', '/sys/fs/cgroup/memory/berth-x/abc']);
  assert.equal(cgroupPathsFor('/berth-x/abc', detectCgroups(HYBRID_MOUNTINFO)).length, 10);
  assert.deepEqual(cgroupPathsFor('/berth-x/abc', detectCgroups(V2_MOUNTINFO)), ['/sys/fs/cgroup/berth-x/abc']);
  for (const bad of ['relative', 'system.slice:berth:abc', '/', '/a/../..']) {
    assert.throws(() => cgroupPathsFor(bad, detectCgroups(V2_MOUNTINFO)), (e) => kindOf(e) === 'InvalidParameter', bad);
  }
});

test('removeCgroup removes children first and ignores missing directories', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cgtest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'a/b/c'), { recursive: true });
  await mkdir(join(dir, 'a/d'), { recursive: true });
  await removeCgroup([join(dir, 'a'), join(dir, 'missing')]);
  await assert.rejects(stat(join(dir, 'a')), /ENOENT/);
});

test('ensureRuntimeCanRun mounts each controller left on the hybrid v2 hierarchy as v1, once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cgtest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'unified'));
  await writeFile(join(dir, 'unified/cgroup.controllers'), 'hugetlb\n');
  await writeFile(join(dir, 'unified/cgroup.subtree_control'), '');
  const info = HYBRID_MOUNTINFO.replace('/sys/fs/cgroup/unified', join(dir, 'unified'));
  await writeFile(join(dir, 'mountinfo'), info);
  const calls: string[][] = [];
  const okExec = async (file: string, args: readonly string[]) => { calls.push([file, ...args]); return { exitCode: 0, stdout: '', stderr: '' }; };
  const r = await ensureRuntimeCanRun(okExec, { mountsPath: join(dir, 'mountinfo') });
  assert.deepEqual(r.moved, ['hugetlb']);
  assert.deepEqual(calls, [['mount', '-t', 'cgroup', '-o', 'hugetlb', 'cgroup', join(dir, 'hugetlb')]]);

  // Once hugetlb has a v1 mount there is nothing to do.
  await writeFile(join(dir, 'mountinfo'), `${info}42 31 0:39 / ${join(dir, 'hugetlb')} rw - cgroup cgroup rw,hugetlb\n`);
  calls.length = 0;
  assert.deepEqual((await ensureRuntimeCanRun(okExec, { mountsPath: join(dir, 'mountinfo') })).moved, []);
  assert.deepEqual(calls, []);

  // A controller that cannot move is Unavailable, with the reason.
  await writeFile(join(dir, 'mountinfo'), info);
  const failExec = async () => ({ exitCode: 32, stdout: '', stderr: 'mount: cgroup already mounted or busy' });
  await assert.rejects(ensureRuntimeCanRun(failExec, { mountsPath: join(dir, 'mountinfo') }),
    (e) => kindOf(e) === 'Unavailable' && /hugetlb.*busy/.test((e as Error).message));
  // Pure v1 and v2 hosts need nothing.
  await writeFile(join(dir, 'mountinfo'), V2_MOUNTINFO);
  assert.deepEqual((await ensureRuntimeCanRun(failExec, { mountsPath: join(dir, 'mountinfo') })).moved, []);
});
