// `ps` and `inspect` output, and the real docker CLI (28, speaking 1.47 and 1.41) against berthd:
// version, info, ps, images, rm -f and Docker's error wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonFor, requireRoot, type RunResult, type TestDaemon } from './harness.ts';

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

/** The docker CLI with DOCKER_API_VERSION set (the 20.10 client speaks 1.41). */
function dockerAt(d: TestDaemon, version: string, args: string[]): RunResult {
  const saved = process.env['DOCKER_API_VERSION'];
  process.env['DOCKER_API_VERSION'] = version;
  try { return d.docker(args); } finally {
    if (saved === undefined) delete process.env['DOCKER_API_VERSION'];
    else process.env['DOCKER_API_VERSION'] = saved;
  }
}

test('ps, inspect and the docker CLI against berthd', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);

  // A fixed cast: two exited (codes 0 and 3), one created, two running; each labelled.
  d.ok(['run', '--name', 'c-exit0', '--label', 'role=batch', 'busybox', 'true']);
  assert.equal(d.berth(['run', '--name', 'c-exit3', '--label', 'role=batch', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
  d.ok(['create', '--name', 'c-created', '--label', 'role=idle', 'busybox', 'true']);
  const run1 = d.ok(['run', '-d', '--name', 'c-run1', '--label', 'role=web', '-e', 'A=1', '-e', 'B=two words', 'busybox', 'sleep', '300']);
  const run2 = d.ok(['run', '-d', '--name', 'c-run2', '--label', 'role=web', 'busybox', 'sh', '-c', 'sleep 300']);
  const names = (args: string[]): string[] => lines(d.ok(['ps', ...args, '--format', '{{.Names}}'])).sort();

  await t.test('ps: -a, -q, -n, -l, --no-trunc, -s', () => {
    assert.deepEqual(names([]), ['c-run1', 'c-run2']);
    assert.deepEqual(names(['-a']), ['c-created', 'c-exit0', 'c-exit3', 'c-run1', 'c-run2']);
    assert.deepEqual(lines(d.ok(['ps', '-q'])).sort(), [run1.slice(0, 12), run2.slice(0, 12)].sort());
    assert.deepEqual(lines(d.ok(['ps', '-q', '--no-trunc'])).sort(), [run1, run2].sort());
    assert.deepEqual(lines(d.ok(['ps', '-l', '--format', '{{.Names}}'])), ['c-run2']);
    assert.deepEqual(lines(d.ok(['ps', '-n', '2', '--format', '{{.Names}}'])), ['c-run2', 'c-run1']);
    const header = lines(d.ok(['ps']))[0]!;
    assert.match(header, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.match(d.ok(['ps', '--filter', 'name=c-run1']), /"sleep 300"/);
    assert.match(d.ok(['ps', '--no-trunc', '--filter', 'name=c-run2']), /"sh -c 'sleep 300'"/);
    const sized = lines(d.ok(['ps', '-s', '--filter', 'name=c-run1']));
    assert.match(sized[0]!, /\s+SIZE$/);
    assert.match(sized[1]!, /\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?MB\)$/);
    assert.match(lines(d.ok(['ps', '-a', '--filter', 'name=c-exit3']))[1]!, /Exited \(3\) (Less than a second|\d+ seconds?) ago/);
    assert.match(lines(d.ok(['ps', '-a', '--filter', 'name=c-created']))[1]!, /\s+Created\s+/);
  });

  await t.test('ps --filter name/id/status/label/ancestor/exited/before/since', () => {
    assert.deepEqual(names(['-a', '--filter', 'name=c-exit']), ['c-exit0', 'c-exit3']);
    assert.deepEqual(names(['-a', '--filter', 'name=^/?c-run1$']), ['c-run1']);
    assert.deepEqual(names(['-a', '--filter', `id=${run1.slice(0, 10)}`]), ['c-run1']);
    assert.deepEqual(names(['-a', '--filter', 'status=exited']), ['c-exit0', 'c-exit3']);
    assert.deepEqual(names(['-a', '--filter', 'status=created']), ['c-created']);
    assert.deepEqual(names(['-a', '--filter', 'status=running']), ['c-run1', 'c-run2']);
    assert.deepEqual(names(['-a', '--filter', 'label=role=batch']), ['c-exit0', 'c-exit3']);
    assert.deepEqual(names(['-a', '--filter', 'label=role=web', '--filter', 'name=c-run2']), ['c-run2']);
    assert.deepEqual(names(['-a', '--filter', 'exited=3']), ['c-exit3']);
    assert.deepEqual(names(['-a', '--filter', 'exited=0']), ['c-exit0']);
    assert.deepEqual(names(['-a', '--filter', 'ancestor=busybox']).length, 5);
    assert.deepEqual(names(['-a', '--filter', 'ancestor=busybox:latest']).length, 5);
    assert.deepEqual(names(['-a', '--filter', 'before=c-created']), ['c-exit0', 'c-exit3']);
    assert.deepEqual(names(['-a', '--filter', 'since=c-created']), ['c-run1', 'c-run2']);
    const bad = d.berth(['ps', '--filter', 'nosuch=1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid filter 'nosuch'/);
    assert.deepEqual(lines(d.docker(['ps', '-a', '--filter', 'status=exited', '--filter', 'exited=3', '--format', '{{.Names}}']).stdout), ['c-exit3']);
  });

  await t.test('ps --format templates and table', () => {
    assert.equal(d.ok(['ps', '--filter', 'name=c-run1', '--format', '{{.ID}}: {{.Command}}']), `${run1.slice(0, 12)}: "sleep 300"`);
    assert.equal(d.docker(['ps', '--filter', 'name=c-run1', '--format', '{{.ID}}: {{.Command}}']).stdout.trim(), `${run1.slice(0, 12)}: "sleep 300"`);
    const table = lines(d.ok(['ps', '--filter', 'name=c-run1', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Label "role"}}']));
    assert.equal(table.length, 2);
    assert.deepEqual(table[0]!.split(/\s{2,}/).slice(0, 2), ['NAMES', 'IMAGE']);
    assert.deepEqual(table[1]!.split(/\s{2,}/), ['c-run1', 'busybox', 'web']);
    assert.equal(d.ok(['ps', '--filter', 'name=c-run1', '--format', '{{.Labels}}']), 'role=web');
    assert.equal(d.ok(['ps', '--filter', 'name=c-run1', '--format', '{{json .Names}}']), '"c-run1"');
    assert.equal(d.ok(['container', 'ls', '-q', '--filter', 'name=c-run1']), run1.slice(0, 12));
  });

  await t.test('inspect -f templates, --type, images, container inspect', () => {
    const pid = Number(d.ok(['inspect', '-f', '{{.State.Pid}}', 'c-run1']));
    assert.ok(pid > 1);
    assert.equal(d.ok(['inspect', '-f', '{{.Config.Env}}', 'c-run1']), '[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin A=1 B=two words]');
    const cfg = JSON.parse(d.ok(['inspect', '-f', '{{json .Config}}', 'c-run1'])) as Record<string, unknown>;
    assert.deepEqual(cfg['Cmd'], ['sleep', '300']);
    assert.equal(cfg['Image'], 'busybox');
    assert.deepEqual(cfg['Labels'], { role: 'web' });
    assert.equal(cfg['Hostname'], run1.slice(0, 12));
    assert.equal(cfg['Volumes'], null);
    assert.ok(!('ExposedPorts' in cfg), 'docker leaves an empty ExposedPorts out');
    assert.match(d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}|{{.HostConfig.NetworkMode}}', 'c-run1']), /^\d+\.\d+\.\d+\.\d+\|bridge$/);
    assert.equal(d.ok(['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', 'c-exit3']), '3 exited');
    const bbId = d.ok(['inspect', '--type', 'image', '-f', '{{.Id}}', 'busybox']);
    assert.match(bbId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(d.ok(['inspect', '-f', '{{.Image}}', 'c-run1']), bbId);
    assert.equal(d.ok(['image', 'inspect', '-f', '{{json .RepoTags}} {{.Os}}', 'busybox']), '["busybox:latest"] linux');
    assert.equal(d.ok(['container', 'inspect', '-f', '{{.Name}}', 'c-run2']), '/c-run2');
    const both = JSON.parse(d.ok(['inspect', 'c-run1', 'busybox'])) as Array<{ Id: string }>;
    assert.deepEqual(both.map((o) => o.Id), [run1, bbId]);
    const wrongType = d.berth(['inspect', '--type', 'container', 'busybox']);
    assert.equal(wrongType.code, 1);
    assert.match(wrongType.stderr, /No such container: busybox/);
    assert.match(d.berth(['inspect', '--type', 'image', 'c-run1']).stderr, /No such image: c-run1/);
    assert.match(d.berth(['inspect', '--type', 'volume', 'c-run1']).stderr, /.+/);
    assert.equal(d.docker(['inspect', '-f', '{{.State.Pid}}', 'c-run1']).stdout.trim(), String(pid));
    assert.equal(d.docker(['container', 'inspect', '-f', '{{json .Config.Env}}', 'c-run1']).stdout.trim(), JSON.stringify(cfg['Env']));
  });

  await t.test('docker version and info', () => {
    for (const v of ['1.47', '1.41']) {
      const ver = dockerAt(d, v, ['version', '--format', '{{.Server.APIVersion}}|{{.Server.Os}}|{{.Server.Arch}}|{{.Server.MinAPIVersion}}']);
      assert.equal(ver.code, 0, ver.stderr);
      assert.match(ver.stdout.trim(), /^1\.47\|linux\|(amd64|arm64)\|1\.\d+$/);
      const info = dockerAt(d, v, ['info']);
      assert.equal(info.code, 0, info.stderr);
      for (const field of ['Containers: 5', 'Running: 2', 'Stopped: 3', 'Images: 1', 'Server Version:', 'Storage Driver: overlay2', 'Cgroup Driver:',
        'Runtimes:', 'Default Runtime: crun', 'Init Binary:', 'Security Options:', 'Kernel Version:', 'Operating System:', 'CPUs:', 'Total Memory:',
        `Docker Root Dir: ${d.dataRoot}`]) assert.ok(info.stdout.includes(field), `docker info (${v}) lacks "${field}":\n${info.stdout}`);
      assert.match(info.stdout, /Runtimes: .*\bcrun\b/);
      assert.match(info.stdout, /Runtimes: .*\brunc\b/);
      assert.doesNotMatch(info.stderr, /WARNING: .*(error|unable)/i);
    }
    const json = JSON.parse(d.docker(['info', '--format', '{{json .}}']).stdout) as Record<string, unknown>;
    assert.equal(json['Containers'], 5);
    assert.equal(String(json['NCPU']), d.ok(['info', '--format', '{{.NCPU}}']));
    assert.equal(d.ok(['info', '--format', '{{.ContainersRunning}}']), '2');
    assert.match(d.ok(['version']), /Server: Berth Engine[\s\S]*API version:\s+1\.47/);
  });

  await t.test('docker ps, images, rm -f at 1.47 and 1.41', () => {
    for (const v of ['1.47', '1.41']) {
      const ps = dockerAt(d, v, ['ps', '-a', '--filter', 'label=role=web', '--format', '{{.Names}} {{.State}} {{.Label "role"}}']);
      assert.equal(ps.code, 0, ps.stderr);
      assert.deepEqual(lines(ps.stdout).sort(), ['c-run1 running web', 'c-run2 running web']);
      const images = dockerAt(d, v, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
      assert.equal(images.stdout.trim(), 'busybox:latest');
      const run = dockerAt(d, v, ['run', '--rm', '-e', 'V=' + v, 'busybox', 'sh', '-c', 'echo $V']);
      assert.equal(run.stdout.trim(), v, run.stderr);
      const ex = dockerAt(d, v, ['exec', 'c-run1', 'cat', '/proc/1/cmdline']);
      assert.equal(ex.stdout.replace(/\0/g, ' ').trim(), 'sleep 300');
    }
    d.ok(['run', '-d', '--name', 'c-doomed', 'busybox', 'sleep', '300']);
    const rm = dockerAt(d, '1.41', ['rm', '-f', 'c-doomed']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), 'c-doomed');
    assert.equal(d.docker(['rm', '-f', 'c-exit0', 'c-created']).stdout.trim(), 'c-exit0\nc-created');
    assert.deepEqual(names(['-a']), ['c-exit3', 'c-run1', 'c-run2']);
  });

  await t.test('error wording for unknown objects', () => {
    for (const v of ['1.47', '1.41']) {
      const rm = dockerAt(d, v, ['rm', 'nosuch']);
      assert.equal(rm.code, 1);
      assert.equal(rm.stderr.trim(), 'Error response from daemon: No such container: nosuch');
      assert.match(dockerAt(d, v, ['stop', 'nosuch']).stderr, /No such container: nosuch/);
      assert.match(dockerAt(d, v, ['logs', 'nosuch']).stderr, /No such container: nosuch/);
      assert.match(dockerAt(d, v, ['exec', 'nosuch', 'true']).stderr, /No such container: nosuch/);
      assert.match(dockerAt(d, v, ['rmi', 'nosuch']).stderr, /Error response from daemon: No such image: nosuch:latest/);
      assert.match(dockerAt(d, v, ['image', 'inspect', 'nosuch']).stderr, /No such image: nosuch/);
      assert.match(dockerAt(d, v, ['inspect', 'nosuch']).stderr, /Error: No such object: nosuch/);
      const run = dockerAt(d, v, ['run', '--rm', 'nosuch/image:1']);
      assert.equal(run.code, 125);
      assert.match(run.stderr, /Unable to find image 'nosuch\/image:1' locally/);
    }
    for (const [args, msg] of [[['rm', 'nosuch'], /^Error response from daemon: No such container: nosuch$/m], [['rmi', 'nosuch'], /No such image: nosuch:latest/],
      [['inspect', 'nosuch'], /Error: No such object: nosuch/], [['logs', 'nosuch'], /No such container: nosuch/]] as const) {
      const r = d.berth([...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, msg);
    }
  });

  d.ok(['rm', '-f', 'c-exit3', 'c-run1', 'c-run2']);
});
