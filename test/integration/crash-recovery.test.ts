import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, REPO, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** Starts a berth CLI command in the background (it may die with the daemon). */
function background(d: TestDaemon, args: string[]): Promise<number> {
  const p = spawn(process.execPath, [join(REPO, 'dist/berth.mjs'), ...args], { env: { ...process.env, BERTH_HOST: d.host }, stdio: 'ignore' });
  return new Promise((r) => p.on('close', (code) => r(code ?? -1)));
}

test('kill -9 of berthd in the middle of create, start, rm, load and import leaves nothing half-made', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-d', '--name', 'keeper', 'busybox', 'sleep', '600']);
  for (const delayMs of [15, 40, 80, 150, 300]) {
    const jobs = [
      background(d, ['run', '-d', 'busybox', 'sleep', '600']),
      background(d, ['create', 'busybox', 'true']),
      background(d, ['load', '-i', BUSYBOX_TAR]),
      background(d, ['import', BUSYBOX_TAR, 'crash/imported:latest']),
      background(d, ['run', '--rm', 'busybox', 'true']),
    ];
    const victim = d.berth(['create', 'busybox', 'true']).stdout.trim();
    jobs.push(background(d, ['rm', '-f', victim]));
    await new Promise((r) => setTimeout(r, delayMs));
    await d.stop('SIGKILL');
    await Promise.all(jobs);
    await d.start();
    // Every container the daemon shows is whole: inspectable, with a known state.
    const ids = d.ok(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
    for (const id of ids) {
      const status = d.ok(['inspect', '-f', '{{.State.Status}}', id]);
      assert.ok(['created', 'running', 'exited'].includes(status), `container ${id} is ${status}`);
    }
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'keeper']), 'running');
    assert.match(d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /busybox:latest/);
    // Recovery dropped every spooled archive and unfinished layer.
    const tmp = join(d.dataRoot, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
    // An import either finished (a whole image) or left nothing: every listed image inspects.
    for (const img of d.ok(['images', '-q', '--no-trunc']).split('\n').filter(Boolean)) d.ok(['image', 'inspect', img]);
    d.berth(['rmi', 'crash/imported:latest']);
    // Running ones were adopted: they can be stopped and removed normally.
    const others = ids.filter((id) => !id.startsWith(d.ok(['inspect', '-f', '{{.Id}}', 'keeper'])));
    if (others.length) d.ok(['rm', '-f', ...others]);
  }
  assert.equal(d.ok(['exec', 'keeper', 'echo', 'still here']), 'still here');
  d.ok(['rm', '-f', 'keeper']);
});

test('a network whose create a crash cut short (host objects, no row) is swept at start, and its subnet can be used again', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const subnet = '10.213.7.0/24';
  const id = d.ok(['network', 'create', '--subnet', subnet, 'half']);
  const chainId = id.slice(0, 12);
  await d.stop('SIGKILL');
  // What a kill between the nft batch and the row left: the bridge, its chains and map elements, no row.
  const db = new Database(join(d.dataRoot, 'berth.db'));
  db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  db.close();
  const table = () => spawnSync('nft', ['list', 'table', 'ip', d.prefix], { encoding: 'utf8' }).stdout;
  assert.match(table(), new RegExp(`n-${chainId}-masq`));
  await d.start();
  assert.doesNotMatch(table(), new RegExp(`n-${chainId}|${subnet.replace(/\./g, '\\.')}`), 'chains and map elements swept');
  assert.equal(spawnSync('ip', ['link', 'show', `${d.ifPrefix}-${id.slice(0, 8)}`]).status, 1, 'bridge swept');
  const again = d.berth(['network', 'create', '--subnet', subnet, 'again']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(d.ok(['run', '--rm', '--network', 'again', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0 | grep -o "10\\.213\\.7\\.[0-9]*/24"']), '10.213.7.2/24');
  d.ok(['network', 'rm', 'again']);
});

test('what crashes leave on disk without a record is collected at start; recorded objects stay', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const live = d.ok(['run', '-d', 'busybox', 'sleep', '600']);
  const stopped = d.ok(['create', 'busybox', 'true']);
  await d.stop('SIGKILL');
  const hex = (c: string) => c.repeat(64);
  const planted = [
    ['blobs/sha256/.tmp-0123456789abcdef', 'file'], [`blobs/sha256/${hex('a')}`, 'file'],
    ['overlay/layers/.tmp-00112233', 'dir'], [`overlay/layers/${hex('b')}`, 'dir'],
    ['tmp/import-1234', 'dir'], ['tmp/build-5678', 'dir'], ['tmp/commit-9abc', 'file'],
    [`containers/${hex('c')}`, 'dir'], [`overlay/containers/${hex('c')}`, 'dir'],
  ].map(([p, kind]) => {
    const path = join(d.dataRoot, p!);
    mkdirSync(kind === 'dir' ? path : join(path, '..'), { recursive: true });
    if (kind === 'dir') writeFileSync(join(path, 'x'), 'leftover');
    else writeFileSync(path, 'leftover');
    return path;
  });
  mkdirSync(join(d.execRoot, 'containers', hex('c')), { recursive: true });
  planted.push(join(d.execRoot, 'containers', hex('c')));
  await d.start();
  for (const p of planted) assert.ok(!existsSync(p), `${p.slice(d.dir.length)} collected`);
  // `system gc` finds nothing more, and everything recorded works.
  const gc = spawnSync('curl', ['-s', '--unix-socket', d.socket, '-X', 'POST', 'http://berth/v1.47/system/gc?dry-run=1'], { encoding: 'utf8' });
  assert.deepEqual((JSON.parse(gc.stdout) as { Found: unknown[] }).Found, []);
  assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', live]), 'running');
  d.ok(['start', stopped]);
  assert.equal(d.ok(['run', '--rm', 'busybox', 'echo', 'whole']), 'whole');
  d.ok(['rm', '-f', live, stopped]);
});
