import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { daemonFor, requireRoot, waitFor } from './harness.ts';

test('run, logs, exec, stop and rm through berth and the real docker CLI', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);

  await t.test('run --rm prints output and returns the exit code', () => {
    assert.equal(d.ok(['run', '--rm', 'busybox', 'echo', 'hello from berth']), 'hello from berth');
    assert.equal(d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
    const r = d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  await t.test('stdin streams with -i', () => {
    assert.equal(d.ok(['run', '--rm', '-i', 'busybox', 'cat'], 'hi\n'), 'hi');
    assert.equal(d.docker(['run', '--rm', '-i', 'busybox', 'wc', '-c'], 'abcd').stdout.trim(), '4');
  });

  await t.test('bad input gives docker exit codes and leaves nothing behind', () => {
    const before = d.ok(['ps', '-aq']);
    assert.equal(d.berth(['run', '--rm', 'nosuchimage']).code, 125);
    assert.equal(d.berth(['run', '--rm', 'busybox', 'nosuchcommand']).code, 127);
    assert.equal(d.docker(['run', '--rm', 'busybox', 'nosuchcommand']).code, 127);
    assert.equal(d.berth(['run', '--bogus', 'busybox']).code, 125);
    assert.equal(d.ok(['ps', '-aq']), before);
  });

  await t.test('detached container: ps, inspect, logs, exec, top, stop, rm', () => {
    const id = d.ok(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; echo oops >&2; while true; do sleep 1; done']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(d.ok(['ps']), /web/);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Running}} {{.Name}}', 'web']), 'true /web');
    assert.equal(d.docker(['inspect', '-f', '{{.State.Status}}', id.slice(0, 8)]).stdout.trim(), 'running');
    const pid = Number(d.ok(['inspect', '-f', '{{.State.Pid}}', 'web']));
    assert.ok(pid > 1);
    const logs = d.berth(['logs', 'web']);
    assert.equal(logs.stdout, 'started\n');
    assert.equal(logs.stderr, 'oops\n');
    assert.equal(d.docker(['logs', 'web']).stdout, 'started\n');
    assert.equal(d.ok(['exec', 'web', 'echo', 'inside']), 'inside');
    assert.equal(d.berth(['exec', 'web', 'sh', '-c', 'exit 42']).code, 42);
    assert.equal(d.docker(['exec', 'web', 'sh', '-c', 'exit 7']).code, 7);
    assert.match(d.ok(['top', 'web']), /sleep|sh -c/);
    const rmRunning = d.berth(['rm', 'web']);
    assert.notEqual(rmRunning.code, 0);
    assert.match(rmRunning.stderr, /stop the container before removing or force remove/);
    d.ok(['stop', '-t', '1', 'web']);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'web']), 'exited');
    d.ok(['rm', 'web']);
    assert.equal(d.berth(['inspect', 'web']).code, 1);
  });

  await t.test('name conflict is refused with docker wording', () => {
    d.ok(['create', '--name', 'dup', 'busybox', 'true']);
    const r = d.berth(['create', '--name', 'dup', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Conflict. The container name "\/dup" is already in use/);
    d.ok(['rm', 'dup']);
  });

  await t.test('logs -f follows until the container exits; --tail and -t', () => {
    d.ok(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done']);
    assert.equal(d.ok(['logs', '-f', 'follow']), 'line 1\nline 2\nline 3');
    assert.equal(d.docker(['logs', '-f', 'follow']).stdout, 'line 1\nline 2\nline 3\n');
    assert.equal(d.ok(['logs', '--tail', '1', 'follow']), 'line 3');
    assert.match(d.ok(['logs', '-t', '--tail', '1', 'follow']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3$/);
    d.ok(['rm', 'follow']);
  });

  await t.test('log rotation: --log-opt max-size/max-file bound the files, logs reads across them', async () => {
    d.ok(['run', '-d', '--name', 'chatty', '--log-opt', 'max-size=64k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 3000 ]; do echo "line $i $i $i $i $i $i $i $i"; i=$((i+1)); if [ $((i % 300)) = 0 ]; then sleep 0.4; fi; done']);
    assert.equal(d.ok(['wait', 'chatty']), '0');
    const logPath = d.ok(['inspect', '-f', '{{.LogPath}}', 'chatty']);
    const files = readdirSync(dirname(logPath)).filter((f) => f.startsWith('container.log'));
    assert.ok(files.length >= 2 && files.length <= 3, `rotated files: ${files.join(' ')}`);
    for (const f of files) assert.ok(statSync(join(dirname(logPath), f)).size < 64 * 1024 * 4, `${f} is bounded`);
    const lines = d.ok(['logs', 'chatty']).split('\n');
    // The newest lines are all there, in order, ending with the last one written.
    assert.equal(lines.at(-1), 'line 2999 2999 2999 2999 2999 2999 2999 2999');
    const nums = lines.map((l) => Number(l.split(' ')[1]));
    assert.ok(nums.every((n, i) => i === 0 || n === nums[i - 1]! + 1), 'no gap or reordering across rotated files');
    assert.equal(d.ok(['logs', '--tail', '2', 'chatty']).split('\n').length, 2);
    d.ok(['rm', 'chatty']);
  });

  await t.test('start -a on a stopped container streams its next run and returns its status', () => {
    d.ok(['create', '--name', 'again', 'busybox', 'sh', '-c', 'echo run; exit 6']);
    const first = d.berth(['start', '-a', 'again']);
    assert.equal(first.code, 6);
    assert.equal(first.stdout, 'run\n');
    const second = d.docker(['start', '-a', 'again']);
    assert.equal(second.code, 6);
    assert.equal(second.stdout, 'run\n');
    const attach = d.berth(['attach', 'again']);
    assert.equal(attach.code, 1);
    assert.match(attach.stderr, /You cannot attach to a stopped container, start it first/);
    d.ok(['rm', 'again']);
  });

  await t.test('pause, unpause, kill, wait', () => {
    d.ok(['run', '-d', '--name', 'pz', 'busybox', 'sleep', '300']);
    d.ok(['pause', 'pz']);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'pz']), 'paused');
    d.ok(['unpause', 'pz']);
    d.ok(['kill', 'pz']);
    assert.equal(d.ok(['wait', 'pz']), '137');
    d.ok(['rm', 'pz']);
  });
});

test('a restarted berthd adopts running containers, even after kill -9', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo one; sleep 2; echo two; sleep 300']);
  const shortlived = d.ok(['run', '-d', '--name', 'shortlived', 'busybox', 'sh', '-c', 'sleep 1; exit 9']);
  const log = d.ok(['inspect', '-f', '{{.LogPath}}', 'survivor']);
  await d.stop('SIGKILL');
  // While berthd is down, one exits (its conmon records the exit) and the other logs on.
  await waitFor('shortlived to exit', () => existsSync(join(d.execRoot, 'exits', shortlived)));
  await waitFor('survivor to log its second line', () => existsSync(log) && readFileSync(log, 'utf8').includes('two'));
  await d.start();
  assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'survivor']), 'running');
  assert.equal(d.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived']), 'exited 9');
  assert.equal(d.ok(['logs', 'survivor']), 'one\ntwo');
  d.ok(['rm', '-f', 'survivor', 'shortlived']);
});
