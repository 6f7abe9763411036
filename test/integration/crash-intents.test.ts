import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { apiCall, apiOk } from './api-client.ts';
import { REPO, TestDaemon, requireRoot } from './harness.ts';

/**
 * berthd killed at a chosen point of an operation, to check that start-up recovery finishes or
 * undoes exactly what that operation had made. The point is chosen with a runtime wrapper that
 * blocks one runtime command while a marker file exists (so the daemon is caught between two steps),
 * or with a request body that is still arriving.
 */
const WRAPPER = `#!/bin/sh
dir=$(dirname "$0")
for a in "$@"; do
  case "$a" in start|resume)
    if [ -e "$dir/block-$a" ]; then echo $$ > "$dir/blocked-$a"; exec sleep 60; fi ;;
  esac
done
exec /usr/bin/crun "$@"
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A berth command left running in the background (it dies with the daemon). */
function background(d: TestDaemon, args: string[]): Promise<number> {
  const p = spawn(process.execPath, [join(REPO, 'dist/berth.mjs'), ...args], { env: { ...process.env, BERTH_HOST: d.host }, stdio: 'ignore' });
  return new Promise((r) => p.on('close', (code) => r(code ?? -1)));
}

/** Blocks runtime command `cmd` until the daemon has reached it, kills -9 the daemon there, lets the wrapper go. */
async function killDuring(d: TestDaemon, dir: string, cmd: 'start' | 'resume', job: () => Promise<unknown>): Promise<void> {
  writeFileSync(join(dir, `block-${cmd}`), '');
  const pending = job();
  await until(`the daemon to reach ${cmd}`, () => existsSync(join(dir, `blocked-${cmd}`)) && readFileSync(join(dir, `blocked-${cmd}`), 'utf8').trim() !== '');
  await d.stop('SIGKILL');
  await pending;
  rmSync(join(dir, `block-${cmd}`));
  const pid = Number(readFileSync(join(dir, `blocked-${cmd}`), 'utf8').trim());
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(join(dir, `blocked-${cmd}`));
}

const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
const cgroupsOf = (d: TestDaemon, id: string) => readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, d.prefix, id)));
const conmonOf = (id: string) => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
  try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/usr/bin/conmon') && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id); } catch { return false; }
});

test('kill -9 at a chosen step: recovery undoes a start, unpauses a commit, unmounts a cp, ends attached execs, removes --rm containers', async (t) => {
  if (!requireRoot(t)) return;
  // The wrapper sits in the daemon's own directory and reads its markers there.
  const d = new TestDaemon();
  const wrapper = join(d.dir, 'slow-runtime');
  writeFileSync(wrapper, WRAPPER);
  chmodSync(wrapper, 0o755);
  d.opts.extraArgs = ['--runtime', `slow=${wrapper}`];
  t.after(() => d.stopAndCheckLeaks());
  await d.start();
  await d.loadBusybox();

  await t.test('a start cut short between conmon and the process start is undone: created again, nothing held', async () => {
    const id = d.ok(['create', '--runtime', 'slow', '--name', 'halfstarted', 'busybox', 'sleep', '600']);
    await killDuring(d, d.dir, 'start', () => background(d, ['start', 'halfstarted']));
    assert.ok(conmonOf(id), 'the kill left a conmon behind (the test reached the step)');
    await d.start();
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id]), 'created 0');
    assert.ok(!mounted(join(d.dataRoot, 'overlay', 'containers', id, 'merged')), 'rootfs unmounted');
    assert.deepEqual(cgroupsOf(d, id), [], 'cgroups removed');
    assert.ok(!conmonOf(id), 'conmon gone');
    assert.ok(!existsSync(join(d.execRoot, 'runtime', 'slow', id)), 'runtime record gone');
    assert.ok(!existsSync(join(d.execRoot, 'netns', id)), 'network namespace gone');
    d.ok(['start', id]);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', id]), 'running');
    d.ok(['rm', '-f', id]);
  });

  await t.test('an interrupted run --rm is removed at restart; so is a created --rm container, as dockerd does', async () => {
    await killDuring(d, d.dir, 'start', () => background(d, ['run', '--rm', '-d', '--runtime', 'slow', '--name', 'rmhalf', 'busybox', 'sleep', '600']));
    await d.start();
    assert.equal(d.ok(['ps', '-aq', '--filter', 'name=rmhalf']), '');
    const created = d.docker(['create', '--rm', '--name', 'rmcreated', 'busybox', 'true']);
    assert.equal(created.code, 0, created.stderr);
    await d.stop('SIGKILL');
    await d.start();
    assert.equal(d.ok(['ps', '-aq', '--filter', 'name=rmcreated']), '');
  });

  await t.test('a commit cut short after its pause leaves the container running, not paused', async () => {
    const id = d.ok(['run', '-d', '--runtime', 'slow', '--name', 'committed', 'busybox', 'sleep', '600']);
    await killDuring(d, d.dir, 'resume', () => background(d, ['commit', 'committed', 'crash/committed']));
    await d.start();
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', id]), 'running');
    assert.equal(d.ok(['exec', id, 'echo', 'thawed']), 'thawed');
    d.ok(['rm', '-f', id]);
  });

  await t.test('a cp into a stopped container cut short leaves its rootfs unmounted', async () => {
    const id = d.ok(['create', '--name', 'cold', 'busybox', 'true']);
    const merged = join(d.dataRoot, 'overlay', 'containers', id, 'merged');
    // A tar whose data is still arriving: the copy holds the rootfs mounted while it waits.
    const req = request({ socketPath: d.socket, method: 'PUT', path: `/v1.47/containers/${id}/archive?path=/`, headers: { 'Content-Type': 'application/x-tar', Host: 'berth' } });
    req.on('error', () => undefined);
    const header = Buffer.alloc(512);
    header.write('payload', 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(1024 * 1024).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\x0000', 257);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    req.write(header);
    req.write(Buffer.alloc(4096, 1));
    await until('the rootfs to be mounted for the copy', () => mounted(merged));
    await d.stop('SIGKILL');
    req.destroy();
    await d.start();
    assert.ok(!mounted(merged), 'rootfs unmounted');
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', id]), 'created');
    d.ok(['rm', id]);
  });

  await t.test('an attached exec ends with the daemon that ran it; a detached one runs on', async () => {
    const id = d.ok(['run', '-d', '--name', 'execd', 'busybox', 'sleep', '600']);
    const attached = await apiOk<{ Id: string }>(d.socket, 'POST', `/containers/${id}/exec`, { Cmd: ['sleep', '3123'], AttachStdout: true });
    const pending = apiCall(d.socket, 'POST', `/exec/${attached.Id}/start`, { Detach: false }).catch(() => undefined);
    const tty = await apiOk<{ Id: string }>(d.socket, 'POST', `/containers/${id}/exec`, { Cmd: ['sleep', '3125'], Tty: true, AttachStdin: true, AttachStdout: true });
    const pendingTty = apiCall(d.socket, 'POST', `/exec/${tty.Id}/start`, { Detach: false, Tty: true }).catch(() => undefined);
    d.ok(['exec', '-d', id, 'sleep', '4321']);
    const top = () => d.ok(['top', id]);
    await until('the exec processes', () => ['sleep 3123', 'sleep 3125', 'sleep 4321'].every((p) => top().includes(p)));
    await d.stop('SIGKILL');
    await Promise.all([pending, pendingTty]);
    await d.start();
    assert.ok(!top().includes('sleep 3123'), 'the attached exec was ended');
    assert.ok(!top().includes('sleep 3125'), 'the attached tty exec was ended');
    // Nothing of the sessions runs on the host either (the runtime's exec, the pty helper).
    await until('the sessions\' host processes to end', () => !spawnSync('pgrep', ['-af', d.execRoot], { encoding: 'utf8' }).stdout
      .split('\n').some((l) => l.includes(attached.Id) || l.includes(tty.Id)));
    assert.ok(top().includes('sleep 4321'), 'the detached exec runs on');
    assert.deepEqual(readdirSync(join(d.execRoot, 'containers', id)).filter((f) => f.includes(attached.Id)), [], 'the session\'s files are gone');
    d.ok(['rm', '-f', id]);
  });
});
