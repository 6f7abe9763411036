// The legacy builder's wire and cleanup details that docker-py and DOCKER_BUILDKIT=0 docker build
// depend on: RUN stderr framing, --cache-from turning the local cache off, and what a build leaves.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { daemonFor, requireRoot, type RunResult, type TestDaemon } from './harness.ts';

function context(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

/** The real docker CLI's legacy builder against berthd. */
function dockerBuild(d: TestDaemon, args: string[]): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(d.dir, 'docker-config') };
  delete env['BERTH_HOST'];
  const r = spawnSync('docker', ['build', ...args], { env, encoding: 'utf8', timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** POST /build with a directory as the (plain tar) context: the JSON messages. */
function apiBuild(d: TestDaemon, dir: string, query = ''): Promise<Record<string, unknown>[]> {
  const tar = spawnSync('tar', ['-C', dir, '-cf', '-', '.']).stdout;
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v1.47/build?${query}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(tar);
  });
}

test('RUN stderr comes as {"stream"} in bright red, stdout as it is (dockerd\'s legacy builder framing)', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, { 'Dockerfile': 'FROM busybox\nRUN echo to-stdout; echo to-stderr >&2\n' });
  const msgs = await apiBuild(d, dir);
  const streams = msgs.map((m) => m['stream']).filter((s): s is string => typeof s === 'string');
  assert.ok(streams.includes('to-stdout\n'), JSON.stringify(streams));
  assert.ok(streams.includes('\x1b[91mto-stderr\n\x1b[0m'), JSON.stringify(streams));
  const r = dockerBuild(d, ['--no-cache', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('\x1b[91mto-stderr\n\x1b[0m'), r.stdout);
});

test('--cache-from an image that is not here turns the local cache off; one that is here keeps its chain', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, { 'Dockerfile': 'FROM busybox\nENV A=1\nRUN echo ran-step-$((40+2))\n' });
  let r = dockerBuild(d, ['-t', 'cf:1', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ran-step-42/);
  r = dockerBuild(d, [dir]);
  assert.doesNotMatch(r.stdout, /ran-step-42/, 'the local cache answers a plain rebuild');
  assert.match(r.stdout, /Using cache/);
  r = dockerBuild(d, ['--cache-from', 'nosuchtag', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ran-step-42/, `--cache-from nosuchtag: no local cache: ${r.stdout}`);
  assert.doesNotMatch(r.stdout, /Using cache/);
  r = d.berth(['build', '--progress', 'plain', '--cache-from', 'nosuchtag', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /ran-step-42/, 'berth build too');
  r = dockerBuild(d, ['--cache-from', 'cf:1', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /ran-step-42/, `--cache-from cf:1 answers every step: ${r.stdout}`);
});

/** What a build may leave: the tags it made and the build cache (shown only by `images -a`). */
function assertNothingExtra(d: TestDaemon, tags: string[], what: string) {
  assert.equal(d.ok(['ps', '-aq']), '', `${what}: no container`);
  assert.equal(d.ok(['volume', 'ls', '-q']), '', `${what}: no volume`);
  assert.deepEqual(d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').sort(), ['busybox:latest', ...tags].sort(), `${what}: images`);
  assert.equal(d.ok(['images', '-q', '--filter', 'dangling=true']), '', `${what}: no dangling image`);
  assert.equal(d.docker(['images', '-q', '--filter', 'dangling=true']).stdout.trim(), '', `${what}: no dangling image (docker)`);
}

test('builds leave no volume, container or dangling image: multi-stage with VOLUME, failing steps, docker and berth', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const multi = context(t, {
    'Dockerfile': [
      'FROM busybox AS base',
      'VOLUME /data',
      'RUN echo in-volume > /data/x && echo built > /b',
      'RUN echo second > /c',
      'FROM busybox',
      'COPY --from=base /b /c /',
      '',
    ].join('\n'),
  });
  let r = dockerBuild(d, ['-t', 'ms:1', multi]);
  assert.equal(r.code, 0, r.stderr);
  assertNothingExtra(d, ['ms:1'], 'docker multi-stage');
  r = d.berth(['build', '--progress', 'plain', '--no-cache', '-t', 'ms:2', multi]);
  assert.equal(r.code, 0, r.stderr);
  assertNothingExtra(d, ['ms:1', 'ms:2'], 'berth multi-stage');
  assert.equal(d.ok(['run', '--rm', 'ms:2', 'cat', '/b', '/c']), 'built\nsecond');

  const failing = context(t, { 'Dockerfile': 'FROM busybox\nVOLUME /v\nRUN echo ok > /v/f\nRUN echo one-more > /m\nRUN exit 2\n' });
  r = dockerBuild(d, [failing]);
  assert.equal(r.code, 2, r.stderr);
  assertNothingExtra(d, ['ms:1', 'ms:2'], 'docker failing build');
  r = d.berth(['build', '--progress', 'plain', '--no-cache', failing]);
  assert.notEqual(r.code, 0);
  assertNothingExtra(d, ['ms:1', 'ms:2'], 'berth failing build');

  // An untagged build result stays visible, as dockerd shows it: it is what the user asked for.
  const plain = context(t, { 'Dockerfile': 'FROM busybox\nRUN echo result > /r\n' });
  r = dockerBuild(d, ['-q', plain]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.ok(d.ok(['images', '-q', '--no-trunc']).split('\n').includes(id), 'the untagged result is listed');
  // The cache stays usable: the failing build's steps before the failure are cache hits.
  r = dockerBuild(d, [failing]);
  assert.match(r.stdout, /Using cache/);
});
