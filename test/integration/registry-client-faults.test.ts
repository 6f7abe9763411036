// Fault injection for the registry client: small node:http servers on 127.0.0.1 doing what a
// real registry cannot be made to do on demand (cut a download, 503, 429, redirect to another
// port, serve wrong bytes). No berthd needed; run with node --import tsx --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { kindOf } from '../../src/lib/errors.ts';
import { HttpTransport } from '../../src/registry/client/http.ts';
import { RegistryClient } from '../../src/registry/client/index.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A registry-shaped server: `handler` sees each request (body read) and may answer; unanswered is 404. */
async function serve(handler: (req: Seen, res: ServerResponse) => void | Promise<void>) {
  const seen: Seen[] = [];
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(s);
    await handler(s, res);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
    }
  };
  const server = createServer((req, res) => void onRequest(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    domain: `127.0.0.1:${port}`,
    seen,
    /** Requests other than the /v2/ pings. */
    calls: () => seen.filter((s) => s.url !== '/v2/'),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const newClient = (extra: Partial<{ mirrors: string[]; retries: number }> = {}) =>
  new RegistryClient({ insecureRegistries: [], mirrors: extra.mirrors ?? [], retries: extra.retries ?? 3 }, undefined, { backoffMs: 10, certsDir: '' });

const blob = Buffer.alloc(300_000, 0);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 7 + (i >> 8)) & 0xff;
const blobDigest = sha(blob);

async function drain(stream: Readable): Promise<{ data: Buffer; err?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return { data: Buffer.concat(chunks) };
  } catch (err) {
    return { data: Buffer.concat(chunks), err };
  }
}

test('a download cut after N bytes resumes with Range: bytes=N- and verifies', async (t) => {
  const cut = 100_000;
  let gets = 0;
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url !== `/v2/app/blobs/${blobDigest}`) return;
    gets++;
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (!m) {
      res.writeHead(200, { 'content-length': blob.length });
      // Flushed to the kernel, the bytes still reach the client before the close.
      res.write(blob.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    const start = Number(m[1]);
    res.writeHead(206, { 'content-length': blob.length - start, 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
    res.end(blob.subarray(start));
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');

  // As the engine does it: read until the connection drops, then reopen from the byte reached.
  const first = await s.openBlob(blobDigest);
  assert.equal(first.size, blob.length);
  const a = await drain(first.stream);
  assert.ok(a.err, 'the first download must fail part-way');
  assert.equal(a.data.length, cut);
  const second = await s.openBlob(blobDigest, { offset: a.data.length });
  assert.equal(second.size, blob.length);
  const b = await drain(second.stream);
  assert.equal(b.err, undefined);
  const ranged = srv.calls().filter((c) => c.headers.range);
  assert.deepEqual(ranged.map((c) => c.headers.range), [`bytes=${cut}-`]);
  assert.equal(sha(Buffer.concat([a.data, b.data])), blobDigest);

  // getBlobBytes resumes by itself.
  const before = gets;
  const whole = await s.getBlobBytes({ digest: blobDigest, size: blob.length });
  assert.equal(gets - before, 2);
  assert.ok(whole.equals(blob));
});

test('a server that ignores Range (200) has the first N bytes skipped locally', async (t) => {
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === `/v2/app/blobs/${blobDigest}`) { res.writeHead(200, { 'content-length': blob.length }); res.end(blob); }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');
  const { stream } = await s.openBlob(blobDigest, { offset: 1234 });
  const { data, err } = await drain(stream);
  assert.equal(err, undefined);
  assert.equal(srv.calls()[0]!.headers.range, 'bytes=1234-');
  assert.ok(data.equals(blob.subarray(1234)));
});

const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobDigest, size: blob.length }, layers: [],
}));

test('503 is retried with back-off, then succeeds; 404 is not retried', async (t) => {
  let n = 0;
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === '/v2/app/manifests/v1') {
      if (++n < 3) { res.writeHead(503); res.end('busy'); return; }
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha(manifest) });
      res.end(manifest);
    }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');
  const m = await s.getManifest('v1');
  assert.equal(m.digest, sha(manifest));
  assert.equal(srv.calls().length, 3);
  await assert.rejects(s.getManifest('nope'), (e) => kindOf(e) === 'NotFound' && /name unknown/.test((e as Error).message));
  assert.equal(srv.calls().filter((c) => c.url.endsWith('/nope')).length, 1);
});

