/**
 * `berth registry serve` and `berth registry gc` for real: the built CLI serves a temp root on a
 * free loopback port; skopeo pushes and pulls through it (plain, OCI format, basic auth, TLS),
 * and the protocol's edges are checked with fetch against the distribution spec.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Agent, fetch as ufetch } from 'undici';
import { BUSYBOX_TAR, REPO, waitFor } from './harness.ts';
import { freePort } from '../../src/lib/test-support.ts';

const BERTH = join(REPO, 'dist/berth.mjs');
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function ensureBusybox(): void {
  if (existsSync(BUSYBOX_TAR)) return;
  const r = spawnSync(process.execPath, [join(REPO, 'scripts/make-busybox-image.mjs'), BUSYBOX_TAR], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make busybox image: ${r.stderr}`);
}

interface Registry { dir: string; root: string; host: string; url: string; proc: ChildProcess; log: () => string; stop(signal?: NodeJS.Signals): Promise<number | null> }

/** A temp dir removed after the test. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `berth registry serve` on a free port; it is stopped (SIGKILL if need be) after the test. */
async function startRegistry(t: TestContext, opts: { root?: string; args?: string[]; tls?: boolean; dir?: string } = {}): Promise<Registry> {
  const dir = opts.dir ?? tempDir(t);
  const root = opts.root ?? join(dir, 'root');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const proc = spawn(process.execPath, [BERTH, 'registry', 'serve', '--addr', host, '--root', root, ...(opts.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  t.after(() => stop('SIGKILL'));
  // A deadline for a loaded machine, not a pace: the loop ends as soon as it listens.
  const deadline = Date.now() + 30_000;
  while (!log.includes('registry listening on')) {
    if (proc.exitCode !== null) throw new Error(`registry exited ${proc.exitCode}: ${log}`);
    if (Date.now() > deadline) throw new Error(`registry did not come up: ${log}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  return { dir, root, host, url: `${opts.tls ? 'https' : 'http'}://${host}`, proc, log: () => log, stop };
}

function skopeo(args: string[]): { code: number; out: string } {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
function skopeoOk(args: string[]): string {
  const r = skopeo(args);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')}: exit ${r.code}: ${r.out}`);
  return r.out;
}

/** The layer digests of the single image in an OCI layout. */
function ociLayers(dir: string): string[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const blob = (d: string) => readFileSync(join(dir, 'blobs/sha256', d.slice(7)));
  const m = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { layers: Array<{ digest: string }> };
  for (const l of m.layers) assert.equal(sha(blob(l.digest)), l.digest, 'layer bytes match their digest');
  return m.layers.map((l) => l.digest);
}

async function errorCode(res: Response): Promise<string> {
  const j = (await res.json()) as { errors: Array<{ code: string }> };
  return j.errors[0]!.code;
}

/** Every file under root/blobs holds exactly the bytes its name says. */
function assertBlobsWhole(root: string): string[] {
  const base = join(root, 'blobs/sha256');
  const names: string[] = [];
  for (const fan of readdirSync(base)) {
    for (const f of readdirSync(join(base, fan))) {
      assert.ok(!f.startsWith('.tmp-'), `temporary file visible in blobs: ${f}`);
      assert.equal(sha(readFileSync(join(base, fan, f))), `sha256:${f}`, `blob ${f} is whole`);
      names.push(`sha256:${f}`);
    }
  }
  return names;
}

/** Uploads a blob with one monolithic POST. */
async function pushBlob(url: string, repo: string, data: Buffer): Promise<string> {
  const d = sha(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 201, await res.text());
  return d;
}

/** Pushes a config + one layer + OCI manifest under `tag`; returns the digests. */
async function pushImage(url: string, repo: string, tag: string, layer = randomBytes(1000)): Promise<{ manifest: string; config: string; layer: string; bytes: Buffer }> {
  const config = await pushBlob(url, repo, Buffer.from(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"t":"${tag}"}`));
  const l = await pushBlob(url, repo, layer);
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l, size: layer.length }],
  }));
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 201, await res.text());
  assert.equal(res.headers.get('docker-content-digest'), sha(bytes));
  return { manifest: sha(bytes), config, layer: l, bytes };
}

test('skopeo pushes busybox (docker and OCI formats), inspects it and copies it back unchanged', async (t) => {
  ensureBusybox();
  const r = await startRegistry(t);
  const ref = `docker://${r.host}/lib/bb:1`;
  skopeoOk(['copy', '--dest-tls-verify=false', `docker-archive:${BUSYBOX_TAR}`, ref]);
  const info = JSON.parse(skopeoOk(['inspect', '--tls-verify=false', ref])) as { Layers: string[]; RepoTags: string[]; Digest: string };
  assert.deepEqual(info.RepoTags, ['1']);
  const manifest = await fetch(`${r.url}/v2/lib/bb/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(manifest.headers.get('content-type'), 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(manifest.headers.get('docker-content-digest'), info.Digest);
  assert.equal(sha(Buffer.from(await manifest.arrayBuffer())), info.Digest, 'manifest served byte for byte');

  const back = join(r.dir, 'back');
  skopeoOk(['copy', '--src-tls-verify=false', ref, `oci:${back}:bb`]);
  assert.deepEqual(ociLayers(back), info.Layers);

  skopeoOk(['copy', '--dest-tls-verify=false', '--format', 'oci', `docker-archive:${BUSYBOX_TAR}`, `docker://${r.host}/lib/bb-oci:1`]);
  const ociRes = await fetch(`${r.url}/v2/lib/bb-oci/manifests/1`, { method: 'HEAD' });
  assert.equal(ociRes.status, 200);
  assert.equal(ociRes.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
  const back2 = join(r.dir, 'back2');
  skopeoOk(['copy', '--src-tls-verify=false', `docker://${r.host}/lib/bb-oci:1`, `oci:${back2}:bb`]);
  const info2 = JSON.parse(skopeoOk(['inspect', '--tls-verify=false', `docker://${r.host}/lib/bb-oci:1`])) as { Layers: string[] };
  assert.deepEqual(ociLayers(back2), info2.Layers);
  assertBlobsWhole(r.root);
  assert.equal(await r.stop('SIGTERM'), 0, 'exit 0 on SIGTERM');
});

test('protocol: chunked uploads, ranges, digests, manifests, mounts, pagination, errors', async (t) => {
  const r = await startRegistry(t);
  const u = r.url;
  const base = await fetch(`${u}/v2/`);
  assert.equal(base.status, 200);
  assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');

  // Chunked upload: POST, PATCH with Content-Range, a wrong range, status, PATCH, PUT ?digest=.
  const data = randomBytes(300_000);
  const start = await fetch(`${u}/v2/a/b/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  assert.equal(start.headers.get('range'), '0-0');
  const loc = start.headers.get('location')!;
  assert.match(loc, /^http:\/\/127\.0\.0\.1:\d+\/v2\/a\/b\/blobs\/uploads\/[0-9a-f-]{36}$/);
  const p1 = await fetch(loc, { method: 'PATCH', body: data.subarray(0, 100_000), headers: { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-99999');
  const wrong = await fetch(loc, { method: 'PATCH', body: data.subarray(0, 10), headers: { 'Content-Range': '0-9' } });
  assert.equal(wrong.status, 416);
  assert.equal(await errorCode(wrong), 'RANGE_INVALID');
  const status = await fetch(loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-99999');
  const p2 = await fetch(loc, { method: 'PATCH', body: data.subarray(100_000) });
  assert.equal(p2.headers.get('range'), '0-299999');
  const done = await fetch(`${loc}?digest=${sha(data)}`, { method: 'PUT' });
  assert.equal(done.status, 201);
  assert.equal(done.headers.get('docker-content-digest'), sha(data));
  assert.equal(done.headers.get('location'), `${u}/v2/a/b/blobs/${sha(data)}`);
  const got = await fetch(`${u}/v2/a/b/blobs/${sha(data)}`);
  assert.equal(got.headers.get('docker-content-digest'), sha(data));
  assert.equal(got.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(data));
  assert.equal((await fetch(loc)).status, 404, 'a finished upload is gone');

  // Digest mismatch: 400 DIGEST_INVALID, nothing stored, the upload gone.
  const other = randomBytes(5000);
  const s2 = await fetch(`${u}/v2/a/b/blobs/uploads/`, { method: 'POST' });
  const loc2 = s2.headers.get('location')!;
  const bad = await fetch(`${loc2}?digest=${sha('something else')}`, { method: 'PUT', body: other });
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), 'DIGEST_INVALID');
  assert.equal((await fetch(`${u}/v2/a/b/blobs/${sha(other)}`, { method: 'HEAD' })).status, 404);
  assert.equal((await fetch(`${u}/v2/a/b/blobs/${sha('something else')}`, { method: 'HEAD' })).status, 404);
  assert.equal(await errorCode(await fetch(loc2)), 'BLOB_UPLOAD_UNKNOWN');
  const mono = await fetch(`${u}/v2/a/b/blobs/uploads/?digest=${sha('x')}`, { method: 'POST', body: other });
  assert.equal(await errorCode(mono), 'DIGEST_INVALID');
  assert.deepEqual(assertBlobsWhole(r.root), [sha(data)]);

  // Range GETs.
  const part = await fetch(`${u}/v2/a/b/blobs/${sha(data)}`, { headers: { Range: 'bytes=1000-1999' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 2000)));
  const tail = await fetch(`${u}/v2/a/b/blobs/${sha(data)}`, { headers: { Range: 'bytes=-10' } });
  assert.ok(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(data.length - 10)));
  const beyond = await fetch(`${u}/v2/a/b/blobs/${sha(data)}`, { headers: { Range: `bytes=${data.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${data.length}`);
  await beyond.arrayBuffer();

  // Manifests: a missing blob is refused; stored bytes and type come back; tags and digests.
  const missing = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: sha(data), size: data.length }, layers: [{ digest: sha('absent'), size: 6 }] }));
  const refused = await fetch(`${u}/v2/a/b/manifests/x`, { method: 'PUT', body: missing, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(refused.status, 400);
  const refusedBody = (await refused.json()) as { errors: Array<{ code: string; detail: unknown }> };
  assert.deepEqual(refusedBody.errors[0], { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: sha('absent') });
  assert.equal(await errorCode(await fetch(`${u}/v2/a/b/manifests/x`)), 'MANIFEST_UNKNOWN');
  const img = await pushImage(u, 'a/b', 'v1');
  const byTag = await fetch(`${u}/v2/a/b/manifests/v1`);
  assert.equal(byTag.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
  assert.ok(Buffer.from(await byTag.arrayBuffer()).equals(img.bytes));
  const byDigest = await fetch(`${u}/v2/a/b/manifests/${img.manifest}`, { method: 'HEAD' });
  assert.equal(byDigest.status, 200);
  assert.equal(byDigest.headers.get('content-length'), String(img.bytes.length));
  const digestPut = await fetch(`${u}/v2/a/b/manifests/${sha('no')}`, { method: 'PUT', body: img.bytes, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(await errorCode(digestPut), 'DIGEST_INVALID');
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifest, size: img.bytes.length }] }));
  const idxPut = await fetch(`${u}/v2/a/b/manifests/multi`, { method: 'PUT', body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
  assert.equal(idxPut.status, 201);
  assert.equal((await fetch(`${u}/v2/c/manifests/multi`, { method: 'PUT', body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } })).status, 400, 'an index whose manifest the repo lacks is refused');

  // Cross-repository mount: 201 when the source has the blob, else a normal upload (202).
  const mount = await fetch(`${u}/v2/c/blobs/uploads/?mount=${img.layer}&from=a/b`, { method: 'POST' });
  assert.equal(mount.status, 201);
  assert.equal(mount.headers.get('location'), `${u}/v2/c/blobs/${img.layer}`);
  assert.equal(mount.headers.get('docker-content-digest'), img.layer);
  assert.equal((await fetch(`${u}/v2/c/blobs/${img.layer}`, { method: 'HEAD' })).status, 200);
  const noMount = await fetch(`${u}/v2/d/blobs/uploads/?mount=${sha('absent')}&from=a/b`, { method: 'POST' });
  assert.equal(noMount.status, 202);
  assert.match(noMount.headers.get('location')!, /\/v2\/d\/blobs\/uploads\//);
  assert.equal((await fetch(`${u}/v2/d/blobs/${img.layer}`, { method: 'HEAD' })).status, 404, 'blobs are per repository');

  // Tags pagination with Link headers.
  for (const tag of ['t1', 't2', 't3', 't4']) await pushImage(u, 'pg', tag);
  const seen: string[] = [];
  let next: string | undefined = '/v2/pg/tags/list?n=3';
  let pages = 0;
  while (next) {
    const res = await fetch(`${u}${next}`);
    const body = (await res.json()) as { name: string; tags: string[] };
    assert.equal(body.name, 'pg');
    seen.push(...body.tags);
    pages++;
    next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
  }
  assert.deepEqual(seen, ['t1', 't2', 't3', 't4']);
  assert.equal(pages, 2);
  assert.deepEqual(((await (await fetch(`${u}/v2/pg/tags/list`)).json()) as { tags: string[] }).tags, ['t1', 't2', 't3', 't4']);
  assert.equal(await errorCode(await fetch(`${u}/v2/nope/tags/list`)), 'NAME_UNKNOWN');
  assert.equal(await errorCode(await fetch(`${u}/v2/pg/tags/list?n=x`)), 'PAGINATION_NUMBER_INVALID');

  // Catalog pagination ('d' only has an upload in progress: not a repository yet).
  const cat1 = await fetch(`${u}/v2/_catalog?n=2`);
  assert.deepEqual(((await cat1.json()) as { repositories: string[] }).repositories, ['a/b', 'c']);
  assert.equal(cat1.headers.get('link'), '</v2/_catalog?last=c&n=2>; rel="next"');
  const cat2 = await fetch(`${u}/v2/_catalog?last=c&n=2`);
  assert.deepEqual(((await cat2.json()) as { repositories: string[] }).repositories, ['pg']);
  assert.equal(cat2.headers.get('link'), null);

  // Names, unknowns, deletes disabled.
  assert.equal(await errorCode(await fetch(`${u}/v2/Bad_Name/manifests/x`)), 'NAME_INVALID');
  const delM = await fetch(`${u}/v2/a/b/manifests/${img.manifest}`, { method: 'DELETE' });
  assert.equal(delM.status, 405);
  assert.equal(await errorCode(delM), 'UNSUPPORTED');
  const delB = await fetch(`${u}/v2/a/b/blobs/${img.layer}`, { method: 'DELETE' });
  assert.equal(delB.status, 405);
  assert.equal(await errorCode(delB), 'UNSUPPORTED');
  assert.equal((await fetch(`${u}/v2/a/b/manifests/v1`)).status, 200);
});

test('--delete-enabled: manifest and blob DELETE answer 202, then they are 404', async (t) => {
  const r = await startRegistry(t, { args: ['--delete-enabled', '--quiet'] });
  const img = await pushImage(r.url, 'del/me', 'v1');
  const delM = await fetch(`${r.url}/v2/del/me/manifests/${img.manifest}`, { method: 'DELETE' });
  assert.equal(delM.status, 202);
  assert.equal(await errorCode(await fetch(`${r.url}/v2/del/me/manifests/${img.manifest}`)), 'MANIFEST_UNKNOWN');
  assert.equal(await errorCode(await fetch(`${r.url}/v2/del/me/manifests/v1`)), 'MANIFEST_UNKNOWN', 'its tags went with it');
  const delB = await fetch(`${r.url}/v2/del/me/blobs/${img.layer}`, { method: 'DELETE' });
  assert.equal(delB.status, 202);
  assert.equal((await fetch(`${r.url}/v2/del/me/blobs/${img.layer}`, { method: 'HEAD' })).status, 404);
  assert.equal(await errorCode(await fetch(`${r.url}/v2/del/me/blobs/${img.layer}`, { method: 'DELETE' })), 'BLOB_UNKNOWN');
  assert.equal(r.log().includes('"DELETE'), false, '--quiet logs no requests');
});

test('htpasswd: 401 with a Basic challenge, skopeo with --dest-creds works, a wrong password is refused', async (t) => {
  ensureBusybox();
  const dir = tempDir(t);
  const h = spawnSync('htpasswd', ['-Bbn', 'alice', 'pw-1'], { encoding: 'utf8' });
  assert.equal(h.status, 0, h.stderr);
  writeFileSync(join(dir, 'htpasswd'), h.stdout);
  const r = await startRegistry(t, { dir, args: ['--htpasswd', join(dir, 'htpasswd'), '--realm', 'Berth Test'] });
  const anon = await fetch(`${r.url}/v2/`);
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="Berth Test"');
  assert.deepEqual(await anon.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
  const auth = (p: string) => ({ Authorization: `Basic ${Buffer.from(`alice:${p}`).toString('base64')}` });
  assert.equal((await fetch(`${r.url}/v2/`, { headers: auth('pw-1') })).status, 200);
  assert.equal((await fetch(`${r.url}/v2/`, { headers: auth('nope') })).status, 401);
  const ref = `docker://${r.host}/sec/bb:1`;
  const denied = skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:nope', `docker-archive:${BUSYBOX_TAR}`, ref]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.out, /unauthorized|authentication required/i);
  skopeoOk(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:pw-1', `docker-archive:${BUSYBOX_TAR}`, ref]);
  const info = JSON.parse(skopeoOk(['inspect', '--tls-verify=false', '--creds', 'alice:pw-1', ref])) as { RepoTags: string[] };
  assert.deepEqual(info.RepoTags, ['1']);
});

test('TLS: a self-signed certificate; skopeo trusts it through --dest-cert-dir', async (t) => {
  ensureBusybox();
  const dir = tempDir(t);
  const certs = join(dir, 'certs');
  const o = spawnSync('sh', ['-c', `mkdir -p ${certs} && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout ${dir}/key.pem -out ${certs}/ca.crt`], { encoding: 'utf8' });
  assert.equal(o.status, 0, o.stderr);
  const r = await startRegistry(t, { dir, tls: true, args: ['--tls-cert', join(certs, 'ca.crt'), '--tls-key', join(dir, 'key.pem')] });
  const ref = `docker://${r.host}/tls/bb:1`;
  skopeoOk(['copy', '--dest-cert-dir', certs, `docker-archive:${BUSYBOX_TAR}`, ref]);
  const info = JSON.parse(skopeoOk(['inspect', '--cert-dir', certs, ref])) as { RepoTags: string[] };
  assert.deepEqual(info.RepoTags, ['1']);
  const untrusted = skopeo(['inspect', ref]);
  assert.notEqual(untrusted.code, 0, 'an unknown certificate is not trusted');
  const agent = new Agent({ connect: { ca: readFileSync(join(certs, 'ca.crt')) } });
  t.after(() => agent.close());
  const res = await ufetch(`${r.url}/v2/tls/bb/tags/list`, { dispatcher: agent });
  assert.deepEqual(await res.json(), { name: 'tls/bb', tags: ['1'] });
});

test('gc: removes an unreferenced blob, keeps what manifests reference', async (t) => {
  const r = await startRegistry(t, { args: ['--quiet'] });
  const img = await pushImage(r.url, 'g/c', 'v1');
  const junk = await pushBlob(r.url, 'g/c', randomBytes(4321));
  await pushBlob(r.url, 'other', randomBytes(10)).then(() => undefined);
  const dry = spawnSync(process.execPath, [BERTH, 'registry', 'gc', '--root', r.root, '--dry-run'], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`would delete ${junk} \\(4321 bytes\\)`));
  assert.equal((await fetch(`${r.url}/v2/g/c/blobs/${junk}`, { method: 'HEAD' })).status, 200, 'dry run removes nothing');
  const gc = spawnSync(process.execPath, [BERTH, 'registry', 'gc', '--root', r.root], { encoding: 'utf8' });
  assert.equal(gc.status, 0, gc.stderr);
  assert.match(gc.stdout, new RegExp(`deleted ${junk} \\(4321 bytes\\)`));
  assert.match(gc.stdout, /2 blob\(s\) removed, 4331 bytes freed, 3 kept/);
  assert.equal((await fetch(`${r.url}/v2/g/c/blobs/${junk}`, { method: 'HEAD' })).status, 404);
  for (const d of [img.config, img.layer]) assert.equal((await fetch(`${r.url}/v2/g/c/blobs/${d}`, { method: 'HEAD' })).status, 200);
  assert.equal((await fetch(`${r.url}/v2/g/c/manifests/v1`)).status, 200);
  assert.deepEqual(assertBlobsWhole(r.root).sort(), [img.config, img.layer, img.manifest].sort());
  const missing = spawnSync(process.execPath, [BERTH, 'registry', 'gc', '--root', join(r.dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no such directory/);
});

test('killed mid-upload: nothing half-stored is visible; the chunked upload resumes after restart', async (t) => {
  const dir = tempDir(t);
  const first = await startRegistry(t, { dir, args: ['--quiet'] });
  const data = randomBytes(8 << 20);
  const s = await fetch(`${first.url}/v2/k/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(s.headers.get('location')!);
  assert.equal((await fetch(loc, { method: 'PATCH', body: data.subarray(0, 1 << 20) })).status, 202);

  // Two requests in flight when the server dies: a PATCH and a monolithic POST, each half sent.
  const half = (path: string, method: string) => new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port: Number(loc.port), path, method, headers: { 'Content-Length': String(data.length) } });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(data.subarray(1 << 20, 5 << 20));
  });
  const halves = [half(loc.pathname, 'PATCH'), half(`/v2/k/blobs/uploads/?digest=${sha(data)}`, 'POST')];
  // Killed once both bodies are partly stored: the PATCH's upload file has grown past the first
  // MiB and the POST has a private upload file with bytes in it.
  const uploads = join(first.root, 'repos/k/_uploads');
  const patchFile = loc.pathname.split('/').pop()!;
  await waitFor('both bodies to be partly stored', () => {
    const sizes = readdirSync(uploads).map((f) => ({ f, size: statSync(join(uploads, f)).size }));
    return sizes.some((x) => x.f === patchFile && x.size > 1 << 20) && sizes.some((x) => x.f !== patchFile && x.size > 0);
  });
  assert.equal(await first.stop('SIGKILL'), null);
  await Promise.all(halves);
  assertBlobsWhole(first.root);
  assert.deepEqual(readdirSync(join(first.root, 'blobs/sha256')).length, 0, 'no blob at all');

  const second = await startRegistry(t, { dir, root: first.root, args: ['--quiet'] });
  assert.equal((await fetch(`${second.url}/v2/k/blobs/${sha(data)}`, { method: 'HEAD' })).status, 404);
  const st = await fetch(`${second.url}${loc.pathname}`);
  assert.equal(st.status, 204);
  const have = Number(/^0-(\d+)$/.exec(st.headers.get('range')!)![1]) + 1;
  assert.ok(have >= 1 << 20 && have <= 5 << 20, `resumed at ${have}`);
  assert.equal(statSync(join(first.root, 'repos/k/_uploads', loc.pathname.split('/').pop()!)).size, have);
  const rest = await fetch(`${second.url}${loc.pathname}`, { method: 'PATCH', body: data.subarray(have), headers: { 'Content-Range': `${have}-${data.length - 1}` } });
  assert.equal(rest.status, 202);
  const fin = await fetch(`${second.url}${loc.pathname}?digest=${sha(data)}`, { method: 'PUT' });
  assert.equal(fin.status, 201, await fin.text());
  assert.deepEqual(assertBlobsWhole(first.root), [sha(data)]);
  assert.equal(await second.stop(), 0);
});

test('SIGTERM: a download in flight completes, new connections are refused, exit 0', async (t) => {
  const r = await startRegistry(t, { args: ['--quiet'] });
  const data = randomBytes(32 << 20);
  const d = await pushBlob(r.url, 'slow', data);
  const port = Number(r.host.split(':')[1]);
  const received: Buffer[] = [];
  let paused!: (resume: () => void) => void;
  const started = new Promise<() => void>((resolve) => { paused = resolve; });
  const body = new Promise<Buffer>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/v2/slow/blobs/${d}` }, (res) => {
      res.once('data', (c: Buffer) => {
        received.push(c);
        res.pause();
        paused(() => { res.on('data', (b: Buffer) => received.push(b)); res.resume(); });
      });
      res.on('end', () => resolve(Buffer.concat(received)));
      res.on('error', reject);
    }).on('error', reject).end();
  });
  const resume = await started;
  r.proc.kill('SIGTERM');
  // The download stays paused until the server has stopped listening: it is in flight throughout.
  await waitFor('the listener to close after SIGTERM', () => fetch(`${r.url}/v2/`).then(() => false, () => true));
  resume();
  assert.ok((await body).equals(data), 'the download in flight finished whole');
  assert.equal(await r.stop(), 0);
  assert.match(r.log(), /SIGTERM: finishing requests in flight/);
});
