// Real tests of native/berth-helper through its wrapper: they need root (mknod, trusted.* xattrs,
// containers), gcc (the helper is built with `make -C native` when missing), crun, conmon and
// busybox-static. Containers run with crun's --cgroup-manager=disabled so the test never touches
// the host's cgroup mounts.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EngineError, kindOf } from '../../src/lib/errors.ts';
import { NativeHelper, defaultHelperPath } from '../../src/lib/native-helper.ts';
import { requireRoot, waitFor } from '../../src/lib/test-support.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
let helper: NativeHelper;
const scratch: string[] = [];
const tmp = (prefix: string) => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), `berth-helper-test-${prefix}-`)));
  scratch.push(d);
  return d;
};

before(() => {
  const path = join(repo, 'native/build/berth-helper');
  if (!existsSync(path)) execFileSync('make', ['-s', '-C', join(repo, 'native')], { stdio: 'inherit' });
  assert.equal(defaultHelperPath({}), path);
  helper = new NativeHelper({ path });
});
after(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** Fails off root unless BERTH_TEST_NO_ROOT=1 asks to skip. */

const xattr = (path: string, name: string) =>
  spawnSync('getfattr', ['--only-values', '-n', name, path], { encoding: 'utf8' }).stdout;

const rejectsWith = (p: Promise<unknown>, kind: string) =>
  assert.rejects(p, (err: unknown) => err instanceof EngineError && kindOf(err) === kind);

describe('whiteouts', () => {
  test('creates 0/0 char devices (replacing files and dirs) and opaque dirs', async (t) => {
    if (!requireRoot(t)) return;
    const root = tmp('wh');
    mkdirSync(join(root, 'a/dir'), { recursive: true });
    writeFileSync(join(root, 'a/file'), 'x');
    writeFileSync(join(root, 'a/dir/inner'), 'x');
    mkdirSync(join(root, 'existing'));
    await helper.makeWhiteouts(root, [
      { kind: 'whiteout', path: 'a/file' },
      { kind: 'whiteout', path: 'a/dir' },
      { kind: 'whiteout', path: 'new/deep/gone' },
      { kind: 'opaque', path: 'existing' },
      { kind: 'opaque', path: './fresh/sub' },
    ]);
    for (const p of ['a/file', 'a/dir', 'new/deep/gone']) {
      const st = lstatSync(join(root, p));
      assert.ok(st.isCharacterDevice(), `${p} is a char device`);
      assert.equal(st.rdev, 0);
    }
    for (const p of ['existing', 'fresh/sub']) {
      assert.ok(statSync(join(root, p)).isDirectory());
      assert.equal(xattr(join(root, p), 'trusted.overlay.opaque'), 'y');
    }
  });

  test('refuses .., absolute paths and symlinks on the way', async (t) => {
    if (!requireRoot(t)) return;
    const root = tmp('whbad');
    const outside = tmp('outside');
    symlinkSync(outside, join(root, 'link'));
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'whiteout', path: '../escape' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'whiteout', path: 'a/../../escape' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'whiteout', path: '/abs' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'whiteout', path: 'link/x' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'opaque', path: 'link' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'opaque', path: 'link/sub' }]), 'InvalidParameter');
    await rejectsWith(helper.makeWhiteouts(root, [{ kind: 'whiteout', path: 'bad\nline' }]), 'InvalidParameter');
    assert.equal(existsSync(join(outside, 'x')), false);
    assert.equal(existsSync(join(outside, 'sub')), false);
    assert.equal(existsSync(join(dirname(root), 'escape')), false);
    assert.equal(xattr(outside, 'trusted.overlay.opaque'), '');
    assert.ok(lstatSync(join(root, 'link')).isSymbolicLink(), 'the symlink itself is untouched');
  });

  test('a missing root is NotFound', async () => {
    await rejectsWith(helper.makeWhiteouts('/nonexistent/berth-root', [{ kind: 'whiteout', path: 'x' }]), 'NotFound');
  });
});

