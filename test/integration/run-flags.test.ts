// `run` flags checked from inside the container: each subtest reads what the kernel says
// (/proc/self/status, mountinfo, id, ulimit) rather than what inspect echoes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';

/** `run --rm busybox ...` that must succeed; trimmed stdout. */
const run = (d: TestDaemon, flags: string[], cmd: string[]): string => d.ok(['run', '--rm', ...flags, 'busybox', ...cmd]);
const sh = (d: TestDaemon, flags: string[], script: string): string => run(d, flags, ['sh', '-c', script]);
const statusField = (text: string, field: string): string => new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
const hostStatus = readFileSync('/proc/self/status', 'utf8');

test('run flags, observed inside the container', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const tmp = mkdtempSync(join(tmpdir(), 'berth-runflags-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const psBefore = d.ok(['ps', '-aq']);

  await t.test('-e, -e NAME from the caller, --env-file, -w', () => {
    const envFile = join(tmp, 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\nBERTH_T_PASSED\n');
    process.env['BERTH_T_PASSED'] = 'from caller';
    try {
      const out = sh(d, ['-e', 'A=1', '-e', 'BERTH_T_PASSED', '-e', 'BERTH_T_UNSET_X', '--env-file', envFile, '-w', '/tmp/wd'],
        'echo "$A|$BERTH_T_PASSED|$FROM_FILE|${BERTH_T_UNSET_X-unset}|$(pwd)"');
      assert.equal(out, '1|from caller|yes|unset|/tmp/wd');
      const viaDocker = d.docker(['run', '--rm', '-e', 'BERTH_T_PASSED', '-w', '/etc', 'busybox', 'sh', '-c', 'echo "$BERTH_T_PASSED $(pwd)"']);
      assert.equal(viaDocker.stdout.trim(), 'from caller /etc');
    } finally { delete process.env['BERTH_T_PASSED']; }
  });

  await t.test('-u uid, uid:gid, user name; unknown user fails and leaves nothing', () => {
    assert.equal(run(d, ['-u', '1234'], ['id']), 'uid=1234 gid=0(root) groups=0(root)');
    assert.match(run(d, ['-u', '1234:5678'], ['id']), /^uid=1234 gid=5678/);
    assert.equal(run(d, ['-u', 'www-data'], ['id', '-u']), '33');
    assert.equal(run(d, ['-u', 'nobody:users'], ['id', '-g']), '100');
    assert.equal(statusField(run(d, ['-u', '1234'], ['cat', '/proc/self/status']), 'Uid').split(/\s+/)[0], '1234');
    for (const cli of ['berth', 'docker'] as const) {
      const r = cli === 'berth' ? d.berth(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']) : d.docker(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']);
      assert.notEqual(r.code, 0, cli);
      assert.match(r.stderr, /unable to find user nosuchuser: no matching entries in passwd file/, cli);
    }
    assert.equal(d.ok(['ps', '-aq']), psBefore);
  });

  await t.test('-h, --domainname: /etc/hostname, hostname, /etc/hosts', () => {
    const out = sh(d, ['-h', 'boxy', '--domainname', 'example.org'], 'cat /etc/hostname; hostname; cat /proc/sys/kernel/domainname');
    assert.deepEqual(out.split('\n'), ['boxy', 'boxy', 'example.org']);
    // With --network none docker writes only the localhost entries (no address to name the host by).
    assert.match(sh(d, ['-h', 'boxy'], 'cat /etc/hosts'), /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback/);
    assert.equal(sh(d, ['--network', 'host'], 'cat /etc/hosts'), readFileSync('/etc/hosts', 'utf8').trim());
    assert.equal(d.docker(['run', '--rm', '--hostname', 'dk', 'busybox', 'hostname']).stdout.trim(), 'dk');
  });

  await t.test('--entrypoint, --entrypoint ""', () => {
    assert.equal(run(d, ['--entrypoint', 'echo'], ['via', 'entrypoint']), 'via entrypoint');
    assert.equal(run(d, ['--entrypoint', ''], ['echo', 'no', 'entrypoint']), 'no entrypoint');
    assert.equal(d.docker(['run', '--rm', '--entrypoint', '/bin/echo', 'busybox', 'dk']).stdout.trim(), 'dk');
    d.ok(['create', '--name', 'ep', '--entrypoint', '', 'busybox', 'true']);
    assert.equal(d.ok(['inspect', '-f', '{{json .Config.Entrypoint}}', 'ep']), 'null');
    d.ok(['rm', 'ep']);
  });

  await t.test('--label and ps --filter label=', () => {
    d.ok(['create', '--name', 'lab1', '--label', 'tier=web', '-l', 'flag', 'busybox', 'true']);
    d.ok(['create', '--name', 'lab2', '--label', 'tier=db', 'busybox', 'true']);
    assert.equal(d.ok(['ps', '-a', '--filter', 'label=tier=web', '--format', '{{.Names}}']), 'lab1');
    assert.equal(d.ok(['ps', '-a', '--filter', 'label=tier', '--format', '{{.Names}}']).split('\n').sort().join(','), 'lab1,lab2');
    assert.equal(d.ok(['ps', '-a', '--filter', 'label=flag', '--format', '{{.Label "tier"}}']), 'web');
    assert.equal(d.docker(['ps', '-a', '--filter', 'label=tier=db', '--format', '{{.Names}}']).stdout.trim(), 'lab2');
    assert.equal(d.ok(['inspect', '-f', '{{index .Config.Labels "tier"}}', 'lab1']), 'web');
    d.ok(['rm', 'lab1', 'lab2']);
  });

  await t.test('--stop-signal reaches a trap; --stop-timeout bounds stop', async () => {
    d.ok(['run', '-d', '--name', 'sig', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c',
      'trap "echo got-usr1; exit 0" USR1; echo ready; while true; do sleep 0.1; done']);
    await waitFor('the trap to be set', () => d.ok(['logs', 'sig']).includes('ready'));
    d.ok(['stop', 'sig']);
    assert.equal(d.ok(['inspect', '-f', '{{.State.ExitCode}} {{.Config.StopSignal}}', 'sig']), '0 SIGUSR1');
    assert.match(d.ok(['logs', 'sig']), /got-usr1/);
    d.ok(['rm', 'sig']);
    // sh as PID 1 ignores SIGTERM without a trap, so stop has to wait the timeout and then kill.
    d.ok(['run', '-d', '--name', 'st', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'while true; do sleep 0.1; done']);
    assert.equal(d.ok(['inspect', '-f', '{{.Config.StopTimeout}}', 'st']), '1');
    const t0 = Date.now();
    d.ok(['stop', 'st']);
    const took = Date.now() - t0;
    // At least the 1 s timeout, and less than the default 10 s (however slow the CLI is to start here).
    assert.ok(took >= 900 && took < 10_000, `stop took ${took} ms`);
    assert.equal(d.ok(['inspect', '-f', '{{.State.ExitCode}}', 'st']), '137');
    d.ok(['rm', 'st']);
  });

  await t.test('--init: PID 1 is tini and reaps zombies', async () => {
    assert.match(run(d, ['--init'], ['cat', '/proc/1/cmdline']), /docker-init/);
    // The orphaned child of a short-lived sh is reparented to PID 1; tini must reap it.
    // The orphan (sleep 0.2) exits soon: once only `sleep 300` is left running, nothing may be a zombie.
    d.ok(['run', '-d', '--init', '--name', 'reaper', 'busybox', 'sh', '-c', '(sleep 0.2 &) ; sleep 300']);
    const states = await waitFor('the orphan to exit', () => {
      const stats = d.ok(['exec', 'reaper', 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null; true']);
      const sleeping = stats.split('\n').filter((l) => / \(sleep\) [^Z]/.test(l));
      return sleeping.length === 1 ? stats : undefined;
    });
    assert.doesNotMatch(states, /^\d+ \(.*\) Z /m);
    d.ok(['rm', '-f', 'reaper']);
  });

  await t.test('--privileged: every host cap, host devices, works without CAP_SYS_RESOURCE', () => {
    const st = run(d, ['--privileged'], ['cat', '/proc/self/status']);
    assert.equal(statusField(st, 'CapEff'), statusField(hostStatus, 'CapEff'));
    assert.equal(statusField(st, 'Seccomp'), '0');
    const devs = run(d, ['--privileged'], ['ls', '/dev']).split('\n');
    for (const dev of readdirSync('/dev').filter((n) => /^(loop0|kmsg|fuse|full)$/.test(n))) assert.ok(devs.includes(dev), `missing /dev/${dev}`);
    assert.ok(!run(d, [], ['ls', '/dev']).split('\n').includes('kmsg'));
    assert.equal(d.docker(['run', '--rm', '--privileged', 'busybox', 'true']).code, 0);
  });

  await t.test('--cap-add / --cap-drop change CapEff bits', () => {
    const capEff = (flags: string[]): bigint => BigInt(`0x${statusField(run(d, flags, ['cat', '/proc/self/status']), 'CapEff')}`);
    const base = capEff([]);
    assert.equal(base, 0xa80425fbn); // docker's default set
    assert.equal(capEff(['--cap-add', 'NET_ADMIN']), base | (1n << 12n));
    assert.equal(capEff(['--cap-drop', 'CHOWN']), base & ~1n);
    assert.equal(capEff(['--cap-add', 'cap_sys_admin', '--cap-drop', 'net_raw']), (base | (1n << 21n)) & ~(1n << 13n));
    assert.equal(capEff(['--cap-drop', 'ALL']), 0n);
    assert.notEqual(d.berth(['run', '--rm', '-u', '0', '--cap-drop', 'CHOWN', 'busybox', 'chown', '1', '/tmp']).code, 0);
  });

  await t.test('seccomp: default blocks unshare, unconfined allows it, custom profile blocks mkdir', () => {
    // A user namespace needs no capability, so only the seccomp filter can refuse it.
    const blocked = d.berth(['run', '--rm', 'busybox', 'unshare', '-U', '-n', 'true']);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /Operation not permitted/);
    assert.equal(run(d, ['--security-opt', 'seccomp=unconfined'], ['unshare', '-U', '-n', 'echo', 'ok']), 'ok');
    assert.equal(d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-r', '-n', 'echo', 'ok']).stdout.trim(), 'ok');
    // docker's default profile lets CAP_SYS_ADMIN holders unshare.
    assert.equal(run(d, ['--cap-add', 'SYS_ADMIN'], ['unshare', '-n', 'echo', 'ok']), 'ok');
    assert.equal(statusField(run(d, [], ['cat', '/proc/self/status']), 'Seccomp'), '2');
    assert.equal(statusField(run(d, ['--security-opt', 'seccomp=unconfined'], ['cat', '/proc/self/status']), 'Seccomp'), '0');
    const profile = join(tmp, 'seccomp.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const r = d.berth(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/tmp/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
    assert.equal(d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'touch', '/tmp/x']).code, 0);
    assert.notEqual(d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/tmp/x']).code, 0);
  });

  await t.test('--security-opt no-new-privileges', () => {
    assert.equal(statusField(run(d, ['--security-opt', 'no-new-privileges'], ['cat', '/proc/self/status']), 'NoNewPrivs'), '1');
    assert.equal(statusField(run(d, ['--security-opt', 'no-new-privileges:true'], ['cat', '/proc/self/status']), 'NoNewPrivs'), '1');
    assert.equal(statusField(run(d, [], ['cat', '/proc/self/status']), 'NoNewPrivs'), '0');
  });

  await t.test('--read-only, --tmpfs with options, --shm-size', () => {
    const r = d.berth(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/);
    assert.equal(sh(d, ['--read-only', '--tmpfs', '/tmp'], 'touch /tmp/ok && echo ok'), 'ok');
    const mnt = sh(d, ['--tmpfs', '/scratch:rw,size=64k,mode=1770,noexec'], 'grep " /scratch " /proc/self/mountinfo; stat -c %a /scratch');
    assert.match(mnt, /tmpfs/);
    assert.match(mnt, /noexec/);
    assert.match(mnt, /size=64k/);
    assert.match(mnt, /1770$/);
    const df = sh(d, ['--shm-size', '32m'], 'df -k /dev/shm | tail -1');
    assert.equal(df.split(/\s+/)[1], '32768');
    assert.equal(sh(d, [], 'df -k /dev/shm | tail -1').split(/\s+/)[1], '65536');
  });

  await t.test('--ulimit, and above the host hard limit a clear error', () => {
    assert.equal(sh(d, ['--ulimit', 'nofile=100:200'], 'echo $(ulimit -n) $(ulimit -Hn)'), '100 200');
    for (const cli of ['berth', 'docker'] as const) {
      const args = ['run', '--rm', '--ulimit', 'nofile=50000:50000', 'busybox', 'true'];
      const r = cli === 'berth' ? d.berth(args) : d.docker(args);
      assert.notEqual(r.code, 0, cli);
      assert.match(r.stderr, /nofile|RLIMIT_NOFILE/i, cli);
      assert.doesNotMatch(r.stderr, /Internal|TypeError|at .*\.ts/, cli);
    }
    assert.equal(d.ok(['ps', '-aq']), psBefore);
  });

  await t.test('--network none, host, container:<other>', () => {
    assert.equal(sh(d, [], 'ls /sys/class/net | tr "\\n" " "').trim(), 'eth0 lo');
    assert.equal(sh(d, ['--network', 'none'], 'ls /sys/class/net'), 'lo');
    // Other daemons' veths come and go on the host while the container runs, so its view is
    // compared with what the host showed both before and after it: every interface present
    // throughout must be there (a namespace of its own would lack them, the daemon's bridge too).
    const before = readdirSync('/sys/class/net');
    const seen = sh(d, ['--network', 'host'], 'ls /sys/class/net').split(/\s+/);
    const after = new Set(readdirSync('/sys/class/net'));
    const stable = before.filter((i) => after.has(i));
    assert.ok(stable.includes(`${d.ifPrefix}0`), `the daemon's bridge on the host: ${stable.join(' ')}`);
    assert.deepEqual(stable.filter((i) => !seen.includes(i)), [], `host interfaces missing from --network host: saw ${seen.join(' ')}`);
    assert.equal(run(d, ['--network', 'host'], ['readlink', '/proc/self/ns/net']), readlinkSync('/proc/self/ns/net'));
    d.ok(['run', '-d', '--name', 'netowner', 'busybox', 'sleep', '300']);
    const owner = d.ok(['exec', 'netowner', 'readlink', '/proc/self/ns/net']);
    assert.equal(run(d, ['--network', 'container:netowner'], ['readlink', '/proc/self/ns/net']), owner);
    assert.equal(d.docker(['run', '--rm', '--network', 'container:netowner', 'busybox', 'readlink', '/proc/self/ns/net']).stdout.trim(), owner);
    d.ok(['rm', '-f', 'netowner']);
  });

  await t.test('--pid host, --ipc host and container:<other>', () => {
    assert.equal(run(d, ['--pid', 'host'], ['readlink', '/proc/self/ns/pid']), readlinkSync('/proc/self/ns/pid'));
    assert.equal(sh(d, ['--pid', 'host'], `test -d /proc/${process.pid} && echo seen`), 'seen');
    assert.equal(run(d, ['--ipc', 'host'], ['readlink', '/proc/self/ns/ipc']), readlinkSync('/proc/self/ns/ipc'));
    assert.notEqual(run(d, [], ['readlink', '/proc/self/ns/ipc']), readlinkSync('/proc/self/ns/ipc'));
    d.ok(['run', '-d', '--name', 'ipcowner', '--ipc', 'shareable', 'busybox', 'sleep', '300']);
    const ns = d.ok(['exec', 'ipcowner', 'readlink', '/proc/self/ns/ipc']);
    assert.equal(run(d, ['--ipc', 'container:ipcowner'], ['readlink', '/proc/self/ns/ipc']), ns);
    d.ok(['rm', '-f', 'ipcowner']);
  });

  await t.test('--runtime runc', () => {
    d.ok(['run', '-d', '--name', 'rc', '--runtime', 'runc', 'busybox', 'sleep', '300']);
    assert.equal(d.ok(['inspect', '-f', '{{.HostConfig.Runtime}}', 'rc']), 'runc');
    const id = d.ok(['inspect', '-f', '{{.Id}}', 'rc']);
    const state = spawnSync('runc', ['--root', join(d.execRoot, 'runtime', 'runc'), 'state', id], { encoding: 'utf8' });
    const crunState = spawnSync('crun', ['--root', join(d.execRoot, 'runtime', 'crun'), 'state', id], { encoding: 'utf8' });
    assert.equal(state.status, 0, `runc state: ${state.stderr}`);
    assert.equal(JSON.parse(state.stdout).status, 'running');
    assert.notEqual(crunState.status, 0, 'crun knows the container too');
    assert.equal(d.ok(['exec', 'rc', 'echo', 'hi']), 'hi');
    d.ok(['rm', '-f', 'rc']);
    const bad = d.berth(['run', '--rm', '--runtime', 'nosuchruntime', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unknown or invalid runtime name: nosuchruntime/);
  });

  await t.test('default isolation', () => {
    const out = sh(d, [], [
      'echo pid1=$(cat /proc/1/cmdline | tr "\\0" " ")',
      'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c)',
      'echo timer_list=$(wc -c < /proc/timer_list) $(grep -c " /proc/timer_list " /proc/self/mountinfo)',
      'touch /proc/sys/kernel/hostname 2>/dev/null && echo sysrw || echo sysro',
      'for p in /dev/pts /dev/mqueue /dev/shm; do grep -q " $p " /proc/self/mountinfo && echo has$p; done',
      'for f in hosts resolv.conf hostname; do grep -q " /etc/$f " /proc/self/mountinfo && echo mnt/etc/$f; done',
      'grep -q localhost /etc/hosts && echo hosts-localhost',
    ].join('; '));
    const lines = out.split('\n');
    assert.equal(lines[0], 'pid1=sh -c ' + lines[0]!.slice('pid1=sh -c '.length));
    for (const want of ['kcore=0', 'timer_list=0 1', 'sysro', 'has/dev/pts', 'has/dev/mqueue', 'has/dev/shm', 'mnt/etc/hosts', 'mnt/etc/resolv.conf', 'mnt/etc/hostname', 'hosts-localhost']) {
      assert.ok(lines.includes(want), `missing ${want} in:\n${out}`);
    }
    assert.equal(run(d, [], ['cat', '/proc/1/cmdline']).replace(/\0/g, ' ').trim(), 'cat /proc/1/cmdline');
  });

  await t.test('nsenter into the container namespaces sees its hostname', () => {
    d.ok(['run', '-d', '--name', 'nsent', '-h', 'inside-ns', 'busybox', 'sleep', '300']);
    const pid = d.ok(['inspect', '-f', '{{.State.Pid}}', 'nsent']);
    const r = spawnSync('nsenter', ['-t', pid, '-m', '-u', '-i', '-n', '-p', 'hostname'], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'inside-ns', r.stderr);
    d.ok(['rm', '-f', 'nsent']);
  });

  assert.equal(d.ok(['ps', '-aq']), psBefore);
});
