import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { daemonFor, requireRoot, waitFor, type RunResult, type TestDaemon } from './harness.ts';
import { startRegistry } from './fixtures/registry-server.mjs';

/** A build context on disk from a map of files. */
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

function okBuild(d: TestDaemon, args: string[]): string {
  const r = dockerBuild(d, args);
  assert.equal(r.code, 0, `docker build ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const steps = (out: string) => out.split('\n').filter((l) => l.startsWith('Step ') || l.startsWith(' ---> '));

test('docker build (legacy): a flask-like app with a fake pip, cache hits, one changed file re-runs only what follows', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, {
    'Dockerfile': [
      'FROM busybox',
      'ENV APP_HOME=/srv/app',
      'WORKDIR $APP_HOME',
      'COPY pip /usr/local/bin/pip',
      'COPY requirements.txt .',
      'RUN chmod +x /usr/local/bin/pip && pip install -r requirements.txt',
      'COPY app.py ./',
      'RUN echo "built $(cat app.py | wc -l)" > built.txt',
      'EXPOSE 5000',
      'CMD ["sh", "-c", "cat /srv/app/site-packages/*.installed /srv/app/built.txt"]',
      '',
    ].join('\n'),
    'pip': '#!/bin/sh\n# a fake pip: "installs" each requirement as a marker file\nmkdir -p site-packages\nwhile read -r r; do echo "$r" > "site-packages/$r.installed"; echo "Installing $r"; done < "$3"\n',
    'requirements.txt': 'flask\n',
    'app.py': 'print("hello")\n',
  });
  const first = okBuild(d, ['-t', 'flaskish:1', dir]);
  assert.match(first, /Step 1\/10 : FROM busybox\n ---> [0-9a-f]{12}\n/);
  assert.match(first, /Installing flask/);
  assert.match(first, / ---> Running in [0-9a-f]{12}\n/);
  assert.match(first, /Successfully built [0-9a-f]{12}\nSuccessfully tagged flaskish:1\n/);
  assert.equal(d.ok(['run', '--rm', 'flaskish:1']), 'flask\nbuilt 1');
  const inspect = JSON.parse(d.ok(['image', 'inspect', 'flaskish:1']))[0];
  assert.equal(inspect.Config.WorkingDir, '/srv/app');
  assert.deepEqual(inspect.Config.ExposedPorts, { '5000/tcp': {} });
  assert.ok(inspect.Config.Env.includes('APP_HOME=/srv/app'));

  // Unchanged: every step from the cache, no RUN runs, same image.
  const second = okBuild(d, ['-t', 'flaskish:1', dir]);
  assert.equal((second.match(/ ---> Using cache/g) ?? []).length, 9);
  assert.doesNotMatch(second, /Running in|Installing/);
  assert.equal(second.match(/Successfully built (\w+)/)![1], first.match(/Successfully built (\w+)/)![1]);

  // app.py changed (copied at step 7): steps before it hit, it and what follows run again.
  writeFileSync(join(dir, 'app.py'), 'print("hello")\nprint("again")\n');
  const third = steps(okBuild(d, ['-t', 'flaskish:2', dir]));
  const cachedSteps = third.flatMap((l, i) => (l === ' ---> Using cache' ? [third[i - 1]!.replace(/^Step (\d+).*/, '$1')] : []));
  assert.deepEqual(cachedSteps, ['2', '3', '4', '5', '6']);
  assert.equal(d.ok(['run', '--rm', 'flaskish:2']), 'flask\nbuilt 2');

  // history like dockerd's legacy builder; intermediate images hidden from `images`.
  const history = d.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'flaskish:2']).split('\n');
  assert.equal(history[0], '/bin/sh -c #(nop)  CMD ["sh" "-c" "cat /srv/app/site-packages/*.installed /srv/app/built.txt"]');
  assert.equal(history[1], '/bin/sh -c #(nop)  EXPOSE 5000');
  assert.equal(history[2], '/bin/sh -c echo "built $(cat app.py | wc -l)" > built.txt');
  assert.match(history[3]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\/ $/);
  assert.equal(history[7], '/bin/sh -c #(nop) WORKDIR /srv/app');
  const images = d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').sort();
  assert.deepEqual(images, ['busybox:latest', 'flaskish:1', 'flaskish:2']);
  assert.equal(d.ok(['ps', '-aq']), '', 'no intermediate container is left');
});

test('docker build: multi-stage COPY --from, --target, ARG/ENV scoping, heredoc RUN, --build-arg, --label', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, {
    'Dockerfile': [
      'ARG BASE=busybox',
      'ARG VERSION=1.0',
      'FROM $BASE AS build',
      'ARG VERSION',
      'ARG ONLY_HERE=here',
      'RUN mkdir /out && echo "v=$VERSION" > /out/version',
      'RUN <<EOF',
      'echo "line one" > /out/heredoc',
      'echo "only=$ONLY_HERE" >> /out/heredoc',
      'EOF',
      '',
      'FROM busybox AS other',
      'RUN echo other > /other.txt',
      '',
      'FROM busybox AS final',
      'ARG ONLY_HERE',
      'ENV FROM_ENV=env',
      'ARG FROM_ENV=arg',
      'COPY --from=build /out/ /app/',
      'COPY --from=other /other.txt /app/',
      'RUN echo "only=[$ONLY_HERE] version=[$VERSION] env=$FROM_ENV" > /app/scope',
      '',
      'FROM busybox AS unused',
      'RUN exit 1',
      '',
    ].join('\n'),
  });
  const out = okBuild(d, ['-t', 'multi:1', '--target', 'final', '--build-arg', 'VERSION=2.5', '--label', 'org.test=yes', dir]);
  assert.doesNotMatch(out, /exit 1/, 'a stage the target does not need is not built');
  const run = (cmd: string) => d.ok(['run', '--rm', 'multi:1', 'sh', '-c', cmd]);
  assert.equal(run('cat /app/version'), 'v=2.5');
  assert.equal(run('cat /app/heredoc'), 'line one\nonly=here');
  assert.equal(run('cat /app/other.txt'), 'other');
  // ONLY_HERE is declared without a default in this stage: empty. VERSION is not declared: not seen.
  // ENV wins over an ARG of the same name.
  assert.equal(run('cat /app/scope'), 'only=[] version=[] env=env');
  assert.equal(run('echo "[$ONLY_HERE]"'), '[]', 'ARGs do not persist into the image');
  const labels = JSON.parse(d.ok(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'multi:1']));
  assert.deepEqual(labels, { 'org.test': 'yes' });
});

test('docker build errors: failing RUN code and message, unknown instruction line, missing COPY source, unknown target; nothing left behind', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const failing = context(t, { 'Dockerfile': 'FROM busybox\nRUN echo before-failing\nRUN exit 3\n' });
  let r = dockerBuild(d, [failing]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /before-failing/);
  assert.match(r.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);

  r = dockerBuild(d, [context(t, { 'Dockerfile': 'FROM busybox\nRUN true\nFORM busybox\n' })]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /line 3/);
  assert.match(r.stderr, /unknown instruction: FORM/i);

  r = dockerBuild(d, [context(t, { 'Dockerfile': 'FROM busybox\nCOPY nope.txt /\n' })]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat nope\.txt: file does not exist/);
  assert.match(r.stdout, /Dockerfile:2\n-+\n {3}1 \| {5}FROM busybox\n {3}2 \| >>> COPY nope\.txt \/\n-+\n/, 'the failing line is shown');

  r = dockerBuild(d, ['--target', 'nope', context(t, { 'Dockerfile': 'FROM busybox AS a\n' })]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /target stage "?nope"? could not be found/);

  assert.equal(d.ok(['ps', '-aq']), '', 'no intermediate container is left');
});

test('an nginx-like busybox httpd image serves a file another container fetches', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, {
    'Dockerfile': [
      'FROM busybox',
      'RUN mkdir -p /www',
      'COPY site/ /www/',
      'ADD files.tar.gz /www/extracted/',
      'EXPOSE 80',
      'HEALTHCHECK --interval=5s CMD wget -q -O /dev/null http://127.0.0.1/ || exit 1',
      'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]',
      '',
    ].join('\n'),
    'site/index.html': '<h1>hello from berth</h1>\n',
  });
  mkdirSync(join(dir, 'pack'));
  writeFileSync(join(dir, 'pack', 'inner.txt'), 'from a tarball\n');
  assert.equal(spawnSync('tar', ['-czf', join(dir, 'files.tar.gz'), '-C', join(dir, 'pack'), 'inner.txt']).status, 0);
  okBuild(d, ['-t', 'web:1', dir]);
  const net = `bn${process.pid}`;
  d.ok(['network', 'create', net]);
  d.ok(['run', '-d', '--name', 'web', '--network', net, 'web:1']);
  let body = '';
  await waitFor('the built image to serve its page', () => {
    body = d.berth(['run', '--rm', '--network', net, 'busybox', 'wget', '-q', '-O', '-', 'http://web/']).stdout;
    return body.includes('hello');
  });
  assert.equal(body, '<h1>hello from berth</h1>\n');
  assert.equal(d.ok(['run', '--rm', '--network', net, 'busybox', 'wget', '-q', '-O', '-', 'http://web/extracted/inner.txt']), 'from a tarball');
  d.ok(['rm', '-f', 'web']);
  d.ok(['network', 'rm', net]);
});

test('berth build: parallel stages, --secret never in a layer, cache mounts persist, bind from a stage, ONBUILD, COPY --chown/--chmod, ADD URL', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  // A loopback file server in its own process: the CLI runs with spawnSync, which blocks this one.
  const server = spawn(process.execPath, ['-e', `require('node:http').createServer((q, r) => { if (q.url === '/file.txt') r.end('downloaded\\n'); else { r.statusCode = 404; r.end(); } }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => server.kill());
  const port = await new Promise<number>((res) => server.stdout.once('data', (b: Buffer) => res(Number(b.toString().trim()))));

  const base = context(t, { 'Dockerfile': 'FROM busybox\nONBUILD RUN echo triggered > /onbuild.txt\n' });
  d.ok(['build', '-q', '-t', 'onbuild-base', base]);
  const dir = context(t, {
    'Dockerfile': [
      'FROM busybox AS a',
      'RUN echo a > /a',
      'FROM busybox AS b',
      'RUN echo b > /b',
      'FROM onbuild-base',
      'COPY --from=a /a /parts/',
      'COPY --from=b /b /parts/',
      'RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /cache-count',
      'RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /secret-len',
      'RUN --mount=type=bind,from=a,source=/a,target=/from-a cat /from-a > /via-bind',
      'COPY --chown=nobody --chmod=600 owned.txt /owned.txt',
      `ADD http://127.0.0.1:${port}/file.txt /dl/`,
      '',
    ].join('\n'),
    'owned.txt': 'mine\n',
    'tok.txt': 'hunter2\n',
  });
  const secret = ['--secret', `id=tok,src=${join(dir, 'tok.txt')}`];
  const r = d.berth(['build', '--progress', 'plain', ...secret, '-t', 'feat:1', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const run = (cmd: string) => d.ok(['run', '--rm', 'feat:1', 'sh', '-c', cmd]);
  assert.equal(run('cat /parts/a /parts/b /onbuild.txt'), 'a\nb\ntriggered');
  assert.equal(run('cat /secret-len'), '8');
  assert.equal(d.berth(['run', '--rm', 'feat:1', 'ls', '/run/secrets']).code, 1, 'the secret mount point is not in the image');
  assert.equal(run('cat /via-bind'), 'a');
  assert.equal(run('stat -c "%u:%g %a" /owned.txt'), '65534:65534 600');
  assert.equal(run('cat /dl/file.txt'), 'downloaded');
  assert.equal(run('cat /cache-count'), '1');
  const onbuild = JSON.parse(d.ok(['image', 'inspect', '--format', '{{json .Config.OnBuild}}', 'feat:1']));
  assert.ok(onbuild === null || onbuild.length === 0, 'triggers are not inherited further');
  const history = d.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'feat:1']);
  assert.doesNotMatch(history, /hunter2/);

  // --no-cache runs everything again; the cache mount kept its content.
  d.ok(['build', '-q', '--no-cache', ...secret, '-t', 'feat:2', dir]);
  assert.equal(d.ok(['run', '--rm', 'feat:2', 'cat', '/cache-count']), '2');

  const bad = dockerBuild(d, [context(t, { 'Dockerfile': 'FROM busybox\nADD http://127.0.0.1:1/x.txt /x\n' })]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /failed to GET http:\/\/127\.0\.0\.1:1\/x\.txt/);
});

