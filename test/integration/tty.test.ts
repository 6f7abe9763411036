import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/**
 * Runs a CLI under a real pseudo-terminal (util-linux `script`), typing `keys` step by step.
 * Returns the exit status and what the terminal showed.
 */
function underTty(d: TestDaemon, cli: 'berth' | 'docker', args: string[], keys: { afterMs: number; text: string }[]): Promise<{ code: number; screen: string }> {
  const cmd = cli === 'berth' ? `${process.execPath} ${join(REPO, 'dist/berth.mjs')} ${args.join(' ')}` : `docker ${args.join(' ')}`;
  const p = spawn('script', ['-qfec', `stty rows 30 cols 100; ${cmd}`, '/dev/null'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  p.stdout.on('data', (b: Buffer) => { screen += b.toString(); });
  let t = 0;
  for (const k of keys) { t += k.afterMs; setTimeout(() => p.stdin.write(k.text), t); }
  setTimeout(() => p.stdin.end(), t + 1500);
  return new Promise((resolve) => p.on('close', (code) => resolve({ code: code ?? -1, screen })));
}

test('run -it is a real terminal: tty, size, exit code, detach and attach back', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  for (const cli of ['berth', 'docker'] as const) {
    await t.test(`${cli} run -it`, async () => {
      const r = await underTty(d, cli, ['run', '-it', '--rm', 'busybox', 'sh'], [
        { afterMs: 1200, text: 'tty; stty size; echo $((6*7))\r' }, { afterMs: 400, text: 'exit 4\r' }]);
      assert.equal(r.code, 4, r.screen);
      assert.match(r.screen, /\/dev\/pts\/0/);
      assert.match(r.screen, /30 100/);
      assert.match(r.screen, /42/);
    });
  }
  await t.test('ctrl-p ctrl-q detaches; attach comes back; exit ends it', async () => {
    const first = await underTty(d, 'berth', ['run', '-it', '--name', 'det', 'busybox', 'sh'], [
      { afterMs: 1200, text: 'echo before\r' }, { afterMs: 400, text: '\x10\x11' }]);
    assert.equal(first.code, 0, first.screen);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'det']), 'running');
    const second = await underTty(d, 'berth', ['attach', 'det'], [{ afterMs: 800, text: 'echo back\r' }, { afterMs: 400, text: 'exit 3\r' }]);
    assert.equal(second.code, 3, second.screen);
    assert.match(second.screen, /back/);
    d.ok(['rm', 'det']);
  });
  await t.test('exec -it gets a terminal of its own and its exit code', async () => {
    d.ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    for (const cli of ['berth', 'docker'] as const) {
      const r = await underTty(d, cli, ['exec', '-it', 'ex', 'sh'], [{ afterMs: 800, text: 'stty size\r' }, { afterMs: 300, text: 'exit 9\r' }]);
      assert.equal(r.code, 9, r.screen);
      assert.match(r.screen, /30 100/);
    }
    d.ok(['rm', '-f', 'ex']);
  });
});
