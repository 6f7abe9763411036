// The registry client against Debian's real Distribution 2.8 (docker-registry): push and pull a
// small image, chunked upload, cross-repository mount, tags; htpasswd (Basic) and token (Bearer)
// auth with the token-auth-server fixture. No berthd needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { kindOf } from '../../src/lib/errors.ts';
import { MEDIA_TYPES, RegistryClient, RegistryError, type RepositorySession } from '../../src/registry/client/index.ts';
import { startRegistry } from './fixtures/registry-server.mjs';
import { startTokenAuthServer } from './fixtures/token-auth-server.mjs';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const newClient = () => new RegistryClient({ insecureRegistries: [], mirrors: [], retries: 2 }, undefined, { backoffMs: 20, certsDir: '' });

async function layer(files: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

interface TestImage {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
}

async function makeImage(tag: string): Promise<TestImage> {
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 5)) & 0xff;
  const layers = [await layer({ 'etc/hello': `hello ${tag}\n` }), await layer({ 'data/blob.bin': big })];
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l)) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(l), size: l.length })),
  }, null, 3));
  return { config, layers, manifest };
}

const blobDesc = (b: Buffer) => ({ digest: sha(b), size: b.length });
const open = (b: Buffer) => async () => Readable.from([b.subarray(0, 7000), b.subarray(7000)]);

async function pushImage(s: RepositorySession, img: TestImage, tag: string, chunkSize?: number) {
  const outcomes = [];
  for (const b of [img.config, ...img.layers]) outcomes.push(await s.pushBlob(blobDesc(b), open(b), chunkSize ? { chunkSize } : {}));
  const digest = await s.putManifest(tag, MEDIA_TYPES.dockerManifest, img.manifest);
  return { outcomes, digest };
}

async function pullAndVerify(s: RepositorySession, img: TestImage, ref: string) {
  const m = await s.getManifest(ref);
  assert.equal(m.digest, sha(img.manifest));
  assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest);
  assert.ok(m.bytes.equals(img.manifest));
  assert.ok((await s.getBlobBytes(m.json.config!)).equals(img.config));
  for (const [i, l] of (m.json.layers ?? []).entries()) {
    const { stream, size } = await s.openBlob(l.digest);
    assert.equal(size, l.size);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(sha(Buffer.concat(chunks)), l.digest);
    assert.ok(Buffer.concat(chunks).equals(img.layers[i]!));
  }
}

test('no auth: push, pull back, chunked upload, cross-repo mount, tags, errors', async (t) => {
  const reg = await startRegistry();
  const client = newClient();
  t.after(async () => { await client.close(); await reg.close(); });
  const img = await makeImage('v1');
  const app = client.repository({ domain: reg.domain, path: 'berth/app' }, undefined, 'pull,push');

  const progress: number[] = [];
  const first = await app.pushBlob(blobDesc(img.layers[1]!), open(img.layers[1]!), { onProgress: (n) => progress.push(n) });
  assert.deepEqual(first, { kind: 'pushed' });
  assert.equal(progress.at(-1), img.layers[1]!.length);
  const { outcomes, digest } = await pushImage(app, img, 'v1');
  assert.deepEqual(outcomes.map((o) => o.kind), ['pushed', 'pushed', 'exists']);
  assert.equal(digest, sha(img.manifest));
  await pullAndVerify(client.repository({ domain: reg.domain, path: 'berth/app' }, undefined, 'pull'), img, 'v1');
  await pullAndVerify(app, img, digest);
  assert.equal(await app.hasBlob(sha(img.config)), true);
  assert.equal(await app.hasBlob(sha(Buffer.from('nope'))), false);

  // Chunked upload (PATCH with Content-Range) into another repository.
  const img2 = await makeImage('v2');
  const chunked = client.repository({ domain: reg.domain, path: 'berth/chunked' }, undefined, 'pull,push');
  const r2 = await pushImage(chunked, img2, 'latest', 4096);
  assert.deepEqual(r2.outcomes.map((o) => o.kind), ['pushed', 'pushed', 'pushed']);
  await pullAndVerify(chunked, img2, 'latest');

  // Cross-repository mount.
  const other = client.repository({ domain: reg.domain, path: 'berth/other' }, undefined, 'pull,push');
  assert.deepEqual(await other.pushBlob(blobDesc(img.layers[0]!), open(img.layers[0]!), { mountFrom: 'berth/app' }), { kind: 'mounted', from: 'berth/app' });
  assert.equal(await other.hasBlob(sha(img.layers[0]!)), true);
  let opened = false;
  assert.deepEqual(await other.pushBlob(blobDesc(img.layers[0]!), async () => { opened = true; return Readable.from([]); }), { kind: 'exists' });
  assert.equal(opened, false);

  await app.putManifest('v1.1', MEDIA_TYPES.dockerManifest, img.manifest);
  assert.deepEqual((await app.listTags()).sort(), ['v1', 'v1.1']);

  await assert.rejects(app.getManifest('nope'), (e) => kindOf(e) === 'NotFound' && e instanceof RegistryError
    && e.code === 'MANIFEST_UNKNOWN' && e.message === 'manifest unknown: manifest unknown');
  const missing = client.repository({ domain: reg.domain, path: 'berth/missing' }, undefined, 'pull');
  await assert.rejects(missing.listTags(), (e) => kindOf(e) === 'NotFound' && (e as RegistryError).code === 'NAME_UNKNOWN');
  await assert.rejects(missing.getManifest('latest'), (e) => kindOf(e) === 'NotFound');
  // A manifest naming a blob the repository lacks.
  const orphan = Buffer.from(img.manifest.toString().replace(sha(img.config), sha(Buffer.from('absent'))));
  await assert.rejects(client.repository({ domain: reg.domain, path: 'berth/orphan' }, undefined, 'pull,push')
    .putManifest('x', MEDIA_TYPES.dockerManifest, orphan), (e) => kindOf(e) === 'InvalidParameter' && /blob unknown/.test((e as Error).message));

  assert.deepEqual(await client.login(reg.domain, {}), {});
  await assert.rejects(client.search(reg.domain, 'app', 25), (e) => kindOf(e) === 'NotImplemented'
    && (e as Error).message.startsWith(`${reg.domain} does not support search`));
});

