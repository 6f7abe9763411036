// Integration check (root): berth-helper's seccomp-bpf builds the very program crun 1.8.1 builds,
// crun loads the annotation instead of compiling, and the filter behaves the same on both paths.
// Also times `crun create` with and without the annotation (printed, not asserted).
// Containers run under their own --root state dir and a unique cgroup parent; everything is removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFile } from '../../src/lib/exec.ts';
import { NativeHelper, defaultHelperPath } from '../../src/lib/native-helper.ts';
import { cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from '../../src/runtime/cgroups/host.ts';
import { buildSpec, type SpecInput } from '../../src/runtime/spec/build-spec.ts';
import { readHostCapabilities } from '../../src/runtime/spec/host-info.ts';
import { SECCOMP_BPF_ANNOTATION, seccompToLines } from '../../src/runtime/spec/seccomp-bpf.ts';
import { CLONE_NAMESPACE_FLAGS, seccompArchitectures } from '../../src/runtime/spec/seccomp-default.ts';
import { specToJson, type OciSeccomp, type OciSpec } from '../../src/runtime/spec/types.ts';
import { requireRoot, deferrer } from '../../src/lib/test-support.ts';

const prefix = `/berth-bpftest-${randomBytes(4).toString('hex')}`;
const helper = new NativeHelper({ path: defaultHelperPath() });

/** Arg filters of every shape crun handles: masked flags, several conditions on one argument
 * (crun then adds one rule per condition), two arguments, errnoRet, unknown names, a rule whose
 * action is the default (skipped). */
const CUSTOM: OciSeccomp = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: seccompArchitectures(process.arch),
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'no_such_syscall'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0x20000000, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 0x20008, op: 'SCMP_CMP_GT' }, { index: 0, value: 0xffffffff, op: 'SCMP_CMP_NE' }] },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_EQ' }] },
    { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ],
};



/**
 * A bundle dir whose rootfs is busybox, or (glibc) the host's /usr and /etc bound read-only, for
 * python3 and util-linux's unshare. Returns the dir and a spec input for `script`.
 */
