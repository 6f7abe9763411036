/**
 * berthd against real registries: `berth registry serve` (ours), Debian's docker-registry
 * (Distribution 2.8) with htpasswd, and Distribution behind a token server. Driven through the
 * berth CLI and the real docker CLI: push, pull (tag, digest, -a), run's implicit pull, login and
 * logout, the errors Docker gives, and a pull killed part-way that leaves no image behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { daemonFor, REPO, requireRoot, waitFor, type TestDaemon } from './harness.ts';
import { startRegistry } from './fixtures/registry-server.mjs';
import { freePort } from '../../src/lib/test-support.ts';

const BERTH = join(REPO, 'dist/berth.mjs');
const FIXTURES = join(REPO, 'test/integration/fixtures');

/** A child process that prints one JSON line when ready; killed after the test. */
async function startChild(t: TestContext, cmd: string, args: string[]): Promise<{ proc: ChildProcess; ready: Record<string, unknown> }> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { proc.kill('SIGTERM'); });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err}`)));
  });
  return { proc, ready: JSON.parse(line) as Record<string, unknown> };
}

/** `berth registry serve` on a free loopback port with a temp root. */
async function berthRegistry(t: TestContext): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'berth-regroot-'));
  const port = await freePort();
  const proc = spawn(process.execPath, [BERTH, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--quiet'], { stdio: 'ignore' });
  t.after(async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(root, { recursive: true, force: true });
  });
  await waitFor('berth registry to start', () => fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false));
  return `127.0.0.1:${port}`;
}

const fail = (d: TestDaemon, args: string[]) => {
  const r = d.berth(args);
  assert.notEqual(r.code, 0, `berth ${args.join(' ')} should fail: ${r.stdout}`);
  return r.stderr;
};
const imageCount = (d: TestDaemon) => d.ok(['images', '-q', '--no-trunc']).split('\n').filter(Boolean).length;

test('push and pull through berth registry: layers skipped and mounted, digests, run, -a, docker CLI', async (t) => {
  if (!requireRoot(t)) return;
  const reg = await berthRegistry(t);
  const d = await daemonFor(t);
  d.ok(['tag', 'busybox', `${reg}/lib/bb:1`]);
  const first = d.ok(['push', `${reg}/lib/bb:1`]);
  assert.match(first, new RegExp(`The push refers to repository \\[${reg}/lib/bb\\]`));
  assert.match(first, /: Pushed$/m);
  const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(first)?.[1];
  assert.ok(digest, first);
  assert.match(d.ok(['push', `${reg}/lib/bb:1`]), /: Layer already exists$/m);
  d.ok(['tag', 'busybox', `${reg}/other/bb:2`]);
  assert.match(d.ok(['push', `${reg}/other/bb:2`]), /: Mounted from lib\/bb$/m);

  // A clean store: pull by tag, then the image runs and carries its repo digest.
  d.ok(['rmi', `${reg}/lib/bb:1`, `${reg}/other/bb:2`, 'busybox']);
  assert.equal(imageCount(d), 0);
  const pulled = d.ok(['pull', `${reg}/lib/bb:1`]);
  assert.match(pulled, /: Pull complete$/m);
  assert.match(pulled, new RegExp(`^Digest: ${digest}$`, 'm'));
  assert.match(pulled, new RegExp(`Status: Downloaded newer image for ${reg}/lib/bb:1\\n${reg}/lib/bb:1$`));
  assert.match(d.ok(['pull', `${reg}/lib/bb:1`]), /Status: Image is up to date/);
  assert.deepEqual(JSON.parse(d.ok(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${reg}/lib/bb:1`])), [`${reg}/lib/bb@${digest}`]);
  assert.equal(d.ok(['run', '--rm', `${reg}/lib/bb:1`, 'echo', 'pulled and ran']), 'pulled and ran');

  // By digest, and run's implicit pull (progress on stderr, output clean).
  d.ok(['rmi', `${reg}/lib/bb:1`]);
  assert.match(d.ok(['pull', `${reg}/lib/bb@${digest}`]), new RegExp(`Status: Downloaded newer image for ${reg}/lib/bb@${digest}`));
  const run = d.berth(['run', '--rm', `${reg}/other/bb:2`, 'echo', 'implicit']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'implicit\n');
  assert.match(run.stderr, new RegExp(`Unable to find image '${reg}/other/bb:2' locally`));

  // -a pulls every tag of the repository.
  d.ok(['tag', `${reg}/other/bb:2`, `${reg}/other/bb:3`]);
  d.ok(['push', `${reg}/other/bb:3`]);
  d.ok(['rmi', `${reg}/other/bb:2`, `${reg}/other/bb:3`]);
  d.ok(['pull', '-a', `${reg}/other/bb`]);
  const tags = d.ok(['images', '--format', '{{.Tag}}', `${reg}/other/bb`]).split('\n').sort();
  assert.deepEqual(tags, ['2', '3']);

  // The real docker CLI through berthd.
  const dk = d.docker(['tag', `${reg}/other/bb:2`, `${reg}/dk/app:v1`]);
  assert.equal(dk.code, 0, dk.stderr);
  const dpush = d.docker(['push', `${reg}/dk/app:v1`]);
  assert.equal(dpush.code, 0, dpush.stderr);
  assert.match(dpush.stdout, /v1: digest: sha256:[0-9a-f]{64} size: \d+/);
  assert.equal(d.docker(['rmi', `${reg}/dk/app:v1`]).code, 0);
  const dpull = d.docker(['pull', `${reg}/dk/app:v1`]);
  assert.equal(dpull.code, 0, dpull.stderr);
  assert.match(dpull.stdout, new RegExp(`Status: Downloaded newer image for ${reg}/dk/app:v1`));
  assert.equal(d.docker(['run', '--rm', `${reg}/dk/app:v1`, 'echo', 'docker ran it']).stdout, 'docker ran it\n');
});