test('503 for ever gives up after the configured attempts with Unavailable', async (t) => {
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
  });
  const client = newClient({ retries: 2 });
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');
  await assert.rejects(s.getManifest('v1'), (e) => kindOf(e) === 'Unavailable' && (e as Error).message === 'unavailable: try later');
  assert.equal(srv.calls().length, 2);
});

test('429 waits for Retry-After', async (t) => {
  const times: number[] = [];
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    times.push(Date.now());
    if (times.length === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(manifest);
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  await client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull').getManifest('v1');
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= 900, `retried after ${times[1]! - times[0]!} ms, Retry-After said 1 s`);
});

test('a redirect to another port does not carry the registry\'s Authorization', async (t) => {
  const storage = await serve((req, res) => {
    if (req.url.startsWith('/bucket/')) { res.writeHead(200, { 'content-length': blob.length }); res.end(blob); }
  });
  const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
  const srv = await serve((req, res) => {
    if (req.headers.authorization !== auth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === `/v2/app/blobs/${blobDigest}`) { res.writeHead(307, { location: `http://127.0.0.1:${storage.port}/bucket/x?sig=1` }); res.end(); }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); await storage.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, { username: 'u', password: 'p' }, 'pull');
  const bytes = await s.getBlobBytes({ digest: blobDigest, size: blob.length });
  assert.ok(bytes.equals(blob));
  assert.equal(srv.calls().find((c) => c.url.includes('/blobs/'))?.headers.authorization, auth);
  assert.equal(storage.seen.length, 1);
  assert.equal(storage.seen[0]!.url, '/bucket/x?sig=1');
  assert.equal(storage.seen[0]!.headers.authorization, undefined);

  // Wrong password: the registry's 401 comes back as Unauthorized.
  const bad = client.repository({ domain: srv.domain, path: 'app' }, { username: 'u', password: 'nope' }, 'pull');
  await assert.rejects(bad.getManifest('v1'), (e) => kindOf(e) === 'Unauthorized' && (e as Error).message === 'unauthorized: authentication required');
});

test('wrong bytes are refused: blob and manifest by digest', async (t) => {
  const wrong = Buffer.from(blob);
  wrong[10] = wrong[10]! ^ 1;
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === `/v2/app/blobs/${blobDigest}`) { res.writeHead(200, { 'content-length': wrong.length }); res.end(wrong); return; }
    if (req.url.startsWith('/v2/app/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(manifest);
    }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');
  await assert.rejects(s.getBlobBytes({ digest: blobDigest, size: blob.length }),
    (e) => kindOf(e) === 'InvalidParameter' && /blob verification failed/.test((e as Error).message));
  await assert.rejects(s.getBlobBytes({ digest: blobDigest, size: 10 }), (e) => kindOf(e) === 'InvalidParameter');
  const other = `sha256:${'0'.repeat(64)}`;
  await assert.rejects(s.getManifest(other), (e) => kindOf(e) === 'InvalidParameter' && /manifest verification failed/.test((e as Error).message));
  assert.equal((await s.getManifest(sha(manifest))).digest, sha(manifest));
});

