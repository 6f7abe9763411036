// Integration check (root): config.json from buildSpec runs under both crun and runc on this host.
// Builds a busybox bundle in a temp dir, runs each container under its own --root state dir and a
// unique cgroup parent, and removes containers, cgroups and temp dirs afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFile } from '../../src/lib/exec.ts';
import { cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from '../../src/runtime/cgroups/host.ts';
import { buildSpec, type SpecInput } from '../../src/runtime/spec/build-spec.ts';
import { DEFAULT_CAPABILITIES, parseCapabilityMask } from '../../src/runtime/spec/capabilities.ts';
import { listHostDevices, readHostCapabilities, readHostRlimits } from '../../src/runtime/spec/host-info.ts';
import { specToJson } from '../../src/runtime/spec/types.ts';
import { resolveUser } from '../../src/runtime/spec/user.ts';
import { requireRoot, deferrer } from '../../src/lib/test-support.ts';

const APPLETS = ['sh', 'ls', 'cat', 'id', 'grep', 'unshare', 'mount', 'mkdir', 'touch', 'echo', 'true', 'ulimit', 'tr'];
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nwheel:x:10:root\napp:x:1000:\nnogroup:x:65534:\n';
const prefix = `/berth-spectest-${randomBytes(4).toString('hex')}`;



/** A busybox rootfs plus the per-container /etc files, in a fresh temp dir. */
async function makeBundle(defer: (fn: () => Promise<unknown>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-spectest-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'sbin']) await mkdir(join(rootfs, d), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777); // as in real images; runc gives a tmpfs the mode of the dir below
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(join(rootfs, 'etc/group'), GROUP);
  for (const f of ['hostname', 'hosts', 'resolv.conf']) await writeFile(join(dir, f), f === 'hostname' ? 'spectest\n' : '');
  return dir;
}

async function baseInput(bundle: string, id: string, script: string): Promise<SpecInput> {
  return {
    rootfs: join(bundle, 'rootfs'), args: ['sh', '-c', script], env: [], hostname: 'spectest',
    user: resolveUser('', PASSWD, GROUP), hostCapabilities: await readHostCapabilities(),
    hostRlimits: await readHostRlimits(), cgroupsPath: `${prefix}/${id}`,
    hostnamePath: join(bundle, 'hostname'), hostsPath: join(bundle, 'hosts'), resolvConfPath: join(bundle, 'resolv.conf'),
  };
}

/** Writes config.json, runs the container to completion, and cleans it up. */
async function run(defer: (fn: () => Promise<unknown>) => void, runtime: 'crun' | 'runc', bundle: string, input: SpecInput): Promise<{ code: number; out: string }> {
  const id = input.cgroupsPath.split('/').pop()!;
  const state = join(bundle, `state-${runtime}`);
  await writeFile(join(bundle, 'config.json'), specToJson(buildSpec(input)));
  const layout = detectCgroups(await readFile('/proc/self/mountinfo', 'utf8'));
  defer(async () => {
    await execFile(runtime, ['--root', state, 'delete', '-f', id]);
    await removeCgroup(cgroupPathsFor(input.cgroupsPath, layout));
    await removeCgroup(cgroupPathsFor(prefix, layout));
  });
  const r = await execFile(runtime, ['--root', state, 'run', '--bundle', bundle, id]);
  if (process.env.BERTH_TEST_VERBOSE) console.log(`--- ${runtime} ${id}\n${r.stdout}${r.stderr}`);
  return { code: r.exitCode, out: r.stdout + r.stderr };
}

const capMask = (caps: readonly string[]) => {
  const names = parseCapabilityMask('1ffffffffff');
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(names.indexOf(c));
  return m.toString(16).padStart(16, '0');
};

