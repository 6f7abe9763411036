import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';

const BERTH = join(REPO, 'dist/berth.mjs');

/** berth with binary stdin/stdout (tar streams). */
function berthBin(d: TestDaemon, args: string[], input?: Buffer): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BERTH, ...args], { env: { ...process.env, BERTH_HOST: d.host }, input, timeout: 60000, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

const tarList = (buf: Buffer): string[] => spawnSync('tar', ['-t'], { input: buf, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

test('cp both ways: files, directories, contents with /., renames, streams, -a, -L, stopped containers, docker cp', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const tmp = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  d.ok(['run', '-d', '--name', 'cpc', 'busybox', 'sh', '-c',
    'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -sfn /data/a /data/link && chown 1234:5678 /data/a; sleep 1000']);
  await waitFor('the container to have set itself up', () => d.berth(['exec', 'cpc', 'test', '-L', '/data/link']).code === 0);

  // Container → host.
  d.ok(['cp', 'cpc:/data/a', join(tmp, 'a')]);
  assert.equal(readFileSync(join(tmp, 'a'), 'utf8'), 'one\n');
  d.ok(['cp', 'cpc:/data', join(tmp, 'data1')]); // new name: the directory itself, renamed
  assert.equal(readFileSync(join(tmp, 'data1/sub/b'), 'utf8'), 'two\n');
  mkdirSync(join(tmp, 'into'));
  d.ok(['cp', 'cpc:/data', join(tmp, 'into')]); // existing dir: copied inside it
  assert.ok(existsSync(join(tmp, 'into/data/sub/b')));
  mkdirSync(join(tmp, 'contents'));
  d.ok(['cp', 'cpc:/data/.', join(tmp, 'contents')]); // "/.": the contents
  assert.deepEqual(readdirSync(join(tmp, 'contents')).sort(), ['a', 'link', 'sub']);
  d.ok(['cp', 'cpc:/data/link', join(tmp, 'link-nofollow')]);
  assert.ok(spawnSync('test', ['-L', join(tmp, 'link-nofollow')]).status === 0, 'a symlink is copied as a symlink');
  d.ok(['cp', '-L', 'cpc:/data/link', join(tmp, 'link-follow')]);
  assert.equal(readFileSync(join(tmp, 'link-follow'), 'utf8'), 'one\n');
  const streamed = berthBin(d, ['cp', 'cpc:/data', '-']);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.deepEqual(tarList(streamed.stdout).sort(), ['data/', 'data/a', 'data/link', 'data/sub/', 'data/sub/b']);

  // Docker's errors.
  let r = d.berth(['cp', 'cpc:/nope', tmp]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error response from daemon: Could not find the file /nope in container cpc');
  r = d.berth(['cp', 'cpc:/data', join(tmp, 'a')]);
  assert.equal(r.stderr.trim(), 'cannot copy directory');
  r = d.berth(['cp', 'cpc:/data/a', join(tmp, 'missing') + '/']);
  assert.equal(r.stderr.trim(), 'no such directory');

  // Host → container.
  writeFileSync(join(tmp, 'up.txt'), 'up\n');
  d.ok(['cp', join(tmp, 'up.txt'), 'cpc:/tmp/']);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/up.txt']), 'up');
  d.ok(['cp', join(tmp, 'up.txt'), 'cpc:/tmp/renamed.txt']);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/renamed.txt']), 'up');
  d.ok(['cp', join(tmp, 'data1'), 'cpc:/tmp/']);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/data1/sub/b']), 'two');
  d.ok(['cp', `${join(tmp, 'data1')}/.`, 'cpc:/tmp/newdir']);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/newdir/sub/b']), 'two');
  r = d.berth(['cp', join(tmp, 'up.txt'), 'cpc:/nonexistent/x']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error response from daemon: Could not find the file /nonexistent in container cpc');
  r = d.berth(['cp', join(tmp, 'data1'), 'cpc:/data/a']);
  assert.equal(r.stderr.trim(), 'cannot copy directory');
  r = d.berth(['cp', join(tmp, 'nothere'), 'cpc:/tmp/']);
  assert.match(r.stderr, /no such file or directory/);
  // A tar on stdin, and ownership: kept from the archive (dockerd's default).
  const tarIn = spawnSync('tar', ['-C', tmp, '--owner=4321', '--group=8765', '-c', 'up.txt']).stdout;
  const up = berthBin(d, ['cp', '-', 'cpc:/tmp/fromstdin'], tarIn);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /must be a directory/);
  d.ok(['exec', 'cpc', 'mkdir', '/tmp/fromstdin']);
  assert.equal(berthBin(d, ['cp', '-', 'cpc:/tmp/fromstdin'], tarIn).code, 0);
  assert.equal(d.ok(['exec', 'cpc', 'stat', '-c', '%u:%g', '/tmp/fromstdin/up.txt']), '4321:8765');
  // -a with a container User: everything belongs to that user (dockerd's copyUIDGID).
  d.ok(['create', '--name', 'usr', '--user', 'nobody', 'busybox', 'true']);
  d.ok(['cp', '-a', join(tmp, 'up.txt'), 'usr:/tmp/']);
  const exported = berthBin(d, ['cp', 'usr:/tmp/up.txt', '-']).stdout;
  assert.match(spawnSync('tar', ['-tv', '--numeric-owner'], { input: exported, encoding: 'utf8' }).stdout, /65534\/65534/);

  // A stopped container: its rootfs is mounted for the copy and unmounted after (the leak check).
  d.ok(['stop', '-t', '0', 'cpc']);
  d.ok(['cp', join(tmp, 'up.txt'), 'cpc:/tmp/while-stopped']);
  d.ok(['cp', 'cpc:/tmp/while-stopped', join(tmp, 'back')]);
  assert.equal(readFileSync(join(tmp, 'back'), 'utf8'), 'up\n');
  d.ok(['start', 'cpc']);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/while-stopped']), 'up');

  // The real docker CLI.
  let k = d.docker(['cp', 'cpc:/data/sub', join(tmp, 'dk')]);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(readFileSync(join(tmp, 'dk/b'), 'utf8'), 'two\n');
  k = d.docker(['cp', join(tmp, 'up.txt'), 'cpc:/tmp/dk.txt']);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(d.ok(['exec', 'cpc', 'cat', '/tmp/dk.txt']), 'up');
  k = d.docker(['cp', 'cpc:/nope', tmp]);
  assert.match(k.stderr, /Could not find the file \/nope in container cpc/);
  k = d.docker(['cp', join(tmp, 'up.txt'), 'cpc:/nonexistent/x']);
  assert.match(k.stderr, /Could not find the file \/nonexistent in container cpc/);
  assert.equal(statSync(join(tmp, 'a')).isFile(), true);
});

test('diff, export and commit: changes as A/C/D, the merged tree as tar, a new image that runs with them', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-d', '--name', 'cc', '--label', 'x=y', 'busybox', 'sh', '-c',
    'echo new > /added && echo changed >> /etc/passwd && rm /bin/ls && mkdir /dir && echo f > /dir/f && touch /ready && sleep 1000']);
  await waitFor('the container to have set itself up', () => d.berth(['exec', 'cc', 'test', '-e', '/ready']).code === 0);

  const diff = d.ok(['diff', 'cc']).split('\n');
  for (const line of ['A /added', 'C /etc', 'C /etc/passwd', 'C /bin', 'D /bin/ls', 'A /dir', 'A /dir/f']) assert.ok(diff.includes(line), `${line} in ${diff.join(', ')}`);
  assert.ok(!diff.includes('A /etc/hosts') && !diff.includes('A /etc/resolv.conf'), 'runtime mount targets are not changes');
  assert.deepEqual(d.docker(['diff', 'cc']).stdout.trim().split('\n'), diff);

  const exported = berthBin(d, ['export', 'cc']);
  assert.equal(exported.code, 0, exported.stderr);
  const names = tarList(exported.stdout);
  assert.ok(names.includes('added') && names.includes('dir/f') && names.includes('bin/sh'));
  assert.ok(!names.includes('bin/ls'));
  assert.match(d.berth(['export', 'nope']).stderr, /No such container: nope/);

  const id = d.ok(['commit', '-m', 'snapshot', '-a', 'tester', '-c', 'ENV COMMITTED=1', '-c', 'CMD ["cat", "/added"]', 'cc', 'committed:v1']);
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'cc']), 'running', 'the container keeps running (unpaused)');
  assert.equal(d.ok(['run', '--rm', 'committed:v1']), 'new');
  assert.equal(d.ok(['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $COMMITTED; tail -1 /etc/passwd; cat /dir/f; test -e /bin/ls || echo no-ls']), '1\nchanged\nf\nno-ls');
  const hist = d.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:v1']).split('\n');
  assert.match(hist[0]!, /^sh -c echo new > \/added.*\|snapshot$/);
  assert.equal(d.ok(['inspect', '-f', '{{.Author}} {{.Comment}} {{index .Config.Labels "x"}}', 'committed:v1']), 'tester snapshot y');
  assert.match(d.berth(['commit', '-c', 'ADD a b', 'cc']).stderr, /ADD is not a valid change command/);
  assert.match(d.berth(['commit', 'nope']).stderr, /No such container: nope/);

  // docker commit, without pausing, on top of the committed image's container.
  const k = d.docker(['commit', '--pause=false', 'cc', 'committed:v2']);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(d.ok(['run', '--rm', 'committed:v2', 'cat', '/added']), 'new');
  d.ok(['rm', '-f', 'cc']);
  d.ok(['rmi', 'committed:v1', 'committed:v2']);
});
