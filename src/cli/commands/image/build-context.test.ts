import assert from 'node:assert/strict';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import {
  ContextError, SECRETS_DIR, appendToTar, directoryContext, dockerignoreMatcher, isArchive, isTarHeader, planContext, readStream, resolveLocalContext, singleFileTar,
  stdinContext,
} from './build-context.ts';

interface Entry { name: string; type: string; mode: number; uid: number; gid: number; linkname: string | null; data: string }

async function entries(s: Readable): Promise<Entry[]> {
  const ex = tar.extract();
  s.pipe(ex as unknown as NodeJS.WritableStream);
  const out: Entry[] = [];
  for await (const e of ex) {
    const data = (await readStream(e as unknown as NodeJS.ReadableStream)).toString();
    out.push({ name: e.header.name, type: e.header.type ?? 'file', mode: e.header.mode ?? 0, uid: e.header.uid ?? -1, gid: e.header.gid ?? -1, linkname: e.header.linkname ?? null, data });
  }
  return out;
}

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  mkdirSync(join(dir, 'src/sub'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\n');
  writeFileSync(join(dir, 'src/a.txt'), 'a');
  writeFileSync(join(dir, 'src/sub/b.txt'), 'b');
  writeFileSync(join(dir, 'node_modules/x/i.js'), 'x');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  symlinkSync('src/a.txt', join(dir, 'link'));
  linkSync(join(dir, 'src/a.txt'), join(dir, 'hard.txt'));
  return dir;
}

test('a directory context: lexical order, modes, symlinks, hard links, owner 0:0', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = await directoryContext(dir, {});
  assert.equal(ctx.dockerfile, 'Dockerfile');
  const es = await entries(ctx.body);
  assert.deepEqual(es.map((e) => e.name), ['Dockerfile', 'hard.txt', 'link', 'node_modules/', 'node_modules/x/', 'node_modules/x/i.js', 'run.sh', 'src/', 'src/a.txt', 'src/sub/', 'src/sub/b.txt']);
  const by = new Map(es.map((e) => [e.name, e]));
  assert.equal(by.get('run.sh')!.mode, 0o755);
  assert.equal(by.get('link')!.type, 'symlink');
  assert.equal(by.get('link')!.linkname, 'src/a.txt');
  // The first name of a hard-linked file carries the data, the later one links to it.
  assert.equal(by.get('hard.txt')!.data, 'a');
  assert.equal(by.get('src/a.txt')!.type, 'link');
  assert.equal(by.get('src/a.txt')!.linkname, 'hard.txt');
  assert.ok(es.every((e) => e.uid === 0 && e.gid === 0));
});

test('.dockerignore rules apply (**, exceptions), but the Dockerfile and .dockerignore are always sent', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'src/c.tmp'), '');
  writeFileSync(join(dir, 'src/sub/d.tmp'), '');
  writeFileSync(join(dir, '.dockerignore'), '# build junk\nnode_modules\n**/*.tmp\nsrc\n!src/sub/b.txt\nDockerfile\n.dockerignore\n/link\n');
  const es = await entries((await directoryContext(dir, {})).body);
  // src is excluded but walked for its exception, and not sent itself.
  assert.deepEqual(es.map((e) => e.name), ['.dockerignore', 'Dockerfile', 'hard.txt', 'run.sh', 'src/sub/b.txt']);
  writeFileSync(join(dir, '.dockerignore'), '*\n!src\nsrc/**/*.tmp\n');
  const es2 = await entries((await directoryContext(dir, {})).body);
  assert.deepEqual(es2.map((e) => e.name), ['.dockerignore', 'Dockerfile', 'src/', 'src/a.txt', 'src/sub/', 'src/sub/b.txt']);
});

test('a Dockerfile in an excluded directory is still sent', (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'src/sub/Dockerfile.dev'), 'FROM scratch\n');
  const plan = planContext(dir, dockerignoreMatcher('src\n', 'src/sub/Dockerfile.dev', false));
  assert.deepEqual(plan.map((e) => e.name).filter((n) => n.startsWith('src')), ['src/sub/Dockerfile.dev']);
});

test('<Dockerfile>.dockerignore takes precedence over .dockerignore', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.dockerignore'), 'root');
  writeFileSync(join(dir, 'Dockerfile.dockerignore'), 'specific');
  const seen: string[] = [];
  await entries((await directoryContext(dir, { matcherFor: (text, rel, stdin) => { seen.push(text); return dockerignoreMatcher(text, rel, stdin); } })).body);
  assert.deepEqual(seen, ['specific']);
});

