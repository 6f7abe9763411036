import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf, messageOf } from '../../lib/errors.ts';
import { buildSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, type SpecInput } from './build-spec.ts';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.ts';
import type { HostDevice } from './devices.ts';
import { specToJson } from './types.ts';

const HOST_CAPS = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
const KMSG: HostDevice = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 };

const base = (over: Partial<SpecInput> = {}): SpecInput => ({
  rootfs: '/var/lib/berth/snapshots/x/merged', args: ['sh', '-c', 'echo hi'], env: ['FOO=bar'], hostname: 'abc123',
  user: { uid: 0, gid: 0, additionalGids: [0, 10] }, hostCapabilities: HOST_CAPS, cgroupsPath: '/berth-t/abc123',
  hostnamePath: '/run/berth/c/hostname', hostsPath: '/run/berth/c/hosts', resolvConfPath: '/run/berth/c/resolv.conf',
  hostRlimits: { nofile: { soft: 20000, hard: 20000 }, core: { soft: 0, hard: Infinity } },
  arch: 'x64', kernel: '6.1.0', ...over,
});
const mount = (s: ReturnType<typeof buildSpec>, dest: string) => s.mounts.find((m) => m.destination === dest);

test('default spec: Docker\'s process, mounts, namespaces and confinement', () => {
  const s = buildSpec(base());
  assert.equal(s.ociVersion, '1.0.2-dev');
  assert.deepEqual(s.root, { path: '/var/lib/berth/snapshots/x/merged', readonly: false });
  assert.equal(s.hostname, 'abc123');
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=abc123', 'FOO=bar']);
  assert.equal(s.process.cwd, '/');
  assert.deepEqual(s.process.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.deepEqual(s.process.capabilities.effective, DEFAULT_CAPABILITIES);
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.equal(s.process.rlimits, undefined, 'no rlimits unless requested');
  assert.equal(s.process.noNewPrivileges, false);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'network', 'pid', 'ipc', 'uts', 'cgroup']);
  assert.equal(s.linux.cgroupsPath, '/berth-t/abc123');
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(s.linux.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(s.linux.readonlyPaths, DEFAULT_READONLY_PATHS);
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm',
    '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  assert.ok(mount(s, '/sys')!.options!.includes('ro'));
  assert.deepEqual(mount(s, '/dev/pts')!.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(mount(s, '/dev/shm')!.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${64 * 1024 * 1024}`]);
  assert.deepEqual(mount(s, '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/run/berth/c/hosts', options: ['rbind', 'rprivate'] });
  const rules = s.linux.resources!.devices!;
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.ok(rules.some((r) => r.type === 'c' && r.major === 136 && r.minor === undefined && r.access === 'rwm'));
  assert.ok(rules.some((r) => r.type === 'c' && r.major === 5 && r.minor === 2));
  assert.equal(s.linux.devices, undefined);
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
  assert.equal(s.linux.resources!.memory, undefined);
  assert.doesNotThrow(() => JSON.parse(specToJson(s)));
});

test('privileged: host caps and devices, no seccomp, no masked paths, /sys rw', () => {
  const s = buildSpec(base({ privileged: true, hostDevices: [KMSG] }));
  assert.deepEqual(s.process.capabilities.bounding, HOST_CAPS);
  assert.ok(!s.process.capabilities.effective.includes('CAP_SYS_RESOURCE'));
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.ok(mount(s, '/sys')!.options!.includes('rw'));
  assert.deepEqual(s.linux.devices, [KMSG]);
  assert.deepEqual(s.linux.resources!.devices, [{ allow: false, access: 'rwm' }, { allow: true, access: 'rwm' }]);
});

test('cap-add ALL and cap-drop shape the set; seccomp follows the caps', () => {
  const all = buildSpec(base({ capAdd: ['ALL'] }));
  assert.equal(all.process.capabilities.effective.length, HOST_CAPS.length);
  assert.ok(all.linux.seccomp!.syscalls!.some((r) => r.names.includes('mount')), 'SYS_ADMIN unlocks mount');
  const dropped = buildSpec(base({ capDrop: ['NET_RAW', 'cap_chown'] }));
  assert.ok(!dropped.process.capabilities.effective.includes('CAP_NET_RAW'));
  assert.ok(!dropped.process.capabilities.effective.includes('CAP_CHOWN'));
  assert.throws(() => buildSpec(base({ capAdd: ['FOO'] })), (e) => messageOf(e) === 'invalid capability: FOO');
});

test('seccomp unconfined and no-new-privileges', () => {
  const s = buildSpec(base({ seccomp: { kind: 'unconfined' }, noNewPrivileges: true }));
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.process.noNewPrivileges, true);
  const custom = buildSpec(base({ seccomp: { kind: 'custom', profile: { defaultAction: 'SCMP_ACT_ALLOW' } } }));
  assert.deepEqual(custom.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
});

test('read-only rootfs also makes the /etc files read-only; tmpfs mounts merge options', () => {
  const s = buildSpec(base({ readonlyRootfs: true, tmpfs: { '/run': '', '/tmp': 'rw,exec,size=64m' } }));
  assert.equal(s.root.readonly, true);
  assert.deepEqual(mount(s, '/etc/hostname')!.options, ['rbind', 'rprivate', 'ro']);
  assert.deepEqual(mount(s, '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev'] });
  assert.deepEqual(mount(s, '/tmp')!.options, ['nosuid', 'nodev', 'rw', 'exec', 'size=64m']);
});

test('user mounts: binds with propagation, shadowing defaults, parents first', () => {
  const s = buildSpec(base({
    mounts: [
      { type: 'bind', source: '/srv/a/b', destination: '/data/sub', readonly: true },
      { type: 'bind', source: '/srv/a', destination: '/data', propagation: 'rshared' },
      { type: 'tmpfs', destination: '/dev/shm', sizeBytes: 1024 },
    ],
    shmSize: 1 << 20,
  }));
  const dests = s.mounts.map((m) => m.destination);
  assert.ok(dests.indexOf('/data') < dests.indexOf('/data/sub'));
  assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
  assert.deepEqual(mount(s, '/dev/shm')!.options, ['nosuid', 'nodev', 'noexec', 'size=1024', 'mode=1777']);
  assert.deepEqual(mount(s, '/data/sub')!.options, ['rbind', 'rprivate', 'ro']);
  assert.equal(s.linux.rootfsPropagation, 'rshared');
  assert.throws(() => buildSpec(base({ mounts: [{ type: 'bind', source: 'rel', destination: '/x' }] })), (e) => kindOf(e) === 'InvalidParameter');
  assert.throws(() => buildSpec(base({ tmpfs: { 'relative': '' } })), (e) => kindOf(e) === 'InvalidParameter');
});

test('ulimits within the host limits; over the hard limit is a clear error', () => {
  const s = buildSpec(base({ ulimits: [{ name: 'nofile', soft: 1024, hard: 20000 }, { name: 'core', soft: -1, hard: -1 }] }));
  assert.deepEqual(s.process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 },
    { type: 'RLIMIT_CORE', soft: 18446744073709551615n, hard: 18446744073709551615n },
  ]);
  assert.match(specToJson(s), /"hard": 18446744073709551615\b/);
  assert.throws(() => buildSpec(base({ ulimits: [{ name: 'nofile', soft: 1048576, hard: 1048576 }] })),
    (e) => kindOf(e) === 'InvalidParameter' && /nofile.*1048576.*maximum 20000/.test(messageOf(e)));
  assert.throws(() => buildSpec(base({ ulimits: [{ name: 'nofiles', soft: 1, hard: 1 }] })), /invalid ulimit type: nofiles/);
  assert.throws(() => buildSpec(base({ ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] })), /soft limit must be less than or equal/);
});

test('namespaces: host and joined modes; no hostname without a private UTS namespace', () => {
  const s = buildSpec(base({ namespaces: { network: 'host', pid: { path: '/proc/42/ns/pid' }, ipc: 'host', uts: 'host', cgroup: 'host' } }));
  assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }, { type: 'pid', path: '/proc/42/ns/pid' }]);
  assert.equal(s.hostname, undefined);
  assert.equal(s.linux.sysctl, undefined, 'no netns sysctls in the host network namespace');
  assert.equal(mount(s, '/dev/shm')!.source, '/dev/shm');
  assert.equal(mount(s, '/dev/mqueue')!.type, 'mqueue', 'host IPC still mounts mqueue: the host may have no /dev/mqueue');
  const joined = buildSpec(base({ namespaces: { network: { path: '/run/berth/netns/x' } } }));
  assert.deepEqual(joined.linux.namespaces[1], { type: 'network', path: '/run/berth/netns/x' });
  assert.equal(buildSpec(base({ namespaces: { uts: { path: '/proc/9/ns/uts' } } })).hostname, undefined);
  assert.throws(() => buildSpec(base({ namespaces: { network: 'host' }, sysctls: { 'net.core.somaxconn': '1024' } })), /not allowed in host network namespace/);
  assert.throws(() => buildSpec(base({ sysctls: { 'vm.swappiness': '1' } })), /is not whitelisted/);
  assert.equal(buildSpec(base({ sysctls: { 'net.core.somaxconn': '1024' } })).linux.sysctl!['net.core.somaxconn'], '1024');
});

test('init wraps the command with /sbin/docker-init', () => {
  const s = buildSpec(base({ init: { path: '/usr/bin/tini-static' } }));
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh', '-c', 'echo hi']);
  assert.deepEqual(mount(s, '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro', 'nosuid', 'nodev'] });
});

test('devices and device cgroup rules', () => {
  const s = buildSpec(base({
    devices: [{ device: { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }, containerPath: '/dev/myfuse', permissions: 'rw' }],
    deviceCgroupRules: ['b 8:* r'],
  }));
  assert.deepEqual(s.linux.devices, [{ path: '/dev/myfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
  const rules = s.linux.resources!.devices!;
  assert.deepEqual(rules.at(-2), { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
  assert.deepEqual(rules.at(-1), { allow: true, type: 'b', major: 8, access: 'r' });
  assert.throws(() => buildSpec(base({ deviceCgroupRules: ['x 1:2 rwm'] })), /invalid device cgroup rule/);
});

test('resources map from Docker fields; only what is set', () => {
  const s = buildSpec(base({ resources: { Memory: 64 << 20, MemoryReservation: 32 << 20, MemorySwappiness: 10, OomKillDisable: true,
    NanoCpus: 1_500_000_000, CpuShares: 512, CpusetCpus: '0', PidsLimit: 100, BlkioWeight: 300 } }));
  assert.deepEqual(s.linux.resources!.memory, { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, disableOOMKiller: true });
  assert.deepEqual(s.linux.resources!.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0' });
  assert.deepEqual(s.linux.resources!.pids, { limit: 100 });
  assert.deepEqual(s.linux.resources!.blockIO, { weight: 300 });
  // Unlimited is left out: crun 1.8 writes -1 verbatim to pids.max, which the kernel refuses.
  assert.equal(buildSpec(base({ resources: { PidsLimit: 0, MemorySwap: -1, Memory: 8 << 20 } })).linux.resources!.pids, undefined);
  assert.throws(() => buildSpec(base({ resources: { Memory: 1024 } })), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => buildSpec(base({ resources: { NanoCpus: 1e9, CpuQuota: 50000 } })), /Conflicting options/);
  assert.throws(() => buildSpec(base({ resources: { Memory: 64 << 20, MemorySwap: 32 << 20 } })), /memoryswap/);
});

test('env: TERM with a tty, user values replace defaults; oom score range', () => {
  const s = buildSpec(base({ terminal: true, env: ['PATH=/bin', 'HOSTNAME=custom'], cwd: '/work', consoleSize: { height: 24, width: 80 } }));
  assert.deepEqual(s.process.env, ['PATH=/bin', 'HOSTNAME=custom', 'TERM=xterm']);
  assert.equal(s.process.cwd, '/work');
  assert.deepEqual(s.process.consoleSize, { height: 24, width: 80 });
  assert.equal(buildSpec(base({ oomScoreAdj: 500 })).process.oomScoreAdj, 500);
  assert.throws(() => buildSpec(base({ oomScoreAdj: 2000 })), /range for oom score adj/);
  assert.throws(() => buildSpec(base({ args: [] })), (e) => kindOf(e) === 'InvalidParameter');
  assert.deepEqual(buildSpec(base({ annotations: { a: 'b' } })).annotations, { a: 'b' });
});

test('systempaths=unconfined and explicit masked paths', () => {
  const s = buildSpec(base({ unconfinedSystemPaths: true }));
  assert.equal(s.linux.maskedPaths, undefined);
  const custom = buildSpec(base({ maskedPaths: ['/proc/x'], readonlyPaths: [] }));
  assert.deepEqual(custom.linux.maskedPaths, ['/proc/x']);
  assert.deepEqual(custom.linux.readonlyPaths, []);
});
