import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns something truthy (or fails with the last value). */
async function until<T>(what: string, fn: () => T, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = fn();
  while (!last && Date.now() < deadline) {
    await sleep(100);
    last = fn();
  }
  assert.ok(last, `timed out waiting for ${what}`);
  return last;
}

const inspect = (d: TestDaemon, fmt: string, ref: string) => d.ok(['inspect', '-f', fmt, ref]);

test('restart policies: on-failure:N, always, stop, rm -f during back-off, unless-stopped across a daemon kill -9', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);

  await t.test('on-failure:2 restarts twice, then stays exited', async () => {
    d.ok(['run', '-d', '--name', 'onf', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
    await until('two restarts and an exit', () => inspect(d, '{{.RestartCount}} {{.State.Status}}', 'onf') === '2 exited');
    await sleep(1500);
    assert.equal(inspect(d, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'onf'), '2 exited 3');
    const evs = d.ok(['events', '--since', '1m', '--until', '0s', '--filter', 'container=onf', '--format', '{{.Action}}']).split('\n');
    assert.deepEqual(evs.filter((e) => e === 'start' || e === 'die'), ['start', 'die', 'start', 'die', 'start', 'die']);
    // A user start begins afresh.
    d.ok(['start', 'onf']);
    await until('restarted by the user', () => inspect(d, '{{.RestartCount}} {{.State.Status}}', 'onf') === '2 exited' || inspect(d, '{{.RestartCount}}', 'onf') === '0');
    d.ok(['rm', '-f', 'onf']);
  });

  await t.test('on-failure does not restart a clean exit', async () => {
    d.ok(['run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true']);
    await until('exit', () => inspect(d, '{{.State.Status}}', 'clean') === 'exited');
    await sleep(500);
    assert.equal(inspect(d, '{{.RestartCount}} {{.State.Status}}', 'clean'), '0 exited');
    d.ok(['rm', 'clean']);
  });

  await t.test('always restarts after the process exits, not after stop', async () => {
    d.ok(['run', '-d', '--name', 'alw', '--restart', 'always', 'busybox', 'sleep', '600']);
    const pid = Number(inspect(d, '{{.State.Pid}}', 'alw'));
    process.kill(pid, 'SIGKILL');
    await until('a restart', () => inspect(d, '{{.RestartCount}} {{.State.Status}}', 'alw') === '1 running');
    assert.notEqual(Number(inspect(d, '{{.State.Pid}}', 'alw')), pid);
    d.ok(['stop', '-t', '1', 'alw']);
    await sleep(800);
    assert.equal(inspect(d, '{{.State.Status}}', 'alw'), 'exited');
    d.ok(['rm', 'alw']);
  });

  await t.test('stop and rm -f during the back-off cancel it; a restarting container needs -f', async () => {
    // After a few quick failures the back-off is long enough to act in.
    d.ok(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    await until('a long back-off', () => Number(inspect(d, '{{.RestartCount}}', 'loop')) >= 5 && inspect(d, '{{.State.Status}}', 'loop') === 'restarting');
    assert.match(d.ok(['ps', '--filter', 'name=loop', '--format', '{{.Status}}']), /^Restarting \(1\) /);
    assert.equal(inspect(d, '{{.State.Restarting}} {{.State.Running}}', 'loop'), 'true true');
    d.ok(['stop', 'loop']);
    const count = inspect(d, '{{.RestartCount}}', 'loop');
    await sleep(4000);
    assert.equal(inspect(d, '{{.State.Status}} {{.RestartCount}}', 'loop'), `exited ${count}`);
    d.ok(['start', 'loop']);
    await until('restarting again', () => inspect(d, '{{.State.Status}}', 'loop') === 'restarting');
    const r = d.docker(['rm', 'loop']);
    if (inspect(d, '{{.State.Status}}', 'loop') === 'restarting') {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /container is restarting: stop the container before removing or force remove/);
    }
    d.ok(['rm', '-f', 'loop']);
    await sleep(1500);
    assert.equal(d.berth(['inspect', 'loop']).code, 1);
  });

  await t.test('unless-stopped: running again after berthd is killed and its process died meanwhile; not if stopped', async () => {
    d.ok(['run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    d.ok(['run', '-d', '--name', 'us-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    d.ok(['run', '-d', '--name', 'alw-stopped', '--restart', 'always', 'busybox', 'sleep', '600']);
    d.ok(['stop', '-t', '0', 'us-stopped', 'alw-stopped']);
    const pid = Number(inspect(d, '{{.State.Pid}}', 'us'));
    await d.stop('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await d.start();
    await until('us running again', () => inspect(d, '{{.State.Status}}', 'us') === 'running');
    assert.notEqual(Number(inspect(d, '{{.State.Pid}}', 'us')), pid);
    assert.equal(inspect(d, '{{.State.Status}}', 'us-stopped'), 'exited');
    assert.equal(inspect(d, '{{.State.Status}}', 'alw-stopped'), 'exited');
    // Still running across a plain kill -9 of the daemon (adopted, not restarted).
    const pid2 = Number(inspect(d, '{{.State.Pid}}', 'us'));
    await d.stop('SIGKILL');
    await d.start();
    assert.equal(inspect(d, '{{.State.Status}} {{.State.Pid}}', 'us'), `running ${pid2}`);
    d.ok(['rm', '-f', 'us', 'us-stopped', 'alw-stopped']);
  });

  await t.test('--rm with a restart policy is refused', () => {
    for (const cli of [d.docker.bind(d), d.berth.bind(d)]) {
      const r = cli(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /conflicting options: cannot specify both --restart and --rm/);
    }
  });
});


test('health checks: starting → healthy → unhealthy with busybox `test -f /tmp/ok`, in inspect, ps and events', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const since = String(Math.floor(Date.now() / 1000) - 1);
  d.ok(['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '1s', '--health-retries', '2',
    '--health-timeout', '2s', 'busybox', 'sleep', '600']);
  assert.equal(inspect(d, '{{json .Config.Healthcheck.Test}}', 'hc'), '["CMD-SHELL","test -f /tmp/ok \u0026\u0026 echo fine"]');
  assert.equal(inspect(d, '{{.State.Health.Status}}', 'hc'), 'starting');
  assert.match(d.docker(['ps', '--filter', 'name=hc', '--format', '{{.Status}}']).stdout, /^Up .* \(health: starting\)$/m);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=starting']).stdout.trim().length, 12);
  // Failures while starting (no start period) count: two make it unhealthy.
  await until('unhealthy', () => inspect(d, '{{.State.Health.Status}}', 'hc') === 'unhealthy');
  assert.match(d.docker(['ps', '--filter', 'name=hc']).stdout, /\(unhealthy\)/);
  d.ok(['exec', 'hc', 'touch', '/tmp/ok']);
  await until('healthy', () => inspect(d, '{{.State.Health.Status}}', 'hc') === 'healthy');
  const ps = d.docker(['ps', '--filter', 'name=hc']);
  assert.equal(ps.code, 0);
  assert.match(ps.stdout, /Up .* \(healthy\)/);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=healthy']).stdout.trim().length, 12);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=unhealthy']).stdout.trim(), '');
  const h = JSON.parse(inspect(d, '{{json .State.Health}}', 'hc')) as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] };
  assert.equal(h.FailingStreak, 0);
  assert.ok(h.Log.length <= 5 && h.Log.length >= 3);
  assert.deepEqual(h.Log.at(-1)!.ExitCode, 0);
  assert.equal(h.Log.at(-1)!.Output, 'fine\n');
  assert.ok(h.Log.some((l) => l.ExitCode === 1));
  // Probes are execs, forgotten when done: only the user's exec is listed.
  assert.equal(inspect(d, '{{len .ExecIDs}}', 'hc'), '1');
  const evs = d.ok(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=health_status', '--format', '{{.Action}}']).split('\n');
  assert.deepEqual(evs, ['health_status: unhealthy', 'health_status: healthy']);
  // Stopped: no more probes; the health stays on record.
  d.ok(['stop', '-t', '0', 'hc']);
  const log1 = inspect(d, '{{json .State.Health.Log}}', 'hc');
  await sleep(1000);
  assert.equal(inspect(d, '{{json .State.Health.Log}}', 'hc'), log1);
  assert.equal(d.docker(['ps', '-aq', '--filter', 'health=none']).stdout.trim(), '');
  // Started again: starting afresh.
  d.ok(['start', 'hc']);
  assert.equal(inspect(d, '{{.State.Health.Status}}', 'hc'), 'starting');
  d.ok(['rm', '-f', 'hc']);

  // A probe that outlives its timeout is killed and fails with dockerd's text; --no-healthcheck and errors.
  d.ok(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '200ms', '--health-timeout', '300ms', 'busybox', 'sleep', '600']);
  await until('a timed-out probe', () => inspect(d, '{{range .State.Health.Log}}{{.Output}}{{end}}', 'slow').includes('Health check exceeded timeout (300ms)'));
  assert.equal(inspect(d, '{{(index .State.Health.Log 0).ExitCode}}', 'slow'), '-1');
  d.ok(['rm', '-f', 'slow']);
  d.ok(['create', '--name', 'nohc', '--no-healthcheck', 'busybox', 'true']);
  assert.equal(inspect(d, '{{json .Config.Healthcheck.Test}}', 'nohc'), '["NONE"]');
  d.ok(['rm', 'nohc']);
  for (const cli of [d.docker.bind(d), d.berth.bind(d)]) {
    const r = cli(['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /--no-healthcheck conflicts with --health-\* options/);
    const neg = cli(['run', '--health-interval', '-1s', 'busybox', 'true']);
    assert.equal(neg.code, 125);
    assert.match(neg.stderr, /--health-interval cannot be negative/);
  }
  const bad = d.docker(['ps', '--filter', 'health=sick']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unrecognised filter value for health: sick/);
});