test('-f outside the context: sent under a random name that the .dockerignore lists', async (t) => {
  const dir = tree();
  const outside = mkdtempSync(join(tmpdir(), 'berth-df-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); rmSync(outside, { recursive: true, force: true }); });
  writeFileSync(join(outside, 'my.Dockerfile'), 'FROM busybox\nRUN true\n');
  const ctx = await directoryContext('.', { dockerfileFlag: join(outside, 'my.Dockerfile'), cwd: dir });
  assert.match(ctx.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
  const es = await entries(ctx.body);
  const by = new Map(es.map((e) => [e.name, e]));
  assert.equal(by.get(ctx.dockerfile)!.data, 'FROM busybox\nRUN true\n');
  assert.equal(by.get('.dockerignore')!.data, `.dockerignore\n${ctx.dockerfile}\n`);
  // With an existing .dockerignore its rules are kept and the name appended.
  writeFileSync(join(dir, '.dockerignore'), 'node_modules');
  const ctx2 = await directoryContext(dir, { dockerfileFlag: join(outside, 'my.Dockerfile') });
  const es2 = await entries(ctx2.body);
  assert.equal(es2.filter((e) => e.name === '.dockerignore').length, 1);
  assert.equal(es2.find((e) => e.name === '.dockerignore')!.data, `node_modules\n${ctx2.dockerfile}\n`);
  assert.ok(!es2.some((e) => e.name.startsWith('node_modules')));
});

test('-f inside the context is relative to the current directory; -f - reads stdin', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'src/Dockerfile.x'), 'FROM busybox\n');
  assert.equal(resolveLocalContext('.', 'src/Dockerfile.x', dir).relDockerfile, 'src/Dockerfile.x');
  assert.equal(resolveLocalContext(dir, join(dir, 'src/Dockerfile.x')).relDockerfile, 'src/Dockerfile.x');
  const ctx = await directoryContext(dir, { dockerfileFlag: '-', stdinDockerfile: async () => Buffer.from('FROM scratch\n') });
  const es = await entries(ctx.body);
  assert.equal(es.find((e) => e.name === ctx.dockerfile)!.data, 'FROM scratch\n');
});

test('context errors use docker wording', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => resolveLocalContext(dir, undefined), (e: Error) => e instanceof ContextError
    && e.message === `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dir}/Dockerfile: no such file or directory`);
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => resolveLocalContext(join(dir, 'file'), undefined), /context must be a directory/);
  // Only a lowercase dockerfile: used as docker does.
  writeFileSync(join(dir, 'dockerfile'), 'FROM busybox\n');
  assert.equal(resolveLocalContext(dir, undefined).relDockerfile, 'dockerfile');
});

test('a bad .dockerignore pattern fails before anything is sent', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.dockerignore'), 'a[\n');
  await assert.rejects(directoryContext(dir, {}), (e: Error) => e instanceof ContextError && e.message === 'checking context: syntax error in pattern');
});

test('stdin: a tar, a gzipped tar or a bare Dockerfile', async () => {
  const tarBuf = await readStream(singleFileTar('Dockerfile', Buffer.from('FROM busybox\n')));
  assert.ok(isTarHeader(tarBuf));
  assert.ok(isArchive(gzipSync(tarBuf)));
  assert.ok(!isArchive(Buffer.from('FROM busybox\nRUN echo hi\n')));
  assert.ok(!isArchive(Buffer.alloc(1024)));

  const plain = await stdinContext(Readable.from([tarBuf]), undefined);
  assert.equal(plain.dockerfile, 'Dockerfile');
  assert.deepEqual(await readStream(plain.body), tarBuf);
  const gz = gzipSync(tarBuf);
  const zipped = await stdinContext(Readable.from([gz.subarray(0, 10), gz.subarray(10)]), 'sub/Dockerfile');
  assert.equal(zipped.dockerfile, 'sub/Dockerfile');
  assert.deepEqual(await readStream(zipped.body), gz);

  const df = await stdinContext(Readable.from([Buffer.from('FROM busybox\n')]), undefined);
  const es = await entries(df.body);
  assert.deepEqual(es.map((e) => [e.name, e.data]), [['Dockerfile', 'FROM busybox\n']]);

  await assert.rejects(stdinContext(Readable.from([Buffer.from('FROM busybox\n')]), 'Dockerfile'),
    { message: 'unable to prepare context from STDIN: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles' });
  await assert.rejects(stdinContext(Readable.from([Buffer.from('FROM busybox\n')]), '-'),
    { message: 'unable to prepare context from STDIN: build context is not an archive' });
});

test('secrets are added to a stdin tar, replacing a smuggled secrets directory', async () => {
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile', size: 5 }, 'FROM ');
  pack.entry({ name: `${SECRETS_DIR}/tok`, size: 3 }, 'bad');
  pack.finalize();
  const buf = await readStream(pack as unknown as Readable);
  const out = await appendToTar(Readable.from([gzipSync(buf)]), [{ name: `${SECRETS_DIR}/tok`, data: Buffer.from('s3cret'), mode: 0o400 }]);
  const es = await entries(out);
  assert.deepEqual(es.map((e) => [e.name, e.data]), [['Dockerfile', 'FROM '], [`${SECRETS_DIR}/`, ''], [`${SECRETS_DIR}/tok`, 's3cret']]);
  assert.equal(es[2]!.mode, 0o400);
});

test('a .berth-build-secrets directory in the context is never sent', async (t) => {
  const dir = tree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, SECRETS_DIR));
  writeFileSync(join(dir, SECRETS_DIR, 'x'), 'local');
  const es = await entries((await directoryContext(dir, { extras: [{ name: `${SECRETS_DIR}/id1`, data: Buffer.from('v'), mode: 0o400 }] })).body);
  assert.deepEqual(es.filter((e) => e.name.startsWith(SECRETS_DIR)).map((e) => e.name), [`${SECRETS_DIR}/`, `${SECRETS_DIR}/id1`]);
});