async function bundle(defer: (fn: () => Promise<unknown>) => void, kind: 'busybox' | 'glibc', script: string): Promise<{ dir: string; input: SpecInput }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bpftest-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  const input: SpecInput = {
    rootfs, args: ['/bin/sh', '-c', script], env: ['PATH=/usr/bin:/bin'], hostname: 'bpftest', user: { uid: 0, gid: 0, additionalGids: [0] },
    hostCapabilities: await readHostCapabilities(), cgroupsPath: '',
  };
  if (kind === 'busybox') {
    for (const d of ['bin', 'tmp', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
    for (const a of ['sh', 'echo', 'true', 'mkdir']) await symlink('busybox', join(rootfs, 'bin', a));
  } else {
    for (const d of ['usr', 'etc', 'tmp', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${l}`, join(rootfs, l));
    input.tmpfs = { '/tmp': 'rw' };
    input.mounts = [
      { type: 'bind', source: '/usr', destination: '/usr', readonly: true },
      { type: 'bind', source: '/etc', destination: '/etc', readonly: true },
    ];
  }
  return { dir, input };
}

/** Writes config.json for a fresh container id; `annotate` adds the precompiled program. */
async function writeConfig(dir: string, input: SpecInput, id: string, opts: { seccomp?: OciSeccomp; annotation?: Buffer } = {}): Promise<OciSpec> {
  const spec = buildSpec({ ...input, cgroupsPath: `${prefix}/${id}` });
  if (opts.seccomp) spec.linux.seccomp = opts.seccomp;
  if (opts.annotation) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: opts.annotation.toString('base64') };
  await writeFile(join(dir, 'config.json'), specToJson(spec));
  return spec;
}

function cleanupContainer(defer: (fn: () => Promise<unknown>) => void, state: string, id: string): void {
  defer(async () => {
    await execFile('crun', ['--root', state, 'delete', '-f', id]);
    const layout = detectCgroups(await readFile('/proc/self/mountinfo', 'utf8'));
    await removeCgroup(cgroupPathsFor(`${prefix}/${id}`, layout));
    await removeCgroup(cgroupPathsFor(prefix, layout));
  });
}

/** `crun create` (the container then waits on its exec fifo); resolves with the milliseconds it took. */
async function crunCreate(state: string, dir: string, id: string): Promise<number> {
  const log = join(dir, `crun-${id}.log`);
  const t0 = process.hrtime.bigint();
  // stdio to /dev/null: the created container keeps crun's stdio open until it is deleted.
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('crun', ['--root', state, '--log', log, 'create', '--bundle', dir, id], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c ?? 1));
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(code, 0, await readFile(log, 'utf8').catch(() => 'crun create failed'));
  return ms;
}

/** The program crun compiled (or copied) for a created container: <state>/<id>/seccomp.bpf. */
async function crunProgram(defer: (fn: () => Promise<unknown>) => void, dir: string, input: SpecInput, opts: { seccomp?: OciSeccomp; annotation?: Buffer } = {}): Promise<{ spec: OciSpec; program: Buffer }> {
  const id = `bpf-${randomBytes(4).toString('hex')}`;
  const state = join(dir, 'state');
  const spec = await writeConfig(dir, input, id, opts);
  cleanupContainer(defer, state, id);
  await crunCreate(state, dir, id);
  const program = await readFile(join(state, id, 'seccomp.bpf'));
  await execFile('crun', ['--root', state, 'delete', '-f', id]);
  return { spec, program };
}

async function crunRun(defer: (fn: () => Promise<unknown>) => void, dir: string, input: SpecInput, opts: { annotation?: Buffer }): Promise<string> {
  const id = `bpfrun-${randomBytes(4).toString('hex')}`;
  const state = join(dir, 'state');
  await writeConfig(dir, input, id, opts);
  cleanupContainer(defer, state, id);
  const r = await execFile('crun', ['--root', state, 'run', '--bundle', dir, id]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  return r.stdout + r.stderr;
}

test('the helper compiles byte for byte what crun compiles (default and custom profiles)', async (t) => {
  if (!requireRoot(t)) return;
  await ensureRuntimeCanRun(execFile);
  const defer = deferrer(t);
  const { dir, input } = await bundle(defer, 'busybox', 'true');

  const dflt = await crunProgram(defer, dir, input);
  assert.ok(dflt.spec.linux.seccomp, 'default spec has seccomp');
  const ours = await helper.compileSeccomp(seccompToLines(dflt.spec.linux.seccomp!));
  assert.ok(ours.length > 64 && ours.length % 8 === 0);
  assert.ok(ours.equals(dflt.program), `default profile: helper ${ours.length} bytes, crun ${dflt.program.length} bytes`);

  const custom = await crunProgram(defer, dir, input, { seccomp: CUSTOM });
  const oursCustom = await helper.compileSeccomp(seccompToLines(CUSTOM));
  assert.ok(oursCustom.equals(custom.program), `custom profile: helper ${oursCustom.length} bytes, crun ${custom.program.length} bytes`);
  assert.ok(!oursCustom.equals(ours));

  // With SYS_ADMIN the default profile differs (clone unrestricted, mount allowed): still identical.
  const admin = await crunProgram(defer, dir, { ...input, capAdd: ['SYS_ADMIN'] });
  assert.ok((await helper.compileSeccomp(seccompToLines(admin.spec.linux.seccomp!))).equals(admin.program));
});

test('with the annotation crun loads the given program and does not compile linux.seccomp', async (t) => {
  if (!requireRoot(t)) return;
  await ensureRuntimeCanRun(execFile);
  const defer = deferrer(t);
  const { dir, input } = await bundle(defer, 'busybox', 'mkdir /tmp/d; echo mkdir=$?');
  // linux.seccomp is the default profile (mkdir allowed); the annotation's program denies mkdir.
  const other = await helper.compileSeccomp(seccompToLines(CUSTOM));
  const { program } = await crunProgram(defer, dir, input, { annotation: other });
  assert.ok(program.equals(other), 'crun stored the annotation program, not its own compile');
  const denied = await crunRun(defer, dir, input, { annotation: other });
  assert.match(denied, /Permission denied/);
  assert.match(denied, /mkdir=1/);
  assert.match(await crunRun(defer, dir, input, {}), /mkdir=0/);
});

test('the default profile behaves the same compiled by crun and precompiled', async (t) => {
  if (!requireRoot(t)) return;
  await ensureRuntimeCanRun(execFile);
  const defer = deferrer(t);
  const script = [
    'unshare -n true; echo unshare=$?',
    'sh -c "echo ok"',
    // clone3(NULL, 0): EINVAL from the kernel, ENOSYS from the default profile.
    `python3 -c "import ctypes; libc = ctypes.CDLL(None, use_errno=True); r = libc.syscall(435, None, 0); print('clone3', r, ctypes.get_errno())"`,
    `python3 -c "import subprocess; subprocess.run(['true'], check=True); print('spawn-ok')"`,
  ].join('; ');
  const { dir, input } = await bundle(defer, 'glibc', script);
  const spec = buildSpec({ ...input, cgroupsPath: `${prefix}/x` });
  const program = await helper.compileSeccomp(seccompToLines(spec.linux.seccomp!));
  const outputs: string[] = [];
  for (const annotation of [undefined, program]) {
    const out = await crunRun(defer, dir, input, annotation ? { annotation } : {});
    assert.match(out, /Operation not permitted/, out);
    assert.match(out, /unshare=1/, out);
    assert.match(out, /^ok$/m, out);
    assert.match(out, /^clone3 -1 38$/m, out);
    assert.match(out, /^spawn-ok$/m, out);
    outputs.push(out);
  }
  assert.equal(outputs[0], outputs[1]);
});

test('crun create: time with and without the precompiled program', async (t) => {
  if (!requireRoot(t)) return;
  await ensureRuntimeCanRun(execFile);
  const defer = deferrer(t);
  const { dir, input } = await bundle(defer, 'busybox', 'true');
  const state = join(dir, 'state');
  const spec = buildSpec({ ...input, cgroupsPath: `${prefix}/x` });
  const t0 = process.hrtime.bigint();
  const program = await helper.compileSeccomp(seccompToLines(spec.linux.seccomp!));
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const rounds = Number(process.env.BERTH_BPF_ROUNDS ?? 15);
  const times: Record<'plain' | 'annotated' | 'unconfined', number[]> = { plain: [], annotated: [], unconfined: [] };
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['plain', 'annotated', 'unconfined'] as const) {
      const id = `bpftime-${mode}-${i}-${randomBytes(2).toString('hex')}`;
      await writeConfig(dir, mode === 'unconfined' ? { ...input, seccomp: { kind: 'unconfined' } } : input, id, mode === 'annotated' ? { annotation: program } : {});
      cleanupContainer(defer, state, id);
      times[mode].push(await crunCreate(state, dir, id));
      await execFile('crun', ['--root', state, 'delete', '-f', id]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const report = `crun create median of ${rounds}: linux.seccomp ${median(times.plain).toFixed(1)} ms, `
    + `+annotation ${median(times.annotated).toFixed(1)} ms, no seccomp ${median(times.unconfined).toFixed(1)} ms; `
    + `helper compile (once per profile, incl. spawn) ${compileMs.toFixed(1)} ms; annotation ${program.toString('base64').length} chars`;
  t.diagnostic(report);
  console.log(report);
});