/** One API call over the daemon's socket; the body as text. */
function api(d: TestDaemon, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('events: filters, --since/--until and --format through berth and docker; a reader that stops reading is cut off', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const t0 = (Date.now() / 1000).toFixed(3);
  await sleep(20);
  d.ok(['run', '--name', 'ev1', '--label', 'team=a', 'busybox', 'true']);
  d.ok(['create', '--name', 'ev2', '--label', 'team=b', 'busybox', 'true']);
  d.ok(['tag', 'busybox', 'evtest:1']);
  d.ok(['network', 'create', 'evnet']);
  d.ok(['network', 'rm', 'evnet']);
  d.ok(['rename', 'ev2', 'ev3']);
  d.ok(['rm', 'ev1', 'ev3']);
  d.ok(['rmi', 'evtest:1']);
  await sleep(20);
  const t1 = (Date.now() / 1000).toFixed(3);
  const range = ['--since', t0, '--until', t1];
  for (const cli of ['berth', 'docker'] as const) {
    const run = (args: string[]) => {
      const r = cli === 'berth' ? d.berth(args) : d.docker(args);
      assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim().split('\n').filter(Boolean);
    };
    assert.deepEqual(run(['events', ...range, '--filter', 'container=ev1', '--format', '{{.Action}}']), ['create', 'attach', 'start', 'die', 'destroy'], cli);
    assert.deepEqual(run(['events', ...range, '--filter', 'label=team=b', '--format', '{{.Action}} {{.Actor.Attributes.name}}']), ['create ev2', 'rename ev3', 'destroy ev3'], cli);
    assert.deepEqual(run(['events', ...range, '--filter', 'type=image', '--format', '{{.Action}}']), ['tag', 'untag'], cli);
    assert.deepEqual(run(['events', ...range, '--filter', 'type=network', '--filter', 'network=evnet', '--format', '{{.Action}}']), ['create', 'destroy'], cli);
    assert.deepEqual(run(['events', ...range, '--filter', 'type=container', '--filter', 'event=die', '--filter', 'event=destroy', '--format', '{{.Actor.Attributes.name}} {{.Action}}']), ['ev1 die', 'ev1 destroy', 'ev3 destroy'], cli);
    assert.deepEqual(run(['events', ...range, '--filter', 'image=busybox', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}']), ['ev1', 'ev2'], cli);
    // The default line: time, type, action, ID and sorted attributes.
    const line = run(['events', ...range, '--filter', 'container=ev1', '--filter', 'event=die'])[0]!;
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(execDuration=\d+, exitCode=0, image=busybox, name=ev1, team=a\)$/);
    const json = JSON.parse(run(['events', ...range, '--filter', 'container=ev1', '--filter', 'event=start', '--format', 'json'])[0]!) as Record<string, unknown>;
    assert.equal(json['Type'], 'container');
    assert.equal(json['status'], 'start');
    assert.equal(json['from'], 'busybox');
    assert.equal(json['scope'], 'local');
    assert.equal(typeof json['timeNano'], 'number');
    // Relative times: the last minute holds them all; an --until in the past ends the stream at once.
    assert.ok(run(['events', '--since', '1m', '--until', '0s', '--filter', 'type=container']).length >= 8);
  }
  const bad = d.docker(['events', '--since', t1, '--until', t0]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /`since` time \(.*\) cannot be after `until` time/);

  // Live: a reader gets events as they happen, and the stream ends at --until (an --until alone
  // would replay the whole history first, as dockerd does).
  const live = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}',
    '--since', String(Date.now() / 1000), '--until', String(Date.now() / 1000 + 4)],
    { env: { ...process.env, DOCKER_HOST: d.host } });
  let liveOut = '';
  live.stdout.on('data', (b: Buffer) => { liveOut += b.toString(); });
  const liveDone = new Promise<number>((r) => live.on('close', (c) => r(c ?? -1)));
  await sleep(700);
  d.ok(['create', '--name', 'ev-live', 'busybox', 'true']);
  assert.equal(await liveDone, 0);
  assert.equal(liveOut.trim(), 'ev-live');

  // A reader that never reads while thousands of events go by: dropped, while berthd answers and a
  // reading client gets every event.
  const slow = connect(d.socket);
  slow.write('GET /events HTTP/1.1\r\nHost: docker\r\n\r\n');
  await sleep(200);
  slow.pause();
  const reader = request({ socketPath: d.socket, path: '/events?filters=' + encodeURIComponent('{"event":["rename"]}'), agent: false });
  let readerEvents = 0;
  let readerBuf = '';
  reader.on('response', (res) => res.on('data', (b: Buffer) => {
    readerBuf += b.toString();
    const lines = readerBuf.split('\n');
    readerBuf = lines.pop()!;
    readerEvents += lines.filter(Boolean).length;
  }));
  reader.end();
  await sleep(200);
  const N = 2500;
  const liveId = inspect(d, '{{.Id}}', 'ev-live');
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    const r = await api(d, 'POST', `/containers/${liveId}/rename?name=ev-live-${i % 2 ? 'a' : 'b'}-${i}`);
    assert.equal(r.status, 204);
  }
  const ping = await api(d, 'GET', '/_ping');
  assert.equal(ping.body, 'OK');
  await until('the reader to see every rename', () => readerEvents === N, 10000);
  reader.destroy();
  // The slow one was cut off: resumed now, its stream ends after what had been buffered for it.
  let slowBytes = 0;
  const slowEnded = new Promise<void>((r) => { slow.on('end', r); slow.on('close', () => r()); });
  slow.on('data', (b: Buffer) => { slowBytes += b.length; });
  slow.resume();
  await Promise.race([slowEnded, sleep(10000).then(() => assert.fail('the slow reader was never disconnected'))]);
  assert.ok(slowBytes < N * 200, `slow reader got ${slowBytes} bytes for ${N} events`);
  slow.destroy();
  t.diagnostic(`${N} renames in ${Date.now() - started} ms; slow reader got ${slowBytes} bytes before being dropped`);
  d.ok(['rm', liveId]);
});
