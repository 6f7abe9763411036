import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TestDaemon, daemonFor, requireRoot, uninstallNetwork } from './harness.ts';

const berthd = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist/berthd.mjs'), ...args], { encoding: 'utf8', timeout: 20000 });

test('berthd: one daemon per data root, clean SIGTERM, config validation, extra sockets', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t, { extraArgs: ['--runtime', 'myrunc=/usr/sbin/runc'] });

  await t.test('a second daemon on the same data root is refused', () => {
    const r = berthd(['--data-root', d.dataRoot, '--exec-root', join(d.dir, 'exec2'), '-H', `unix://${join(d.dir, 'other.sock')}`, '--config-file', join(d.dir, 'daemon.json')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is in use by another berthd/);
  });

  await t.test('unknown daemon.json keys and bad flags are refused', () => {
    const bad = new TestDaemon({ daemonJson: { 'no-such-option': true } });
    const r = berthd(['--data-root', bad.dataRoot, '--exec-root', bad.execRoot, '-H', bad.host, '--config-file', join(bad.dir, 'daemon.json')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the following directives don't match any configuration option: no-such-option/);
    assert.equal(berthd(['--bogus']).status, 1);
    spawnSync('rm', ['-rf', bad.dir]);
  });

  await t.test('--runtime registers a runtime that containers can use; info lists it', () => {
    assert.match(d.ok(['info']), /Runtimes: .*myrunc/);
    assert.equal(d.ok(['run', '--rm', '--runtime', 'myrunc', 'busybox', 'echo', 'via runc']), 'via runc');
    const r = d.berth(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unknown or invalid runtime name: nope/);
  });

  await t.test('SIGTERM stops the daemon but not its containers; the next one adopts them', async () => {
    d.ok(['run', '-d', '--name', 'lives-on', 'busybox', 'sleep', '600']);
    const pid = Number(d.ok(['inspect', '-f', '{{.State.Pid}}', 'lives-on']));
    await d.stop('SIGTERM');
    assert.ok(spawnSync('kill', ['-0', String(pid)]).status === 0, 'container process survived the daemon');
    await d.start();
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'lives-on']), `running ${pid}`);
    d.ok(['stop', '-t', '1', 'lives-on']);
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'lives-on']), 'exited');
    d.ok(['rm', 'lives-on']);
  });

  await t.test('/_ping and /version answer the docker CLI, API 1.41 too', () => {
    assert.match(d.docker(['version', '--format', '{{.Server.APIVersion}}']).stdout, /1\.47/);
    const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_API_VERSION: '1.41' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('/version names conmon, the default runtime and tini with the versions their binaries print', () => {
    const components = JSON.parse(d.docker(['version', '--format', '{{json .Server.Components}}']).stdout) as { Name: string; Version: string }[];
    const printed = (bin: string) => /version\s+(\S+)/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout)?.[1];
    const byName = new Map(components.map((c) => [c.Name, c.Version]));
    assert.equal(byName.get('conmon'), printed('/usr/bin/conmon'));
    assert.equal(byName.get('crun'), printed('/usr/bin/crun'));
    assert.equal(byName.get('tini'), printed('/usr/bin/tini-static'));
  });
});

test('berthd refuses a tcp:// host (and any bad flag) before it touches the host: no table, bridge or directory', (t) => {
  if (!requireRoot(t)) return;
  const d = new TestDaemon();
  t.after(() => { uninstallNetwork(d); rmSync(d.dir, { recursive: true, force: true }); });
  const args = (extra: string[]) => ['--data-root', d.dataRoot, '--exec-root', d.execRoot, '--config-file', join(d.dir, 'daemon.json'), ...extra];
  for (const extra of [['-H', 'tcp://0.0.0.0:2375'], ['-H', d.host, '-H', 'tcp://127.0.0.1:2375'], ['-H', d.host, '--bip', '172.30.0.0/16'],
    ['-H', d.host, '--registry-mirror', 'ftp://m.example'], ['-H', d.host, '--default-address-pool', 'base=10.0.0.0/16,size=8']]) {
    const r = berthd(args(extra));
    assert.equal(r.status, 1, extra.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack trace');
    if (extra.includes('tcp://0.0.0.0:2375')) assert.match(r.stderr, /^berthd: host tcp:\/\/0\.0\.0\.0:2375: berthd cannot listen on TCP yet: without TLS .*use a unix:\/\/ socket\n$/);
    assert.equal(spawnSync('nft', ['list', 'table', 'ip', d.prefix]).status, 1, `no nft table after ${extra.join(' ')}`);
    assert.equal(spawnSync('ip', ['link', 'show', `${d.ifPrefix}0`]).status, 1, `no bridge after ${extra.join(' ')}`);
    assert.ok(!existsSync(d.dataRoot) && !existsSync(d.execRoot), `no data or exec root after ${extra.join(' ')}`);
  }
});
