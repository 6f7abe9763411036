/**
 * Output fidelity against the docker CLI (issue 11): images REPO, events --format, system df -v
 * volume sizes, history --human=false, and info's registries and logging driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';

const lines = (s: string) => s.split('\n').filter(Boolean);
/** berth and docker print the same thing for these arguments; returns berth's output. */
function same(d: TestDaemon, args: string[]): string {
  const ours = d.berth(args);
  const theirs = d.docker(args);
  assert.equal(ours.code, 0, `berth ${args.join(' ')}: ${ours.stderr}`);
  assert.equal(theirs.code, 0, `docker ${args.join(' ')}: ${theirs.stderr}`);
  assert.equal(ours.stdout, theirs.stdout, `berth and docker differ on ${args.join(' ')}`);
  return ours.stdout;
}

test('berth and the docker CLI agree with dockerd on images REPO, events, df -v, history and info', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t, {
    daemonJson: { 'insecure-registries': ['reg.local:5000', '10.9.0.0/16'], 'registry-mirrors': ['https://mirror.example'], 'log-opts': { 'max-size': '5m' } },
  });

  await t.test('images REPO lists only the tags that match the reference', () => {
    d.ok(['tag', 'busybox', 'busybox:extra']);
    d.ok(['tag', 'busybox', 'bb:one']);
    const fmt = ['--format', '{{.Repository}}:{{.Tag}}'];
    assert.deepEqual(lines(same(d, ['images', ...fmt, 'busybox'])).sort(), ['busybox:extra', 'busybox:latest']);
    assert.deepEqual(lines(same(d, ['images', ...fmt, 'busybox:extra'])), ['busybox:extra']);
    assert.deepEqual(lines(same(d, ['images', ...fmt, 'bb*'])), ['bb:one']);
    assert.deepEqual(lines(same(d, ['images', ...fmt, 'b*'])).sort(), ['bb:one', 'busybox:extra', 'busybox:latest']);
    assert.deepEqual(lines(same(d, ['images', ...fmt, 'nothing'])), []);
    d.ok(['rmi', 'busybox:extra', 'bb:one']);
  });

  await t.test('events --format sees the legacy fields and the scope', () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    d.ok(['create', '--name', 'evf', 'busybox', 'true']);
    d.ok(['rm', 'evf']);
    const until = (Date.now() / 1000 + 1).toFixed(3);
    const args = ['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', '{{.ID}} {{.Status}} {{.From}} {{.Time}} {{.TimeNano}} {{.Scope}}'];
    const out = lines(same(d, args));
    assert.equal(out.length, 2);
    assert.match(out[0]!, /^[0-9a-f]{64} create busybox \d{10} \d{19} local$/);
    assert.doesNotMatch(out.join('\n'), /no value/);
    same(d, ['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', 'json']);
  });

  await t.test('system df -v shows each volume\'s real size, 0B when empty', () => {
    d.ok(['volume', 'create', 'emptyvol']);
    d.ok(['run', '--rm', '-v', 'datavol:/d', 'busybox', 'sh', '-c', 'printf 12345 > /d/f']);
    d.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'tmpvol']);
    const volumeSection = (out: string) => out.slice(out.indexOf('Local Volumes space usage:')).split('\n\n')[1]!;
    const ours = volumeSection(d.ok(['system', 'df', '-v']));
    assert.match(ours, /^emptyvol\s+0\s+0B$/m);
    assert.match(ours, /^datavol\s+0\s+5B$/m);
    assert.doesNotMatch(ours, /tmpvol/, 'dockerd leaves volumes with options out of df');
    const theirs = d.docker(['system', 'df', '-v']);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(ours.trim(), volumeSection(theirs.stdout).trim());
    d.ok(['volume', 'rm', 'emptyvol', 'datavol', 'tmpvol']);
  });

  await t.test('history: --human=false, --no-trunc and -q print as docker\'s', () => {
    same(d, ['history', 'busybox']);
    const raw = same(d, ['history', '--human=false', 'busybox']);
    assert.match(lines(raw)[0]!, /^IMAGE\s+CREATED AT\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(raw, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/);
    assert.match(raw, /\s\d+\s/);
    same(d, ['history', '--no-trunc', 'busybox']);
    same(d, ['history', '-q', '--no-trunc', 'busybox']);
    same(d, ['history', '--human=false', '--format', '{{.CreatedSince}}|{{.Size}}', 'busybox']);
  });

  await t.test('info shows the registries; the logging driver is the one containers report, and logs work', () => {
    const info = d.docker(['info']).stdout;
    assert.match(info, /Insecure Registries:\n {2}reg\.local:5000\n {2}10\.9\.0\.0\/16\n {2}::1\/128\n {2}127\.0\.0\.0\/8\n/);
    assert.match(info, /Registry Mirrors:\n {2}https:\/\/mirror\.example\/\n/);
    const ours = d.ok(['info']);
    assert.match(ours, /Insecure Registries:\n {2}reg\.local:5000\n {2}10\.9\.0\.0\/16\n {2}::1\/128\n {2}127\.0\.0\.0\/8\n Registry Mirrors:\n {2}https:\/\/mirror\.example\/\n/);
    const driver = d.ok(['info', '--format', '{{.LoggingDriver}}']);
    d.ok(['run', '--name', 'logger', 'busybox', 'echo', 'hello from berth']);
    assert.equal(d.ok(['inspect', '--format', '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}}', 'logger']), `${driver} 5m`);
    const logs = d.docker(['logs', 'logger']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'hello from berth\n');
    d.ok(['rm', 'logger']);
  });

  await t.test('create --rm: the container goes once it exits, as docker create --rm', async () => {
    const id = d.ok(['create', '--rm', 'busybox', 'true']);
    assert.equal(d.ok(['inspect', '--format', '{{.HostConfig.AutoRemove}}', id]), 'true');
    d.ok(['start', id]);
    await waitFor('create --rm container removed after exit', () => d.berth(['inspect', id]).code !== 0);
    const both = d.berth(['create', '--rm', '--restart', 'always', 'busybox']);
    assert.equal(both.code, 125);
    assert.match(both.stderr, /conflicting options: cannot specify both --restart and --rm/);
  });

  await t.test('docker 28\'s platform flags reach the daemon and get a Linux dockerd\'s answers', () => {
    const refused: [string[], RegExp][] = [
      [['--io-maxiops', '5'], /linux does not support configuration of maximum IOPs/],
      [['--gpus', 'all'], /could not select device driver "" with capabilities: \[\[gpu\]\]/],
      [['--isolation', 'hyperv'], /linux only supports 'default'/],
      [['--volume-driver', 'nope', '-v', 'pluginvol:/x'], /plugin "nope" not found/],
    ];
    for (const [flags, why] of refused) {
      const r = d.berth(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, flags.join(' '));
      assert.match(r.stderr, why);
    }
    const id = d.ok(['create', '--annotation', 'org.example=yes', '--cpu-count', '2', 'busybox', 'true']);
    assert.equal(d.ok(['inspect', '--format', '{{index .HostConfig.Annotations "org.example"}} {{.HostConfig.CpuCount}}', id]), 'yes 0');
    d.ok(['rm', id]);
  });
});
