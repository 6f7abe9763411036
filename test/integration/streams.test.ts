import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO, daemonFor, requireRoot, type RunResult, type TestDaemon } from './harness.ts';

type Cli = 'berth' | 'docker';
const CLIS: readonly Cli[] = ['berth', 'docker'];

/** argv and environment for one CLI against the test daemon. */
function cliCommand(d: TestDaemon, cli: Cli, args: string[]): { cmd: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') };
  return cli === 'berth' ? { cmd: process.execPath, argv: [join(REPO, 'dist/berth.mjs'), ...args], env } : { cmd: 'docker', argv: args, env };
}

/** Runs a CLI with binary stdin; a hang fails the test after 30 s instead of blocking the suite. */
function runWithInput(d: TestDaemon, cli: Cli, args: string[], input: Buffer): RunResult {
  const { cmd, argv, env } = cliCommand(d, cli, args);
  const r = spawnSync(cmd, argv, { env, input, encoding: 'utf8', timeout: 30000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Several MB of stdin that a byte-mangling relay would spoil: random bytes, NULs, CR/LF, and the
 * default detach keys (ctrl-p ctrl-q), which only a terminal may interpret.
 */
function awkwardInput(): Buffer {
  const parts = [Buffer.from([0x10, 0x11, 0, 0, 0x0d, 0x0a]), randomBytes(3 << 20), Buffer.from('\x10\x11end\x00\x10')];
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Polls until `check` is true or the deadline passes. */
async function until(check: () => boolean, what: string, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('stdin arrives byte-exact, then EOF: run -i, exec -i, start -ai and attach', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const input = awkwardInput();
  const digest = sha256(input);
  for (const cli of CLIS) {
    await t.test(`${cli} run -i --rm`, () => {
      const r = runWithInput(d, cli, ['run', '-i', '--rm', 'busybox', 'sha256sum'], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
    });
    await t.test(`${cli} exec -i`, () => {
      d.ok(['run', '-d', '--name', `ex-${cli}`, 'busybox', 'sleep', '300']);
      const r = runWithInput(d, cli, ['exec', '-i', `ex-${cli}`, 'sha256sum'], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      d.ok(['rm', '-f', `ex-${cli}`]);
    });
    await t.test(`${cli} start -ai attaches stdin to a created container`, () => {
      // -a stdin makes the CLI set StdinOnce: the container's stdin closes when the attach ends.
      d.ok(['create', '-i', '-a', 'stdin', '-a', 'stdout', '--name', `st-${cli}`, 'busybox', 'sha256sum']);
      const r = runWithInput(d, cli, ['start', '-ai', `st-${cli}`], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      d.ok(['rm', '-f', `st-${cli}`]);
    });
    await t.test(`${cli} attach with stdin to a running container`, async () => {
      const name = `at-${cli}`;
      d.ok(['create', '-i', '-a', 'stdin', '-a', 'stdout', '--name', name, 'busybox', 'sha256sum']);
      d.ok(['start', name]);
      const r = runWithInput(d, cli, ['attach', name], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(/\s/)[0], digest);
      await until(() => d.ok(['inspect', '-f', '{{.State.Status}}', name]) === 'exited', `${name} to exit`);
      d.ok(['rm', '-f', name]);
    });
  }
});