test('pull errors: Docker\'s wording and nothing stored', async (t) => {
  if (!requireRoot(t)) return;
  const reg = await berthRegistry(t);
  const d = await daemonFor(t);
  d.ok(['tag', 'busybox', `${reg}/lib/bb:1`]);
  d.ok(['push', `${reg}/lib/bb:1`]);
  const before = imageCount(d);
  assert.match(fail(d, ['pull', `${reg}/lib/bb:nope`]), new RegExp(`manifest for ${reg}/lib/bb:nope not found: manifest unknown`));
  assert.match(fail(d, ['pull', `${reg}/no/such`]), /not found/);
  assert.match(fail(d, ['pull', `${reg}/UPPER`]), /invalid reference format/);
  const down = await freePort();
  assert.match(fail(d, ['pull', `127.0.0.1:${down}/x:1`]), new RegExp(`dial tcp 127.0.0.1:${down}: connect: connection refused`));
  assert.match(fail(d, ['pull', '--platform', 'linux/s390x', `${reg}/lib/bb:1`]), /its platform \(linux\/amd64\) does not match the specified platform \(linux\/s390x\)/);
  assert.match(fail(d, ['push', `${reg}/never/tagged:1`]), /An image does not exist locally with the tag: .*never\/tagged/);
  const r = d.berth(['run', '--rm', '--pull', 'never', `${reg}/absent:1`, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /No such image/);
  assert.equal(imageCount(d), before);
});

test('Debian docker-registry with htpasswd: login, authenticated push and pull, logout', async (t) => {
  if (!requireRoot(t)) return;
  const reg = await startRegistry({ htpasswd: { alice: 's3cret' } });
  t.after(() => reg.close());
  const d = await daemonFor(t);
  const config = join(d.dir, 'docker-config', 'config.json');
  d.ok(['tag', 'busybox', `${reg.domain}/team/bb:1`]);
  assert.match(fail(d, ['push', `${reg.domain}/team/bb:1`]), /unauthorized|authentication required/i);
  const wrong = d.berth(['login', '-u', 'alice', '--password-stdin', reg.domain], 'wrong\n');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /401|unauthorized/i);
  assert.equal(existsSync(config), false);
  assert.equal(d.ok(['login', '-u', 'alice', '--password-stdin', reg.domain], 's3cret\n'), 'Login Succeeded');
  const saved = JSON.parse(readFileSync(config, 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(Buffer.from(saved.auths[reg.domain]!.auth, 'base64').toString(), 'alice:s3cret');
  assert.match(d.ok(['push', `${reg.domain}/team/bb:1`]), /1: digest: sha256:/);
  d.ok(['rmi', `${reg.domain}/team/bb:1`]);
  // The docker CLI reads the same config.json and sends the credentials itself.
  const dpull = d.docker(['pull', `${reg.domain}/team/bb:1`]);
  assert.equal(dpull.code, 0, dpull.stderr);
  d.ok(['rmi', `${reg.domain}/team/bb:1`]);
  assert.equal(d.ok(['logout', reg.domain]), `Removing login credentials for ${reg.domain}`);
  assert.match(fail(d, ['pull', `${reg.domain}/team/bb:1`]), /pull access denied for .*team\/bb, repository does not exist or may require 'docker login'/);
  assert.equal(d.ok(['logout', reg.domain]), `Not logged in to ${reg.domain}`);
});

test('Distribution behind a token server: bearer login, push with credentials, anonymous pull', async (t) => {
  if (!requireRoot(t)) return;
  const { ready: auth } = await startChild(t, process.execPath, [join(FIXTURES, 'token-auth-server.mjs'), '--user', 'bob:hunter2', '--anonymous', 'pull']);
  const reg = await startRegistry({ authConfig: String(auth['registryConfig']) });
  t.after(() => reg.close());
  const d = await daemonFor(t);
  assert.match(fail(d, ['login', '-u', 'bob', '-p', 'nope', reg.domain]), /unauthorized: incorrect username or password/);
  d.ok(['tag', 'busybox', `${reg.domain}/bob/app:1`]);
  assert.match(fail(d, ['push', `${reg.domain}/bob/app:1`]), /denied|unauthorized/i);
  assert.match(d.berth(['login', '-u', 'bob', '-p', 'hunter2', reg.domain]).stdout, /Login Succeeded/);
  assert.match(d.ok(['push', `${reg.domain}/bob/app:1`]), /: Pushed$/m);
  d.ok(['logout', reg.domain]);
  d.ok(['rmi', `${reg.domain}/bob/app:1`]);
  assert.match(d.ok(['pull', `${reg.domain}/bob/app:1`]), /Status: Downloaded newer image for/);
});

test('a pull killed part-way (kill -9 of berthd) leaves no image; the next pull completes', async (t) => {
  if (!requireRoot(t)) return;
  const reg = await berthRegistry(t);
  const d = await daemonFor(t);
  // A 24 MiB incompressible layer, so the pull takes seconds through the slow proxy.
  const work = mkdtempSync(join(tmpdir(), 'berth-big-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, 'root'));
  writeFileSync(join(work, 'root', 'big'), randomBytes(24 << 20));
  assert.equal(spawnSync('tar', ['-C', join(work, 'root'), '-cf', join(work, 'big.tar'), '.']).status, 0);
  d.ok(['import', join(work, 'big.tar'), `${reg}/big/img:1`]);
  d.ok(['push', `${reg}/big/img:1`]);
  d.ok(['rmi', `${reg}/big/img:1`]);
  const port = reg.split(':')[1]!;
  const { ready } = await startChild(t, process.execPath, [join(FIXTURES, 'slow-proxy.mjs'), '--to', port, '--rate', String(4 << 20)]);
  const slow = `127.0.0.1:${ready['port']}`;
  const pull = spawn(process.execPath, [BERTH, 'pull', `${slow}/big/img:1`], { env: { ...process.env, BERTH_HOST: d.host }, stdio: ['ignore', 'ignore', 'pipe'] });
  let pullErr = '';
  pull.stderr!.on('data', (b: Buffer) => { pullErr += b.toString(); });
  const pullDone = new Promise((r) => pull.once('exit', r));
  const blobDir = join(d.dataRoot, 'blobs', 'sha256');
  // Part-way: the layer's temporary file has data (the proxy's 4 MiB/s makes the whole take seconds).
  await waitFor('the layer download to be under way', () => existsSync(blobDir)
    && readdirSync(blobDir).some((n) => n.startsWith('.tmp-') && statSync(join(blobDir, n)).size > 0));
  assert.equal(pull.exitCode, null, `the pull should still be running: ${pullErr}`);
  await d.stop('SIGKILL');
  await pullDone;
  await d.start();
  assert.equal(d.berth(['image', 'inspect', `${slow}/big/img:1`]).code, 1);
  assert.deepEqual(readdirSync(blobDir).filter((n) => n.startsWith('.tmp-')), []);
  assert.match(d.ok(['pull', `${reg}/big/img:1`]), /Pull complete/);
  assert.ok(Number(d.ok(['image', 'inspect', '--format', '{{.Size}}', `${reg}/big/img:1`])) >= 24 << 20);
});

test('registry-mirrors: a docker.io name is pulled from the mirror (Docker Hub is never reached)', async (t) => {
  if (!requireRoot(t)) return;
  const mirror = await berthRegistry(t);
  const seed = await daemonFor(t);
  seed.ok(['tag', 'busybox', `${mirror}/library/busybox:mirrored`]);
  seed.ok(['push', `${mirror}/library/busybox:mirrored`]);
  const d = await daemonFor(t, { daemonJson: { 'registry-mirrors': [`http://${mirror}`] } });
  d.ok(['rmi', 'busybox']);
  const out = d.ok(['pull', 'busybox:mirrored']);
  assert.match(out, /mirrored: Pulling from library\/busybox/);
  assert.match(out, /Status: Downloaded newer image for busybox:mirrored\ndocker.io\/library\/busybox:mirrored$/);
  assert.equal(d.ok(['run', '--rm', 'busybox:mirrored', 'echo', 'from the mirror']), 'from the mirror');
  assert.match(d.ok(['info', '--format', '{{json .RegistryConfig.Mirrors}}']), new RegExp(mirror));
});

test('berth builds its own registry image (FROM scratch) and serves pushes and pulls from a container', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const built = spawnSync('bash', [join(REPO, 'contrib/registry-image/build.sh'), 'berth/registry:it'], {
    env: { ...process.env, BERTH: `${process.execPath} ${BERTH}`, BERTH_HOST: d.host }, encoding: 'utf8', timeout: 120000,
  });
  assert.equal(built.status, 0, built.stderr);
  const port = await freePort();
  d.ok(['run', '-d', '--name', 'registry', '-p', `127.0.0.1:${port}:5000`, 'berth/registry:it']);
  const reg = `127.0.0.1:${port}`;
  // The registry in the container starts node: seconds on a loaded machine. It failed the suite when
  // this poll gave up silently after 10 s and the push then found nothing listening.
  await waitFor('the registry container to answer', () => fetch(`http://${reg}/v2/`).then((r) => r.ok, () => false), { timeoutMs: 120_000 });
  d.ok(['tag', 'busybox', `${reg}/self/bb:1`]);
  assert.match(d.ok(['push', `${reg}/self/bb:1`]), /1: digest: sha256:/);
  d.ok(['rmi', `${reg}/self/bb:1`, 'busybox']);
  assert.match(d.ok(['pull', `${reg}/self/bb:1`]), /Pull complete/);
  assert.equal(d.ok(['run', '--rm', `${reg}/self/bb:1`, 'echo', 'via our own registry']), 'via our own registry');
  d.ok(['rm', '-f', '-v', 'registry']);
});
