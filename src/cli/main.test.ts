import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, 'bin.ts');

/** Runs the CLI from source; no daemon is involved unless a test gives one. */
function berth(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8', timeout: 30000, env: { ...process.env, BERTH_HOST: '', DOCKER_HOST: '', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** No Node stack trace and no internal frames: the user sees messages only. */
function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
  assert.doesNotMatch(stderr, /node:internal|file:\/\//, stderr);
}

test('a daemon address berth cannot use is one line and exit 1, for every command that needs the daemon', () => {
  for (const [env, args, want] of [
    [{ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, ['ps'], 'berth: cannot use daemon host "tcp://127.0.0.1:2375" (from DOCKER_HOST): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)\n'],
    [{ DOCKER_HOST: 'ssh://me@example.com' }, ['run', 'busybox'], 'berth: cannot use daemon host "ssh://me@example.com" (from DOCKER_HOST): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)\n'],
    [{ DOCKER_HOST: 'garbage' }, ['images'], 'berth: invalid daemon host "garbage" (from DOCKER_HOST): expected unix:///path/to/socket\n'],
    [{ BERTH_HOST: 'fd://' }, ['version'], 'berth: cannot use daemon host "fd://" (from BERTH_HOST): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)\n'],
    [{}, ['-H', 'tcp://x:1', 'info'], 'berth: cannot use daemon host "tcp://x:1" (from -H): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)\n'],
  ] as const) {
    const r = berth([...args], env);
    assert.equal(r.stderr, want, JSON.stringify({ env, args }));
    assert.equal(r.code, 1);
  }
});

test('connection failures are one line, no stack: missing socket, refused, not a directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-main-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A socket file nobody accepts on: bound by a server that is then closed.
  const dead = join(dir, 'dead.sock');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(dead, r));
  await new Promise<void>((r) => srv.close(() => r()));
  writeFileSync(join(dir, 'file'), '');
  for (const sock of [join(dir, 'missing.sock'), join(dir, 'file'), join(dir, 'file', 'x.sock')]) {
    const r = berth(['ps'], { BERTH_HOST: `unix://${sock}` });
    assert.equal(r.stderr, `Cannot connect to the Berth daemon at unix://${sock}. Is the berth daemon running?\n`);
    assert.equal(r.code, 1);
  }
  const run = berth(['run', 'busybox'], { BERTH_HOST: `unix://${join(dir, 'missing.sock')}` });
  assertNoStack(run.stderr);
  assert.equal(run.code, 125);
});

test('unknown commands as docker CLI 28 words them (exit 1)', () => {
  let r = berth(['x']);
  assert.equal(r.stderr, "berth: unknown command: berth x\n\nRun 'berth --help' for more information\n");
  assert.equal(r.code, 1);
  r = berth(['container', 'x']);
  assert.equal(r.stderr, "berth: unknown command: berth container x\n\nUsage:  berth container\n\nRun 'berth container --help' for more information\n");
  assert.equal(r.code, 1);
});

test('flag errors as docker CLI 28 words them (exit 125): global, command and management-command flags', () => {
  let r = berth(['--foo']);
  assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n");
  assert.equal(r.code, 125);
  r = berth(['-H']);
  assert.equal(r.stderr, "flag needs an argument: 'H' in -H\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n");
  assert.equal(r.code, 125);
  r = berth(['run', '--foo']);
  assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n");
  assert.equal(r.code, 125);
  r = berth(['container', 'run', '-m', 'abc', 'busybox']);
  assert.equal(r.stderr, "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'\n\nUsage:  berth container run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth container run --help' for more information\n");
  assert.equal(r.code, 125);
  r = berth(['network', '--foo']);
  assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth network\n\nRun 'berth network --help' for more information\n");
  assert.equal(r.code, 125);
  r = berth(['-H', 'unix:///a', '-H', 'unix:///b', 'ps']);
  assert.equal(r.stderr, 'berth: specify only one -H\n');
  assert.equal(r.code, 1);
});

test('help: berth run --help names the command once; help, management commands and argument errors', () => {
  let r = berth(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: {2}berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nCreate and run a new container from an image\n\nAliases:\n {2}berth container run, berth run\n\nOptions:\n/);
  assert.equal(berth(['help', 'run']).stdout, r.stdout);
  r = berth(['rm']);
  assert.equal(r.stderr, "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information\n");
  assert.equal(r.code, 1);
  r = berth(['network']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: {2}berth network COMMAND\n\nManage networks\n\nCommands:\n {2}connect {5}Connect a container to a network\n/);
  r = berth([]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ {2}stats {7}Display a live stream of container\(s\) resource usage statistics$/m);
  assert.equal(berth(['--help']).stdout, r.stdout);
});

test('output larger than a pipe holds reaches a slow reader whole (the CLI waits for stdout before exiting)', () => {
  // 64 KB fit in the pipe; Node queues the rest of a larger write, and exiting at once used to drop it.
  const cmd = (tail: string) => `"${process.execPath}" --import tsx "${MAIN}" completion zsh | ${tail}`;
  const whole = spawnSync('bash', ['-c', cmd('wc -c')], { encoding: 'utf8' }).stdout.trim();
  assert.ok(Number(whole) > 65536, `the script is ${whole} bytes`);
  assert.equal(spawnSync('bash', ['-c', cmd('(sleep 1; wc -c)')], { encoding: 'utf8' }).stdout.trim(), whole);
});