test('a registry that is down: Unavailable naming the URL, no retries', async () => {
  const srv = await serve(() => undefined);
  const port = srv.port;
  await srv.close();
  const client = newClient();
  try {
    const s = client.repository({ domain: `127.0.0.1:${port}`, path: 'app' }, undefined, 'pull');
    await assert.rejects(s.getManifest('v1'), (e) => kindOf(e) === 'Unavailable'
      && (e as Error).message === `Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
  } finally {
    await client.close();
  }
});

test('bearer: token per scope, cached, re-fetched once when the registry refuses it', async (t) => {
  let issued = 0;
  const tokens = await serve((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname !== '/token') return;
    issued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `tok-${issued}-${u.searchParams.getAll('scope').join('+')}`, expires_in: 300 }));
  });
  const challenge = `Bearer realm="http://127.0.0.1:${tokens.port}/token",service="reg,test"`;
  let rejectOnce = true;
  const srv = await serve((req, res) => {
    const ok = req.headers.authorization?.startsWith('Bearer tok-');
    if (!ok || (rejectOnce && req.url.includes('/manifests/again'))) {
      if (ok) rejectOnce = false;
      res.writeHead(401, { 'www-authenticate': `${challenge},scope="repository:app:pull"`, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url.startsWith('/v2/app/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(manifest);
    }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); await tokens.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull');
  await s.getManifest('v1');
  await s.getManifest('v2');
  assert.equal(issued, 1, 'one token for two requests of the same scope');
  const q = new URL(tokens.seen[0]!.url, 'http://x').searchParams;
  assert.equal(q.get('service'), 'reg,test');
  assert.equal(q.get('scope'), 'repository:app:pull');
  assert.equal(tokens.seen[0]!.headers.authorization, undefined, 'anonymous without credentials');
  await s.getManifest('again');
  assert.equal(issued, 2, 'a refused token is re-fetched once');
});

test('upload: Location query parameters are kept; a refused monolithic PUT falls back to chunks', async (t) => {
  const data = blob.subarray(0, 50_000);
  const digest = sha(data);
  let received = Buffer.alloc(0);
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    const u = new URL(req.url, 'http://x');
    if (req.method === 'HEAD') { res.writeHead(404); res.end(); return; }
    if (req.method === 'POST' && u.pathname === '/v2/app/blobs/uploads/') {
      res.writeHead(202, { location: `/upload/s1?_state=abc` }); res.end(); return;
    }
    if (u.pathname === '/upload/s1' && req.method === 'PUT' && req.body.length > 0) {
      res.writeHead(405, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNSUPPORTED","message":"no monolithic"}]}');
      return;
    }
    if (u.pathname === '/upload/s1' && req.method === 'PATCH') {
      assert.equal(u.searchParams.get('_state'), 'abc');
      const [from, to] = String(req.headers['content-range']).split('-').map(Number);
      assert.equal(from, received.length);
      assert.equal(to, received.length + req.body.length - 1);
      received = Buffer.concat([received, req.body]);
      res.writeHead(202, { location: `http://127.0.0.1:${srv.port}/upload/s1?_state=abc` }); res.end(); return;
    }
    if (u.pathname === '/upload/s1' && req.method === 'PUT') {
      assert.equal(u.searchParams.get('_state'), 'abc');
      assert.equal(u.searchParams.get('digest'), digest);
      res.writeHead(201, { 'docker-content-digest': sha(received) }); res.end(); return;
    }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull,push');
  const progress: number[] = [];
  const outcome = await s.pushBlob({ digest, size: data.length }, async () => Readable.from([data.subarray(0, 20_000), data.subarray(20_000)]),
    { onProgress: (n) => progress.push(n) });
  assert.deepEqual(outcome, { kind: 'pushed' });
  assert.ok(received.equals(data));
  assert.equal(progress.at(-1), data.length);
  const patches = srv.calls().filter((c) => c.method === 'PATCH');
  assert.equal(patches.length, 1, 'the fallback chunk (10 MiB) holds the whole 50 kB blob');
});

test('docker.io mirrors: a failing mirror falls through to the next one', async (t) => {
  const bad = await serve((req, res) => { res.writeHead(500); res.end('broken'); });
  const good = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === '/v2/library/busybox/manifests/latest') {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(manifest);
    }
  });
  const client = newClient({ mirrors: [`http://127.0.0.1:${bad.port}`, `http://127.0.0.1:${good.port}`], retries: 1 });
  t.after(async () => { await client.close(); await bad.close(); await good.close(); });
  const m = await client.repository({ domain: 'docker.io', path: 'library/busybox' }, undefined, 'pull').getManifest('latest');
  assert.equal(m.digest, sha(manifest));
  assert.ok(bad.seen.length >= 1);
});

test('an aborted signal cancels a back-off', async (t) => {
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    res.writeHead(429, { 'retry-after': '20' }); res.end();
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  const started = Date.now();
  await assert.rejects(client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull').getManifest('v1', ac.signal),
    (e) => kindOf(e) === 'Canceled');
  assert.ok(Date.now() - started < 5000);
});

