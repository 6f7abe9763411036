import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf } from '../../lib/errors.ts';
import { DEFAULT_CAPABILITIES } from './capabilities.ts';
import { CLONE_NAMESPACE_FLAGS, defaultSeccomp } from './seccomp-default.ts';
import { fromDockerSeccomp, kernelAtLeast, type DockerSeccompProfile } from './seccomp-docker.ts';
import type { OciSeccomp } from './types.ts';

const allowed = (s: OciSeccomp) => new Set(s.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));

test('default profile: EPERM by default, x86 ABIs', () => {
  const s = defaultSeccomp(DEFAULT_CAPABILITIES, 'x64');
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
});

test('default profile allows what modern libcs and runtimes need', () => {
  const a = allowed(defaultSeccomp(DEFAULT_CAPABILITIES, 'x64'));
  for (const name of ['read', 'openat', 'statx', 'openat2', 'faccessat2', 'close_range', 'epoll_pwait2', 'rseq', 'getrandom',
    'memfd_create', 'copy_file_range', 'pidfd_open', 'pidfd_send_signal', 'pidfd_getfd', 'futex', 'execveat']) {
    assert.ok(a.has(name), name);
  }
  assert.ok(a.has('ptrace'), 'ptrace stays allowed (kernel >= 4.8)');
  assert.ok(a.has('chroot'), 'CAP_SYS_CHROOT is in the default set');
});

test('default profile denies host-reconfiguring calls without the capability', () => {
  const a = allowed(defaultSeccomp(DEFAULT_CAPABILITIES, 'x64'));
  for (const name of ['unshare', 'mount', 'umount2', 'pivot_root', 'setns', 'keyctl', 'add_key', 'request_key', 'reboot',
    'swapon', 'swapoff', 'init_module', 'finit_module', 'kexec_load', 'bpf', 'perf_event_open', 'clock_settime',
    'settimeofday', 'acct', 'open_by_handle_at', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'personality', 'clone']) {
    assert.ok(!a.has(name), name);
  }
});

test('clone is allowed only without namespace flags; clone3 answers ENOSYS', () => {
  const s = defaultSeccomp(DEFAULT_CAPABILITIES, 'x64');
  const clone = s.syscalls!.find((r) => r.names.includes('clone'));
  assert.deepEqual(clone?.args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000);
  const clone3 = s.syscalls!.find((r) => r.names.includes('clone3'));
  assert.deepEqual(clone3, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  const personality = s.syscalls!.filter((r) => r.names.includes('personality')).map((r) => r.args![0]!.value);
  assert.deepEqual(personality, [0, 8, 0x20000, 0x20008, 0xffffffff]);
});

test('capabilities unlock their calls', () => {
  const admin = defaultSeccomp([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64');
  const a = allowed(admin);
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3']) assert.ok(a.has(name), name);
  assert.equal(admin.syscalls!.filter((r) => r.names.includes('clone')).length, 1, 'no clone filter with SYS_ADMIN');
  assert.ok(allowed(defaultSeccomp(['CAP_SYS_TIME'], 'x64')).has('clock_settime'));
  assert.ok(allowed(defaultSeccomp(['CAP_SYS_MODULE'], 'x64')).has('init_module'));
  assert.ok(allowed(defaultSeccomp(['CAP_SYS_BOOT'], 'x64')).has('reboot'));
  assert.ok(!allowed(defaultSeccomp(['CAP_SYS_BOOT'], 'x64')).has('chroot'));
});

test('kernelAtLeast compares major.minor', () => {
  assert.ok(kernelAtLeast('6.18.44-fc', '4.8'));
  assert.ok(kernelAtLeast('4.8.0', '4.8'));
  assert.ok(!kernelAtLeast('4.7.10', '4.8'));
  assert.ok(!kernelAtLeast('3.19', '4.8'));
});

const profile: DockerSeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { name: 'getpid', action: 'SCMP_ACT_ALLOW', args: null },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['s390_only'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390x'] } },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] },
      args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['old'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { minKernel: '5.0' } },
  ],
};

test('docker profile: archMap picks the host arch, rules follow includes/excludes', () => {
  const s = fromDockerSeccomp(profile, { caps: ['CAP_CHOWN'], arch: 'x64', kernel: '6.1.0' });
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  const names = s.syscalls!.map((r) => r.names.join(','));
  assert.deepEqual(names, ['read,write', 'getpid', 'ptrace', 'arch_prctl', 'clone']);
  assert.deepEqual(s.syscalls![4]!.args, [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
});

test('docker profile: caps and old kernels change the rule set', () => {
  const s = fromDockerSeccomp(profile, { caps: ['CAP_SYS_ADMIN'], arch: 'arm64', kernel: '4.4.0' });
  assert.deepEqual(s.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(s.syscalls!.map((r) => r.names[0]), ['read', 'getpid', 'mount', 'old']);
  assert.equal(s.syscalls![3]!.errnoRet, 38);
});

test('docker profile: malformed profiles are InvalidParameter', () => {
  const host = { caps: [], arch: 'x64', kernel: '6.1' };
  const bad: unknown[] = [
    { syscalls: [] },
    { defaultAction: 'SCMP_ACT_NOPE' },
    { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] },
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] },
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }] },
  ];
  for (const p of bad) assert.throws(() => fromDockerSeccomp(p as DockerSeccompProfile, host), (e) => kindOf(e) === 'InvalidParameter', JSON.stringify(p));
});