describe('lock', () => {
  test('a second lock on the same file is a Conflict until the first is released', async () => {
    const file = join(tmp('lock'), 'berth.lock');
    const first = await helper.lock(file);
    await assert.rejects(helper.lock(file), (err: unknown) =>
      kindOf(err) === 'Conflict' && /is in use by another berthd/.test((err as Error).message));
    await first.release();
    await first.release(); // idempotent
    const again = await helper.lock(file);
    await again.release();
  });
});

describe('resolveInRoot', () => {
  test('symlinks resolve inside the root, never to the host', async () => {
    const root = tmp('resolve');
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'inner\n');
    symlinkSync('/etc/passwd', join(root, 'abs'));
    symlinkSync('../../../../../etc/passwd', join(root, 'rel'));
    mkdirSync(join(root, 'd'));
    symlinkSync('/', join(root, 'd/up'));
    for (const p of ['/abs', 'rel', '/d/up/etc/passwd', '../../etc/passwd', '/etc/passwd']) {
      const host = await helper.resolveInRoot(root, p);
      assert.equal(host, join(root, 'etc/passwd'), p);
      assert.equal(readFileSync(host, 'utf8'), 'inner\n');
    }
    assert.equal(await helper.resolveInRoot(root, '/abs', { followSymlinks: false }), join(root, 'abs'));
    assert.equal(await helper.resolveInRoot(root, '/'), root);
    await rejectsWith(helper.resolveInRoot(root, '/nope/x'), 'NotFound');
  });
});

// ---------- conmon + crun ----------

const readAll = (s: Readable) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (b: Buffer) => (text += b.toString()));
    s.on('end', () => resolve(text));
  });