test('TLS: an insecure (loopback) registry\'s self-signed HTTPS is accepted; a secure endpoint verifies, with certs.d', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rc-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const seen: string[] = [];
  const server = createHttps({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/v2/') { res.end('{}'); return; }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(manifest);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = newClient();
  const transports: HttpTransport[] = [];
  t.after(async () => {
    await client.close();
    for (const tr of transports) await tr.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const m = await client.repository({ domain: `127.0.0.1:${port}`, path: 'app' }, undefined, 'pull').getManifest('v1');
  assert.equal(m.digest, sha(manifest));
  assert.deepEqual(seen, ['/v2/', '/v2/app/manifests/v1']);

  const ep = { base: `https://127.0.0.1:${port}`, skipVerify: false, certsKey: `127.0.0.1:${port}` };
  const plain = new HttpTransport({ certsDir: '', retries: 1 });
  transports.push(plain);
  await assert.rejects(plain.send({ method: 'GET', url: new URL(`${ep.base}/v2/`) }, plain.dispatcherFor(ep)),
    (e) => kindOf(e) === 'Unavailable' && /x509: certificate signed by unknown authority$/.test((e as Error).message));
  const certsDir = join(dir, 'certs.d');
  mkdirSync(join(certsDir, ep.certsKey), { recursive: true });
  copyFileSync(join(dir, 'cert.pem'), join(certsDir, ep.certsKey, 'ca.crt'));
  const withCa = new HttpTransport({ certsDir, retries: 1 });
  transports.push(withCa);
  const res = await withCa.send({ method: 'GET', url: new URL(`${ep.base}/v2/`) }, withCa.dispatcherFor(ep));
  assert.equal(res.status, 200);
  await res.body.dump();
});

test('tags: Link pages are followed to the end', async (t) => {
  const pages: Record<string, { tags: string[]; next?: string }> = {
    '/v2/app/tags/list': { tags: ['a', 'b'], next: '</v2/app/tags/list?last=b&n=2>; rel="next"' },
    '/v2/app/tags/list?last=b&n=2': { tags: ['c', 'd'], next: '</v2/app/tags/list?last=d&n=2>; rel="next"' },
    '/v2/app/tags/list?last=d&n=2': { tags: ['e'] },
  };
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    const p = pages[req.url];
    if (!p) return;
    res.writeHead(200, { 'content-type': 'application/json', ...(p.next ? { link: p.next } : {}) });
    res.end(JSON.stringify({ name: 'app', tags: p.tags }));
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  assert.deepEqual(await client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull').listTags(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(srv.calls().length, 3);
});

test('upload: a 503 on the PUT starts the upload again from a fresh open(); a digest error does not', async (t) => {
  const data = blob.subarray(0, 30_000);
  const digest = sha(data);
  let puts = 0;
  let badDigest = false;
  const srv = await serve((req, res) => {
    if (req.url === '/v2/') { res.end('{}'); return; }
    const u = new URL(req.url, 'http://x');
    if (req.method === 'HEAD') { res.writeHead(404); res.end(); return; }
    if (req.method === 'POST') { res.writeHead(202, { location: `/up/${Math.random().toString(16).slice(2)}` }); res.end(); return; }
    if (req.method === 'PUT' && u.pathname.startsWith('/up/')) {
      puts++;
      if (badDigest) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}');
        return;
      }
      if (puts === 1) { res.writeHead(503); res.end(); return; }
      assert.ok(req.body.equals(data));
      res.writeHead(201, { 'docker-content-digest': digest }); res.end();
    }
  });
  const client = newClient();
  t.after(async () => { await client.close(); await srv.close(); });
  const s = client.repository({ domain: srv.domain, path: 'app' }, undefined, 'pull,push');
  let opens = 0;
  const open = async () => { opens++; return Readable.from([data]); };
  assert.deepEqual(await s.pushBlob({ digest, size: data.length }, open), { kind: 'pushed' });
  assert.equal(opens, 2);
  assert.equal(puts, 2);
  badDigest = true;
  opens = 0;
  await assert.rejects(s.pushBlob({ digest, size: data.length }, open),
    (e) => kindOf(e) === 'InvalidParameter' && (e as Error).message === 'digest invalid: provided digest did not match uploaded content');
  assert.equal(opens, 1, 'a content error is neither retried nor re-sent in chunks');
});