test('builder prune clears the cache; --cache-from an image brings the hits back; -q prints the ID', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, { 'Dockerfile': 'FROM busybox\nCOPY f /f\nRUN echo ran > /ran\nCMD ["cat", "/ran"]\n', 'f': 'x\n' });
  const id = okBuild(d, ['-q', '-t', 'cf:1', dir]).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  d.ok(['builder', 'prune', '-f']);
  assert.match(okBuild(d, ['-t', 'cf:2', dir]), /Running in/, 'no cache after builder prune');
  d.ok(['builder', 'prune', '-f']);
  const out = okBuild(d, ['--cache-from', 'cf:1', '-t', 'cf:3', dir]);
  assert.doesNotMatch(out, /Running in/);
  assert.equal((out.match(/Using cache/g) ?? []).length, 3);
  assert.equal(d.ok(['run', '--rm', 'cf:3']), 'ran');
});

test('a client that goes away stops the build: no container, mount or snapshot is left', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  // The marker is computed, so the step's own header line cannot match it.
  const dir = context(t, { 'Dockerfile': 'FROM busybox\nRUN echo running-$((40+2)); sleep 60\n' });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(d.dir, 'docker-config') };
  const child = spawn('docker', ['build', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no RUN output: ${out}`)), 30000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('running-42')) { clearTimeout(timer); res(); }
    });
  });
  child.kill('SIGKILL');
  await waitFor('the RUN container to be removed once the client is gone', () => d.ok(['ps', '-aq']) === '');
  const snapshots = readdirSync(join(d.dataRoot, 'overlay', 'containers')).filter((n) => n.startsWith('build-'));
  assert.deepEqual(snapshots, []);
});

test('berthd killed mid-build: the next start removes the RUN container, build snapshots and the context', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = context(t, { 'Dockerfile': 'FROM busybox\nCOPY Dockerfile /\nRUN echo running-$((40+2)); sleep 60\n' });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(d.dir, 'docker-config') };
  const child = spawn('docker', ['build', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no RUN output: ${out}`)), 30000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('running-42')) { clearTimeout(timer); res(); }
    });
  });
  await d.stop('SIGKILL');
  await d.start();
  assert.equal(d.ok(['ps', '-aq']), '', 'the RUN container is gone');
  assert.deepEqual(readdirSync(join(d.dataRoot, 'overlay', 'containers')).filter((n) => n.startsWith('build-')), []);
  assert.deepEqual(readdirSync(join(d.dataRoot, 'tmp')).filter((n) => n.startsWith('build-')), []);
  // And the daemon builds again.
  okBuild(d, [context(t, { 'Dockerfile': 'FROM busybox\nRUN true\n' })]);
});

test('FROM an image that is not here pulls it from a registry (loopback), and --pull pulls again', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const reg = await startRegistry();
  t.after(() => reg.close());
  const ref = `${reg.domain}/build/base:1`;
  d.ok(['tag', 'busybox', ref]);
  d.ok(['push', ref]);
  d.ok(['rmi', ref]);
  const dir = context(t, { 'Dockerfile': `FROM ${ref}\nRUN echo pulled > /p\n` });
  const out = okBuild(d, ['-t', 'pulled:1', dir]);
  assert.match(out, /Step 1\/2 : FROM 127\.0\.0\.1/);
  assert.equal(d.ok(['run', '--rm', 'pulled:1', 'cat', '/p']), 'pulled');
  assert.ok(d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').includes(ref));
  const again = okBuild(d, ['--pull', '-t', 'pulled:2', dir]);
  assert.match(again, /Using cache/, 'the same base after --pull: the cache still hits');
});
