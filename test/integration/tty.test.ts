import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/**
 * The busybox shell's prompt at the end of the screen, ready for a line: followed by its question
 * to the terminal (ESC[6n: where is the cursor? `script` does not answer, and busybox reads on), or
 * drawn again after a resize (ending in ESC[J).
 */
// eslint-disable-next-line no-control-regex -- the escapes busybox writes to its terminal
const PROMPT = /# (\x1b\[6n|\x1b\[J)?$/;

/**
 * Runs a CLI under a real pseudo-terminal (util-linux `script`), typing each step's text once the
 * screen (past what the previous step waited for) matches its `after`: keys go in when the other
 * side is ready for them, however slow this machine is. Returns the exit status and the screen.
 */
function underTty(d: TestDaemon, cli: 'berth' | 'docker', args: string[], steps: { after?: RegExp; text: string }[]): Promise<{ code: number; screen: string }> {
  const cmd = cli === 'berth' ? `${process.execPath} ${join(REPO, 'dist/berth.mjs')} ${args.join(' ')}` : `docker ${args.join(' ')}`;
  const p = spawn('script', ['-qfec', `stty rows 30 cols 100; ${cmd}`, '/dev/null'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let seen = 0;
  const pending = [...steps];
  const typeWhenReady = () => {
    while (pending.length) {
      const { after, text } = pending[0]!;
      if (after) {
        const m = after.exec(screen.slice(seen));
        if (!m) return;
        seen += m.index + m[0].length;
      }
      pending.shift();
      p.stdin.write(text);
    }
  };
  p.stdout.on('data', (b: Buffer) => { screen += b.toString(); typeWhenReady(); });
  typeWhenReady();
  // A deadline, not a pace: a step whose screen never comes fails the test with what was shown.
  const deadline = setTimeout(() => p.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => p.on('close', (code) => {
    clearTimeout(deadline);
    resolve({ code: code ?? -1, screen: pending.length ? `${screen}\n[never shown: ${pending[0]!.after}]` : screen });
  }));
}

test('run -it is a real terminal: tty, size, exit code, detach and attach back', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  for (const cli of ['berth', 'docker'] as const) {
    await t.test(`${cli} run -it`, async () => {
      const r = await underTty(d, cli, ['run', '-it', '--rm', 'busybox', 'sh'], [
        { after: PROMPT, text: 'tty; stty size; echo $((6*7))\r' }, { after: /\n42\r*\n/, text: 'exit 4\r' }]);
      assert.equal(r.code, 4, r.screen);
      assert.match(r.screen, /\/dev\/pts\/0/);
      assert.match(r.screen, /30 100/);
      assert.match(r.screen, /42/);
    });
  }
  await t.test('ctrl-p ctrl-q detaches; attach comes back; exit ends it', async () => {
    const first = await underTty(d, 'berth', ['run', '-it', '--name', 'det', 'busybox', 'sh'], [
      { after: PROMPT, text: 'echo before\r' }, { after: /\nbefore\r*\n/, text: '\x10\x11' }]);
    assert.equal(first.code, 0, first.screen);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'det']), 'running');
    // Attached, the shell prints nothing until it gets a line: the first one is sent at once (the
    // terminal holds it, in whole, until berth reads it).
    const second = await underTty(d, 'berth', ['attach', 'det'], [{ text: 'echo back\r' }, { after: /\nback\r*\n/, text: 'exit 3\r' }]);
    assert.equal(second.code, 3, second.screen);
    assert.match(second.screen, /back/);
    d.ok(['rm', 'det']);
  });
  await t.test('exec -it gets a terminal of its own and its exit code', async () => {
    d.ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    for (const cli of ['berth', 'docker'] as const) {
      const r = await underTty(d, cli, ['exec', '-it', 'ex', 'sh'], [{ after: PROMPT, text: 'stty size\r' }, { after: /30 100/, text: 'exit 9\r' }]);
      assert.equal(r.code, 9, r.screen);
      assert.match(r.screen, /30 100/);
    }
    d.ok(['rm', '-f', 'ex']);
  });
});