/** A busybox bundle whose path is longer than sun_path (108 bytes), to exercise the long-path case. */
function makeBundle(dir: string, args: string[], terminal = false): string {
  const bundle = join(dir, 'b'.repeat(100));
  mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp']) mkdirSync(join(bundle, 'rootfs', d));
  copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
  for (const a of ['sh', 'cat', 'echo', 'sleep', 'stty', 'seq']) symlinkSync('busybox', join(bundle, 'rootfs/bin', a));
  execFileSync('crun', ['spec'], { cwd: bundle });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = terminal;
  config.process.args = args;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

describe('attach and pty-exec against conmon and crun', () => {
  let dir = '';
  let state = '';
  const ids: string[] = [];
  const crun = (...args: string[]) => ['crun', `--root=${state}`, '--cgroup-manager=disabled', ...args];
  const runCrun = (...args: string[]) => {
    const [file, ...rest] = crun(...args);
    return spawnSync(file!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };

  before(() => {
    dir = tmp('ctr');
    state = join(dir, 'state');
  });
  after(() => {
    for (const id of ids) runCrun('delete', '-f', id);
    // conmon exits once its container is gone; make sure of it.
    for (const id of ids) {
      const pidFile = join(dir, `${id}.conmon.pid`);
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  test('attach relays stdin, stdout and stderr, and ends when the container exits', async (t) => {
    if (!requireRoot(t)) return;
    const id = `berth-helper-test-attach-${process.pid}`;
    const bundle = makeBundle(join(dir, 'attach'), ['sh', '-c', 'echo out; echo err >&2; cat; seq 1 50000; echo done']);
    ids.push(id);
    // conmon returns before `crun create` is done; its sync pipe (fd 3) reports the created pid.
    const conmon = spawn('conmon', [
      '-c', id, '-u', id, '-r', '/usr/bin/crun',
      '--runtime-arg', `--root=${state}`, '--runtime-arg', '--cgroup-manager=disabled',
      '-b', bundle, '-p', join(dir, `${id}.pid`), '--conmon-pidfile', join(dir, `${id}.conmon.pid`),
      '--exit-dir', dir, '--socket-dir-path', dir, '--full-attach', '-l', `k8s-file:${join(dir, `${id}.log`)}`, '-i',
    ], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' } });
    const created = await new Promise<string>((resolve) => (conmon.stdio[3] as Readable).once('data', (b: Buffer) => resolve(b.toString())));
    assert.match(created, /"pid"\s*:\s*[1-9]/);
    (conmon.stdio[3] as Readable).destroy();
    const socket = join(bundle, 'attach');
    assert.ok(socket.length > 108);
    const session = await helper.attach(socket);
    const [out, err] = [readAll(session.stdout), readAll(session.stderr)];
    const started = runCrun('start', id);
    assert.equal(started.status, 0, started.stderr);
    // More than one 8 KiB packet each way.
    const input = `input-line\n${'x'.repeat(100_000)}\n`;
    session.stdin.end(input);
    assert.equal(await session.done, 0);
    const seq = Array.from({ length: 50_000 }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(await out, `out\n${input}${seq}done\n`);
    assert.equal(await err, 'err\n');
  });

  test('attach to a missing socket is NotFound', async () => {
    await rejectsWith(helper.attach(join(tmp('nosock'), 'attach')), 'NotFound');
  });

  test('pty-exec runs a tty process, resizes it and returns its exit code', async (t) => {
    if (!requireRoot(t)) return;
    const id = `berth-helper-test-pty-${process.pid}`;
    const bundle = makeBundle(join(dir, 'pty'), ['sleep', '1000']);
    ids.push(id);
    // The detached container inherits crun's stdio: pipes here would never reach EOF.
    const [file, ...rest] = crun('run', '-d', '--bundle', bundle, id);
    assert.equal(spawnSync(file!, rest, { stdio: 'ignore' }).status, 0, 'crun run -d');

    const s = helper.ptyExec(crun('exec', '--tty', id, 'sh'), { rows: 30, cols: 100 });
    let output = '';
    s.stdout.on('data', (b: Buffer) => (output += b.toString()));
    // Asked again on each poll: the shell may not read its terminal yet when the first question comes.
    const sizeShown = (re: RegExp) => waitFor(`stty size to print ${re}`, () => re.test(output) || void s.stdin.write('stty size\n'), { intervalMs: 200 });
    await sizeShown(/^30 100\r?$/m);
    s.resize(40, 120);
    await sizeShown(/^40 120\r?$/m);
    s.stdin.write('exit 7\n');
    assert.equal(await s.exitCode, 7);

    // kill() hangs up the terminal: the process goes, the exit code says it was not a clean exit.
    const k = helper.ptyExec(crun('exec', '--tty', id, 'sh', '-c', 'echo started; exec sleep 1000'));
    let kOut = '';
    k.stdout.on('data', (b: Buffer) => (kOut += b.toString()));
    await waitFor('the process to start', () => kOut.includes('started'));
    k.kill();
    assert.notEqual(await k.exitCode, 0);

    // Detached (runc cannot hand over a console socket otherwise): the helper waits, as subreaper,
    // for the process named in the pid file, and still gets its exit code.
    const pidFile = join(dir, 'pty-exec-detached.pid');
    // The process outlives crun exec (its sleep is the subject, not a wait): exit code 5 can only come from waiting on it.
    const d = helper.ptyExec(crun('exec', '--tty', '--detach', '--pid-file', pidFile, id, 'sh', '-c', 'sleep 0.3; tty; exit 5'));
    const dOut = readAll(d.stdout);
    assert.equal(await d.exitCode, 5);
    assert.match(await dOut, /\/dev\/pts\/\d+/);
    assert.ok(existsSync(pidFile));

    const missing = helper.ptyExec(crun('exec', '--tty', 'no-such-container', 'sh'));
    missing.stdout.resume();
    const stderr = readAll(missing.stderr);
    assert.notEqual(await missing.exitCode, 0);
    assert.match(await stderr, /no-such-container|does not exist/);
  });
});