test('htpasswd (Basic): wrong password refused, right one pushes and pulls', async (t) => {
  const reg = await startRegistry({ htpasswd: { alice: 's3cret' } });
  const client = newClient();
  t.after(async () => { await client.close(); await reg.close(); });
  await assert.rejects(client.login(reg.domain, { username: 'alice', password: 'wrong' }), (e) => kindOf(e) === 'Unauthorized'
    && (e as Error).message === `login attempt to http://${reg.domain}/v2/ failed with status: 401 Unauthorized`);
  assert.deepEqual(await client.login(reg.domain, { username: 'alice', password: 's3cret' }), {});

  const img = await makeImage('basic');
  const s = client.repository({ domain: reg.domain, path: 'team/app' }, { username: 'alice', password: 's3cret' }, 'pull,push');
  await pushImage(s, img, 'v1');
  await pullAndVerify(s, img, 'v1');
  const anon = client.repository({ domain: reg.domain, path: 'team/app' }, undefined, 'pull');
  await assert.rejects(anon.getManifest('v1'), (e) => kindOf(e) === 'Unauthorized' && (e as Error).message === 'unauthorized: authentication required');
  const bad = client.repository({ domain: reg.domain, path: 'team/app' }, { username: 'alice', password: 'nope' }, 'pull');
  await assert.rejects(bad.getManifest('v1'), (e) => kindOf(e) === 'Unauthorized');
});

test('token auth (Bearer): login, identity token, anonymous pull only, push needs credentials', async (t) => {
  const auth = await startTokenAuthServer({ users: { bob: 'hunter2' }, anonymous: 'pull' });
  const reg = await startRegistry({ authConfig: auth.registryConfig });
  const client = newClient();
  t.after(async () => { await client.close(); await reg.close(); await auth.close(); });

  await assert.rejects(client.login(reg.domain, { username: 'bob', password: 'wrong' }), (e) => kindOf(e) === 'Unauthorized'
    && (e as Error).message === `Get "http://${reg.domain}/v2/": unauthorized: incorrect username or password`);
  const login = await client.login(reg.domain, { username: 'bob', password: 'hunter2' });
  assert.match(login.identityToken ?? '', /^[0-9a-f]{32}$/, 'offline login hands back a refresh token');

  const img = await makeImage('token');
  const bob = client.repository({ domain: reg.domain, path: 'bob/app' }, { username: 'bob', password: 'hunter2' }, 'pull,push');
  const before = auth.requests.length;
  await pushImage(bob, img, 'v1');
  const tokenCalls = auth.requests.slice(before);
  assert.equal(tokenCalls.length, 1, 'one token for the whole push (cached per scope)');
  assert.match(tokenCalls[0]!.url, /scope=repository%3Abob%2Fapp%3Apull%2Cpush/);

  // Cross-repo mount asks for pull on the source repository too.
  const mount = client.repository({ domain: reg.domain, path: 'bob/copy' }, { username: 'bob', password: 'hunter2' }, 'pull,push');
  assert.deepEqual(await mount.pushBlob(blobDesc(img.config), open(img.config), { mountFrom: 'bob/app' }), { kind: 'mounted', from: 'bob/app' });
  assert.ok(auth.requests.some((r) => r.url.includes('scope=repository%3Abob%2Fapp%3Apull&') || r.url.endsWith('scope=repository%3Abob%2Fapp%3Apull')));

  // Anonymous: pull allowed, push denied.
  const anon = client.repository({ domain: reg.domain, path: 'bob/app' }, undefined, 'pull,push');
  await pullAndVerify(anon, img, 'v1');
  await assert.rejects(pushImage(anon, await makeImage('anon'), 'v2'), (e) => kindOf(e) === 'Forbidden'
    && (e as Error).message === 'denied: requested access to the resource is denied');

  // The identity token (OAuth2 refresh-token grant, POST) works instead of the password.
  const viaRefresh = client.repository({ domain: reg.domain, path: 'bob/app' }, { identityToken: login.identityToken! }, 'pull,push');
  const n = auth.requests.length;
  await viaRefresh.putManifest('v3', MEDIA_TYPES.dockerManifest, img.manifest);
  assert.equal(auth.requests[n]?.method, 'POST');
  assert.match(auth.requests[n]!.body, /grant_type=refresh_token/);
  assert.deepEqual((await viaRefresh.listTags()).sort(), ['v1', 'v3']);
});
