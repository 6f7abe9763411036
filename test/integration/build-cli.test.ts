import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO, daemonFor, requireRoot, type RunResult, type TestDaemon } from './harness.ts';

/** `berth build` end to end: contexts, flags, progress views and client-side outputs. */

function tempDir(t: TestContext, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bcli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

/** berth with binary stdin, a working directory and extra environment. */
function berth(d: TestDaemon, args: string[], o: { input?: Buffer | string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(process.execPath, [join(REPO, 'dist/berth.mjs'), ...args], {
    env: { ...process.env, ...o.env, BERTH_HOST: d.host }, input: o.input ?? '', cwd: o.cwd, encoding: 'utf8', timeout: 120000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function ok(d: TestDaemon, args: string[], o: Parameters<typeof berth>[2] = {}): string {
  const r = berth(d, args, o);
  assert.equal(r.code, 0, `berth ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const ID = /^sha256:[0-9a-f]{64}$/;

test('berth build: .dockerignore with ** and exceptions, plain progress, -q and --iidfile', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = tempDir(t, {
    'Dockerfile': 'FROM busybox\nRUN echo compiling; echo warn >&2\nCOPY . /app\nCMD ["ls", "/app"]\n',
    '.dockerignore': '# junk\nnode_modules\n**/*.log\nsecrets\n!secrets/public.pem\nDockerfile\n',
    'main.go': 'package main\n',
    'node_modules/left-pad/index.js': 'x',
    'logs/a.log': 'x',
    'src/deep/b.log': 'x',
    'src/deep/keep.txt': 'kept',
    'secrets/private.pem': 'nope',
    'secrets/public.pem': 'pub',
  });
  const out = ok(d, ['build', '-t', 'bcli-app', '--progress', 'plain', dir]);
  // BuildKit's plain layout: numbered steps, output lines with their time, DONE, then the export.
  assert.match(out, /^#1 \[internal\] load build context$/m);
  assert.match(out, /^#\d+ \[\S+ 2\/4\] RUN echo compiling; echo warn >&2$/m);
  assert.match(out, /^#\d+ \d+\.\d{3} compiling$/m);
  assert.match(out, /^#\d+ \d+\.\d{3} warn$/m);
  assert.match(out, /^#\d+ DONE \d+\.\ds$/m);
  assert.match(out, /^#\d+ writing image sha256:[0-9a-f]{64} done$/m);
  assert.match(out, /^#\d+ naming to docker\.io\/library\/bcli-app:latest done$/m);
  assert.doesNotMatch(out, /^Step \d/m, 'the legacy step lines give way to the step view');

  // The excluded Dockerfile was sent all the same (the build found it); whether the daemon drops it
  // before COPY is checked in the last test. logs/ stays, empty: only its files are excluded.
  const files = ok(d, ['run', '--rm', 'bcli-app', 'find', '/app']).trim().split('\n').filter((f) => f !== '/app/Dockerfile').sort();
  assert.deepEqual(files, ['/app', '/app/.dockerignore', '/app/logs', '/app/main.go', '/app/secrets', '/app/secrets/public.pem', '/app/src', '/app/src/deep', '/app/src/deep/keep.txt']);

  // -q: only the ID on stdout; --iidfile: the same ID, no newline; a cached rebuild gives the same image.
  const iid = join(tempDir(t), 'iid');
  writeFileSync(iid, 'stale');
  const q = ok(d, ['build', '-q', '--iidfile', iid, '-t', 'bcli-app', dir]);
  assert.match(q.trim(), ID);
  assert.equal(q, `${q.trim()}\n`);
  assert.equal(readFileSync(iid, 'utf8'), q.trim());
  assert.equal(ok(d, ['image', 'inspect', '-f', '{{.Id}}', 'bcli-app']).trim(), q.trim());
});

test('berth build: -f outside the context, a tar on stdin, a Dockerfile on stdin, -f -', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = tempDir(t, { 'hello.txt': 'hello from the context\n', 'sub/Dockerfile': 'FROM busybox\nCOPY hello.txt /from-sub\n' });
  const outside = tempDir(t, { 'app.Dockerfile': 'FROM busybox\nCOPY . /ctx\n' });

  // -f outside: sent under a random name (whether the daemon drops it: the last test).
  ok(d, ['build', '-q', '-t', 'bcli-outside', '-f', join(outside, 'app.Dockerfile'), '.'], { cwd: dir });
  const listed = ok(d, ['run', '--rm', 'bcli-outside', 'ls', '-a', '/ctx']).split('\n');
  assert.ok(listed.includes('hello.txt') && listed.includes('sub'), listed.join(','));

  // -f relative to the current directory (not to the context).
  ok(d, ['build', '-q', '-t', 'bcli-sub', '-f', 'sub/Dockerfile', dir], { cwd: dir });
  assert.equal(ok(d, ['run', '--rm', 'bcli-sub', 'cat', '/from-sub']), 'hello from the context\n');

  // A tar on stdin is the context; gzip too.
  const tarred = spawnSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 1 << 24 }).stdout;
  ok(d, ['build', '-q', '-t', 'bcli-tar', '-f', 'sub/Dockerfile', '-'], { input: tarred });
  assert.equal(ok(d, ['run', '--rm', 'bcli-tar', 'cat', '/from-sub']), 'hello from the context\n');
  const gz = spawnSync('tar', ['-C', dir, '-cz', '.'], { maxBuffer: 1 << 24 }).stdout;
  ok(d, ['build', '-q', '-t', 'bcli-tgz', '-f', 'sub/Dockerfile', '-'], { input: gz });

  // A bare Dockerfile on stdin: an empty context.
  ok(d, ['build', '-q', '-t', 'bcli-bare', '-'], { input: 'FROM busybox\nRUN echo bare > /bare\n' });
  assert.equal(ok(d, ['run', '--rm', 'bcli-bare', 'cat', '/bare']), 'bare\n');
  const amb = berth(d, ['build', '-f', 'x', '-'], { input: 'FROM busybox\n' });
  assert.equal(amb.code, 1);
  assert.equal(amb.stderr, 'unable to prepare context from STDIN: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles\n');
  const both = berth(d, ['build', '-f', '-', '-'], { input: 'FROM busybox\n' });
  assert.equal(both.stderr, "invalid argument: can't use stdin for both build context and dockerfile\n");

  // -f -: the Dockerfile from stdin, the directory as context.
  ok(d, ['build', '-q', '-t', 'bcli-stdin-df', '-f', '-', dir], { input: 'FROM busybox\nCOPY sub/ /ctx/\n' });
  assert.equal(ok(d, ['run', '--rm', 'bcli-stdin-df', 'cat', '/ctx/Dockerfile']), 'FROM busybox\nCOPY hello.txt /from-sub\n');

  // Docker's context errors.
  const missing = berth(d, ['build', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `unable to prepare context: path "${join(dir, 'nope')}" not found\n`);
  const noDf = berth(d, ['build', outside]);
  assert.equal(noDf.stderr, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${outside}/Dockerfile: no such file or directory\n`);
});

test('berth build: --build-arg from the environment, --label, --target, --add-host, --network, a failing RUN', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = tempDir(t, {
    'Dockerfile': 'FROM busybox AS one\nARG FROM_ENV\nARG GIVEN\nRUN echo "$FROM_ENV/$GIVEN" > /args\nFROM one AS two\nRUN exit 7\n',
  });
  ok(d, ['build', '-q', '-t', 'bcli-args', '--target', 'one', '--build-arg', 'FROM_ENV', '--build-arg', 'GIVEN=given', '--label', 'team=core', dir], { env: { FROM_ENV: 'env-value' } });
  assert.equal(ok(d, ['run', '--rm', 'bcli-args', 'cat', '/args']), 'env-value/given\n');
  assert.equal(ok(d, ['image', 'inspect', '-f', '{{index .Config.Labels "team"}}', 'bcli-args']).trim(), 'core');

  // --add-host and --network reach the RUN containers.
  const net = ok(d, ['build', '--progress', 'plain', '--no-cache', '--add-host', 'bcli-db:10.1.2.3', '--network', 'none', '-f', '-', dir], { input: 'FROM busybox\nRUN grep bcli-db /etc/hosts; ls /sys/class/net\n' });
  assert.match(net, /^#\d+ [\d.]+ 10\.1\.2\.3\s+bcli-db$/m);
  assert.match(net, /^#\d+ [\d.]+ lo$/m);
  assert.doesNotMatch(net, /^#\d+ [\d.]+ eth0$/m);

  // The daemon's error, and the failing RUN's status as the legacy builder exits with it.
  const fail = berth(d, ['build', '--progress', 'plain', dir]);
  assert.equal(fail.code, 7, fail.stderr + fail.stdout);
  assert.match(fail.stderr, /The command '\/bin\/sh -c exit 7' returned a non-zero code: 7/);
  assert.match(fail.stdout, /^#\d+ ERROR: /m);
  // A Dockerfile error points at its line.
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nFORM x\n');
  const bad = berth(d, ['build', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /line 2/);
});

test('berth build: --output local and tar, --progress tty, --secret', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = tempDir(t, { 'Dockerfile': 'FROM busybox\nRUN mkdir -p /out && echo artifact > /out/result.txt\n' });
  const images = () => ok(d, ['images', '-q', '--no-trunc']).split('\n').filter(Boolean).sort();
  const before = images();

  const dest = join(tempDir(t), 'out');
  const out = ok(d, ['build', '--progress', 'plain', '-o', dest, dir]);
  assert.match(out, /^#\d+ exporting to client directory$/m);
  assert.equal(readFileSync(join(dest, 'out/result.txt'), 'utf8'), 'artifact\n');
  assert.ok(existsSync(join(dest, 'bin/busybox')));
  // No -t: the result is not kept; no container is left behind.
  assert.deepEqual(images(), before);
  assert.equal(ok(d, ['ps', '-aq']), '');

  const tarFile = join(tempDir(t), 'fs.tar');
  ok(d, ['build', '-q', '--output', `type=tar,dest=${tarFile}`, dir]);
  const names = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(names.includes('out/result.txt'), names.slice(0, 20).join(','));
  // `-o -`: the tar on stdout, the progress on stderr.
  const r = spawnSync(process.execPath, [join(REPO, 'dist/berth.mjs'), 'build', '--progress', 'plain', '-o', '-', dir], { env: { ...process.env, BERTH_HOST: d.host }, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stderr.toString(), /exporting to client tarball/);
  const piped = spawnSync('tar', ['-t'], { input: r.stdout, encoding: 'utf8' }).stdout.split('\n');
  assert.ok(piped.includes('out/result.txt'));

  // The tty view, asked for without a terminal: redrawn frames and a FINISHED summary.
  const tty = ok(d, ['build', '--progress', 'tty', '-t', 'bcli-tty', dir]);
  // eslint-disable-next-line no-control-regex -- the cursor-up and erase escapes of the tty renderer
  assert.match(tty, /\x1b\[\d+A\r\x1b\[J\[\+\] Building [\d.]+s \(\d+\/\d+\) FINISHED/);
  assert.match(tty, / => (CACHED )?\[\S+ 2\/2\] RUN mkdir -p \/out/);

  // --secret: mounted into the RUN that asks for it, in no layer.
  const sdir = tempDir(t, {
    'Dockerfile': 'FROM busybox\nRUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = s3cret && echo ok > /checked\n',
    'tok.txt': 's3cret',
  });
  ok(d, ['build', '-q', '-t', 'bcli-secret', '--secret', `id=tok,src=${join(sdir, 'tok.txt')}`, sdir]);
  assert.equal(ok(d, ['run', '--rm', 'bcli-secret', 'cat', '/checked']), 'ok\n');
  const leak = berth(d, ['run', '--rm', 'bcli-secret', 'sh', '-c', 'grep -rl s3cret / --exclude-dir=proc --exclude-dir=sys 2>/dev/null']);
  assert.equal(leak.stdout, '', 'no file of the image holds the secret');
  assert.ok(!readdirSync(sdir).some((n) => n.startsWith('.berth')));
});

test('berth build: what the daemon leaves out of images (random Dockerfile names, mount stubs)', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = tempDir(t, { 'hello.txt': 'hi\n', 'tok.txt': 's3cret' });
  const outside = tempDir(t, { 'app.Dockerfile': 'FROM busybox\nCOPY . /ctx\n' });
  const ctxFiles = (tag: string) => ok(d, ['run', '--rm', tag, 'ls', '-a', '/ctx']).split('\n').filter((l) => l && l !== '.' && l !== '..').sort();
  // docker's CLI lists the random Dockerfile name (and .dockerignore) in the .dockerignore it sends;
  // dockerd removes what that file excludes before COPY . sees the context.
  ok(d, ['build', '-q', '-t', 'bcli-rm-outside', '-f', join(outside, 'app.Dockerfile'), dir]);
  assert.deepEqual(ctxFiles('bcli-rm-outside'), ['hello.txt', 'tok.txt']);
  ok(d, ['build', '-q', '-t', 'bcli-rm-stdin', '-f', '-', dir], { input: 'FROM busybox\nCOPY . /ctx\n' });
  assert.deepEqual(ctxFiles('bcli-rm-stdin'), ['hello.txt', 'tok.txt']);
  writeFileSync(join(dir, '.dockerignore'), 'Dockerfile\n.dockerignore\n');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx\n');
  ok(d, ['build', '-q', '-t', 'bcli-rm-excluded', dir]);
  assert.deepEqual(ctxFiles('bcli-rm-excluded'), ['hello.txt', 'tok.txt']);
  // A RUN's /etc/hosts, /etc/hostname, /etc/resolv.conf and secret targets are mount points, not content.
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=secret,id=tok echo built > /built\n');
  const dest = join(tempDir(t), 'fs');
  ok(d, ['build', '-q', '--secret', `id=tok,src=${join(dir, 'tok.txt')}`, '-o', dest, dir]);
  assert.equal(readFileSync(join(dest, 'built'), 'utf8'), 'built\n');
  const stubs = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'run/secrets/tok'].filter((p) => existsSync(join(dest, p)));
  assert.deepEqual(stubs, [], 'mount stubs left in the RUN layer');
});
