import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** Polls until `fn` returns something truthy (or fails with the last value). */
async function until<T>(what: string, fn: () => T | Promise<T>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await fn();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  assert.ok(last, `timed out waiting for ${what}`);
  return last;
}

const inspect = (d: TestDaemon, fmt: string, ref: string) => d.ok(['inspect', '-f', fmt, ref]);
/** Seconds since the epoch, with milliseconds, as `events --since/--until` take them. */
const nowSeconds = () => (Date.now() / 1000).toFixed(3);

test('restart policies: on-failure:N, always, stop, rm -f during back-off, unless-stopped across a daemon kill -9', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const startsAndDies = (since: string) => d.ok(['events', '--since', since, '--until', nowSeconds(), '--filter', 'container=onf', '--format', '{{.Action}}'])
    .split('\n').filter((e) => e === 'start' || e === 'die');

  // A container is left `exited` only when no restart is pending (a pending one shows
  // `restarting`), so an exited state read once is final: no need to wait and look again.
  await t.test('on-failure:2 restarts twice, then stays exited; a user start begins the count afresh', async () => {
    const t0 = nowSeconds();
    d.ok(['run', '-d', '--name', 'onf', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
    await until('two restarts and an exit', () => inspect(d, '{{.RestartCount}} {{.State.Status}}', 'onf') === '2 exited');
    assert.equal(inspect(d, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'onf'), '2 exited 3');
    assert.deepEqual(startsAndDies(t0), ['start', 'die', 'start', 'die', 'start', 'die']);
    // Had the count not been reset, the policy (2 restarts made) would not restart it at all.
    const t1 = nowSeconds();
    d.ok(['start', 'onf']);
    await until('two more restarts', () => startsAndDies(t1).length === 6 && inspect(d, '{{.State.Status}}', 'onf') === 'exited');
    assert.equal(inspect(d, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'onf'), '2 exited 3');
    d.ok(['rm', '-f', 'onf']);
  });

  await t.test('on-failure does not restart a clean exit', async () => {
    d.ok(['run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true']);
    await until('exit', () => inspect(d, '{{.State.Status}}', 'clean') === 'exited');
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
    assert.equal(inspect(d, '{{.State.Status}}', 'alw'), 'exited');
    d.ok(['rm', 'alw']);
  });

  await t.test('stop, kill and rm -f during the back-off end it at any point of the loop; rm without -f refuses', async () => {
    d.ok(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    // The loop spends most of its time between runs; each read below is retried until it lands there.
    await until('inspect shows the back-off', () => inspect(d, '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}', 'loop') === 'restarting true true');
    await until('ps shows the back-off', () => /^Restarting \(1\) /.test(d.ok(['ps', '--filter', 'name=loop', '--format', '{{.Status}}'])));
    // Stop and kill leave it exited for good wherever in the loop they land (waiting, starting or
    // running): the state right after they answer is final, as no restart is pending then.
    for (let i = 0; i < 6; i++) {
      const op = i % 2 ? 'kill' : 'stop';
      const r = await api(d, 'POST', `/containers/loop/${op}`);
      assert.ok([204, 304, 409].includes(r.status), `${op}: ${r.status} ${r.body}`);
      assert.equal(inspect(d, '{{.State.Status}}', 'loop'), 'exited', `after ${op} #${i} (${r.status})`);
      assert.equal((await api(d, 'POST', '/containers/loop/start')).status, 204);
      // Somewhere else in the loop next time: right away, or once it waits again.
      if (i % 3 === 2) await until('the back-off', () => inspect(d, '{{.State.Status}}', 'loop') === 'restarting');
    }
    // Without -f: refused in docker's words, whether it is caught waiting or running; it stays.
    const refusals = new Set<string>();
    await until('a refusal while restarting', () => {
      const r = d.docker(['rm', 'loop']);
      assert.notEqual(r.code, 0, 'rm without -f removed a restarting container');
      const m = /container is (restarting|running): stop the container before removing or force remove/.exec(r.stderr);
      assert.ok(m, r.stderr);
      refusals.add(m[1]!);
      return refusals.has('restarting');
    });
    assert.match(inspect(d, '{{.State.Status}}', 'loop'), /^(restarting|running)$/);
    assert.equal(d.ok(['rm', '-f', 'loop']), 'loop');
    const gone = d.berth(['inspect', 'loop']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such (object|container): loop/);
  });

  await t.test('a stop racing a start: the stop wins or finds nothing to stop, never a restart after it', async () => {
    d.ok(['create', '--name', 'race', '--restart', 'always', 'busybox', 'sleep', '600']);
    // The stop is sent 0 to 350 ms after the start, to land in each phase of it (any outcome must hold).
    for (let i = 0; i < 8; i++) {
      const stopLater = new Promise((r) => setTimeout(r, i * 50)).then(() => api(d, 'POST', '/containers/race/stop?t=0'));
      const [start, stop] = await Promise.all([api(d, 'POST', '/containers/race/start'), stopLater]);
      assert.equal(start.status, 204, start.body);
      // 304: the stop came first and found it stopped; the start then left it running.
      const want = stop.status === 304 ? 'running' : 'exited';
      assert.equal(stop.status === 304 || stop.status === 204, true, `stop: ${stop.status} ${stop.body}`);
      assert.equal(inspect(d, '{{.State.Status}}', 'race'), want, `round ${i}: stop answered ${stop.status}`);
      if (want === 'running') d.ok(['stop', '-t', '0', 'race']);
    }
    d.ok(['rm', 'race']);
  });

  await t.test('unless-stopped: running again after berthd is killed and its process died meanwhile; not if stopped', async () => {
    d.ok(['run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    d.ok(['run', '-d', '--name', 'us-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
    d.ok(['run', '-d', '--name', 'alw-stopped', '--restart', 'always', 'busybox', 'sleep', '600']);
    d.ok(['stop', '-t', '0', 'us-stopped', 'alw-stopped']);
    const pid = Number(inspect(d, '{{.State.Pid}}', 'us'));
    await d.stop('SIGKILL');
    process.kill(pid, 'SIGKILL');
    // Gone (reaped by its conmon) before berthd comes back, or berthd would adopt it still running.
    await until('the process to be reaped', () => !isAlive(pid));
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

/** Whether a process exists (a zombie counts as gone: it has exited). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// The timing of the monitor (intervals, start period, retries) is unit-tested with a fake clock in
// src/engine/containers/health.test.ts; this test drives a real probe end to end. The start period
// keeps the container `starting` until the test makes the probe pass, so no state depends on how
// fast this machine runs the probes.
test('health checks: starting → healthy → unhealthy with busybox `test -f /tmp/ok`, in inspect, ps and events', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const since = nowSeconds();
  d.ok(['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '1s', '--health-retries', '2',
    '--health-timeout', '5s', '--health-start-period', '1h', '--health-start-interval', '1s', 'busybox', 'sleep', '600']);
  assert.equal(inspect(d, '{{json .Config.Healthcheck.Test}}', 'hc'), '["CMD-SHELL","test -f /tmp/ok \u0026\u0026 echo fine"]');
  assert.equal(inspect(d, '{{.State.Health.Status}}', 'hc'), 'starting');
  // Failures inside the start period do not count: still starting after some.
  await until('two failed probes', () => Number(inspect(d, '{{len .State.Health.Log}}', 'hc')) >= 2);
  assert.equal(inspect(d, '{{.State.Health.Status}} {{.State.Health.FailingStreak}}', 'hc'), 'starting 0');
  assert.match(inspect(d, '{{range .State.Health.Log}}{{.ExitCode}}{{end}}', 'hc'), /^11+$/);
  assert.match(d.docker(['ps', '--filter', 'name=hc', '--format', '{{.Status}}']).stdout, /^Up .* \(health: starting\)$/m);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=starting']).stdout.trim().length, 12);

  d.ok(['exec', 'hc', 'touch', '/tmp/ok']);
  await until('healthy', () => inspect(d, '{{.State.Health.Status}}', 'hc') === 'healthy');
  const ps = d.docker(['ps', '--filter', 'name=hc']);
  assert.equal(ps.code, 0);
  assert.match(ps.stdout, /Up .* \(healthy\)/);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=healthy']).stdout.trim().length, 12);
  assert.equal(d.docker(['ps', '-q', '--filter', 'health=unhealthy']).stdout.trim(), '');
  type Health = { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] };
  const healthy = JSON.parse(inspect(d, '{{json .State.Health}}', 'hc')) as Health;
  assert.equal(healthy.FailingStreak, 0);
  assert.equal(healthy.Log.at(-1)!.ExitCode, 0);
  assert.equal(healthy.Log.at(-1)!.Output, 'fine\n');

  // Healthy, the start period no longer matters: two failures in a row make it unhealthy.
  d.ok(['exec', 'hc', 'rm', '/tmp/ok']);
  await until('unhealthy', () => inspect(d, '{{.State.Health.Status}}', 'hc') === 'unhealthy');
  assert.match(d.docker(['ps', '--filter', 'name=hc']).stdout, /\(unhealthy\)/);
  const unhealthy = JSON.parse(inspect(d, '{{json .State.Health}}', 'hc')) as Health;
  assert.ok(unhealthy.FailingStreak >= 2, `FailingStreak ${unhealthy.FailingStreak}`);
  assert.ok(unhealthy.Log.length <= 5);
  assert.deepEqual(unhealthy.Log.slice(-2).map((l) => l.ExitCode), [1, 1]);
  // Probes are execs, forgotten when done: apart from one probe under way, only the user's two execs are listed.
  await until('no probe under way', () => inspect(d, '{{len .ExecIDs}}', 'hc') === '2');
  const evs = d.ok(['events', '--since', since, '--until', nowSeconds(), '--filter', 'event=health_status', '--format', '{{.Action}}']).split('\n');
  assert.deepEqual(evs, ['health_status: healthy', 'health_status: unhealthy']);
  // Stopped: the monitor ends with the run; the health stays on record.
  d.ok(['stop', '-t', '0', 'hc']);
  assert.equal(inspect(d, '{{.State.Health.Status}}', 'hc'), 'unhealthy');
  assert.equal(d.docker(['ps', '-aq', '--filter', 'health=none']).stdout.trim(), '');
  // Started again: starting afresh (that the log is kept is unit-tested in health.test.ts).
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

/** GET /events on its own connection; resolves once the response has begun (the daemon subscribes before answering). */
async function subscribe(d: TestDaemon, filters: string): Promise<{ lines: string[]; close(): void }> {
  const lines: string[] = [];
  const req = request({ socketPath: d.socket, path: `/events?filters=${encodeURIComponent(filters)}`, agent: false });
  await new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let buf = '';
      res.on('data', (b: Buffer) => {
        buf += b.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts.filter(Boolean));
      });
      resolve();
    });
    req.end();
  });
  return { lines, close: () => req.destroy() };
}

test('events: filters, --since/--until and --format through berth and docker; a reader that stops reading is cut off', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const t0 = nowSeconds();
  d.ok(['run', '--name', 'ev1', '--label', 'team=a', 'busybox', 'true']);
  d.ok(['create', '--name', 'ev2', '--label', 'team=b', 'busybox', 'true']);
  d.ok(['tag', 'busybox', 'evtest:1']);
  d.ok(['network', 'create', 'evnet']);
  d.ok(['network', 'rm', 'evnet']);
  d.ok(['rename', 'ev2', 'ev3']);
  d.ok(['rm', 'ev1', 'ev3']);
  d.ok(['rmi', 'evtest:1']);
  const t1 = nowSeconds();
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

  // Live: a subscriber (its response begun, so subscribed) gets an event as it happens.
  const beforeCreate = nowSeconds();
  const live = await subscribe(d, '{"event":["create"]}');
  d.ok(['create', '--name', 'ev-live', 'busybox', 'true']);
  await until('the live create event', () => live.lines.some((l) => l.includes('"name":"ev-live"')));
  live.close();
  // An --until still to come: what matches is replayed, and the stream ends by itself at --until.
  const ends = d.docker(['events', '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}',
    '--since', beforeCreate, '--until', String(Date.now() / 1000 + 1)]);
  assert.equal(ends.code, 0, ends.stderr);
  assert.equal(ends.stdout.trim(), 'ev-live');

  // A reader that never reads while thousands of events go by: dropped, while berthd answers and a
  // reading client gets every event.
  const slow = connect(d.socket);
  const slowSubscribed = new Promise<void>((r) => slow.once('data', () => r()));
  slow.write('GET /events HTTP/1.1\r\nHost: docker\r\n\r\n');
  await slowSubscribed;
  slow.pause();
  const reader = await subscribe(d, '{"event":["rename"]}');
  const N = 2500;
  const liveId = inspect(d, '{{.Id}}', 'ev-live');
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    const r = await api(d, 'POST', `/containers/${liveId}/rename?name=ev-live-${i % 2 ? 'a' : 'b'}-${i}`);
    assert.equal(r.status, 204);
  }
  const ping = await api(d, 'GET', '/_ping');
  assert.equal(ping.body, 'OK');
  await until('the reader to see every rename', () => reader.lines.length === N);
  reader.close();
  // The slow one was cut off: resumed now, its stream ends after what had been buffered for it.
  let slowBytes = 0;
  let slowEnded = false;
  slow.on('end', () => { slowEnded = true; });
  slow.on('close', () => { slowEnded = true; });
  slow.on('data', (b: Buffer) => { slowBytes += b.length; });
  slow.resume();
  await until('the slow reader to be disconnected', () => slowEnded);
  assert.ok(slowBytes < N * 200, `slow reader got ${slowBytes} bytes for ${N} events`);
  slow.destroy();
  t.diagnostic(`${N} renames in ${Date.now() - started} ms; slow reader got ${slowBytes} bytes before being dropped`);
  d.ok(['rm', liveId]);
});