for (const runtime of ['crun', 'runc'] as const) {
  test(`${runtime}: default spec runs busybox with docker's caps, seccomp and masked paths`, async (t) => {
    if (!requireRoot(t)) return;
    await ensureRuntimeCanRun(execFile);
    const defer = deferrer(t);
    const bundle = await makeBundle(defer);
    const id = `dflt-${runtime}-${randomBytes(3).toString('hex')}`;
    const script = 'id; grep -E "^(CapEff|Seccomp):" /proc/self/status; unshare -n true; echo unshare=$?; '
      + 'cat /proc/kcore >/dev/null; echo kcore=$?; sh -c "echo ok"; cat /etc/hostname';
    const { code, out } = await run(defer, runtime, bundle, await baseInput(bundle, id, script));
    assert.equal(code, 0, out);
    assert.match(out, /uid=0\(root\) gid=0\(root\)/);
    assert.match(out, new RegExp(`CapEff:\\s+${capMask(DEFAULT_CAPABILITIES)}`));
    assert.match(out, /Seccomp:\s+2/);
    assert.match(out, /unshare=1/);
    assert.match(out, /Operation not permitted/);
    assert.match(out, /kcore=1/);
    assert.match(out, /^ok$/m);
    assert.match(out, /^spectest$/m);
  });

  test(`${runtime}: privileged gets every host capability and device, without seccomp`, async (t) => {
    if (!requireRoot(t)) return;
    await ensureRuntimeCanRun(execFile);
    const defer = deferrer(t);
    const bundle = await makeBundle(defer);
    const id = `priv-${runtime}-${randomBytes(3).toString('hex')}`;
    const input = await baseInput(bundle, id, 'grep -E "^(CapEff|Seccomp):" /proc/self/status; ls /dev/null /dev/kmsg; grep " /sys sysfs" /proc/mounts; echo done');
    input.privileged = true;
    input.hostDevices = await listHostDevices();
    const { code, out } = await run(defer, runtime, bundle, input);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`CapEff:\\s+${capMask(input.hostCapabilities)}`));
    assert.match(out, /Seccomp:\s+0/);
    assert.match(out, /\/dev\/kmsg/);
    assert.match(out, /\/sys sysfs rw/);
    assert.match(out, /done/);
  });

  test(`${runtime}: cap-drop ALL + cap-add, non-root user, read-only rootfs, tmpfs, ulimit, init, custom seccomp`, async (t) => {
    if (!requireRoot(t)) return;
    await ensureRuntimeCanRun(execFile);
    const defer = deferrer(t);
    const bundle = await makeBundle(defer);
    const id = `misc-${runtime}-${randomBytes(3).toString('hex')}`;
    const input = await baseInput(bundle, id,
      'id; grep CapEff /proc/self/status; touch /x; echo rofs=$?; touch /tmp/y && echo tmpfs-ok; ulimit -n; '
      + 'tr "\\0" " " </proc/1/cmdline; echo; mkdir /tmp/d; echo mkdir=$?');
    input.user = resolveUser('app', PASSWD, GROUP);
    input.capDrop = ['ALL'];
    input.capAdd = ['chown'];
    input.readonlyRootfs = true;
    input.tmpfs = { '/tmp': 'rw,size=1m' };
    input.ulimits = [{ name: 'nofile', soft: 512, hard: 1024 }];
    input.init = { path: '/usr/bin/tini-static' };
    input.seccomp = { kind: 'custom', profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } };
    const { code, out } = await run(defer, runtime, bundle, input);
    assert.equal(code, 0, out);
    assert.match(out, /uid=1000\(app\) gid=1000\(app\)/);
    assert.match(out, /CapEff:\s+0000000000000000/);
    assert.match(out, /rofs=1/);
    assert.match(out, /tmpfs-ok/);
    assert.match(out, /^512$/m);
    assert.match(out, /\/sbin\/docker-init -- sh -c/);
    assert.match(out, /mkdir=1/);
  });
}

for (const runtime of ['crun', 'runc'] as const) {
  test(`${runtime}: glibc tools, node and python run under the default seccomp profile`, async (t) => {
    if (!requireRoot(t)) return;
    await ensureRuntimeCanRun(execFile);
    const defer = deferrer(t);
    const dir = await mkdtemp(join(tmpdir(), 'berth-spectest-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    // A rootfs made of the host's /usr and /etc, read-only, so real glibc programs are available.
    const rootfs = join(dir, 'rootfs');
    for (const d of ['usr', 'etc', 'tmp', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${l}`, join(rootfs, l));
    const id = `glibc-${runtime}-${randomBytes(3).toString('hex')}`;
    const script = [
      'ls -la /usr >/dev/null && echo ls-ok',
      'date >/dev/null && sort </etc/passwd >/dev/null && echo coreutils-ok',
      `node -e "require('fs').writeFileSync('/tmp/n','x');require('child_process').execFileSync('true');` +
        `require('crypto').randomBytes(8);console.log('node-ok')"`,
      `python3 -c "import subprocess,threading,os;subprocess.run(['true'],check=True);t=threading.Thread(target=print);t.start();t.join();os.listdir('/');print('py-ok')"`,
    ].join('; ');
    const input: SpecInput = {
      rootfs, args: ['/bin/sh', '-c', script], env: [], hostname: 'spectest', user: { uid: 0, gid: 0, additionalGids: [0] },
      hostCapabilities: await readHostCapabilities(), cgroupsPath: `${prefix}/${id}`, tmpfs: { '/tmp': 'rw' },
      mounts: [
        { type: 'bind', source: '/usr', destination: '/usr', readonly: true },
        { type: 'bind', source: '/etc', destination: '/etc', readonly: true },
      ],
    };
    const { code, out } = await run(defer, runtime, dir, input);
    assert.equal(code, 0, out);
    for (const marker of ['ls-ok', 'coreutils-ok', 'node-ok', 'py-ok']) assert.match(out, new RegExp(`^${marker}$`, 'm'), out);
  });
}
