import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { EngineError } from '../lib/errors.ts';
import { type ApiLogger, ApiServer, cmpVersion, hijackConnection } from './server.ts';
import { hidePaths } from './public-message.ts';
import { MAX_JSON_BODY, Router, notModified, ok, readHijackJson, readJson, streamed } from './router.ts';

/** Keeps what the server logged, so a test can check a 500 was logged as an error. */
class MemoryLogger implements ApiLogger {
  readonly lines: { level: string; obj: object; msg: string | undefined }[] = [];
  debug(obj: object, msg?: string) { this.lines.push({ level: 'debug', obj, msg }); }
  info(obj: object, msg?: string) { this.lines.push({ level: 'info', obj, msg }); }
  warn(obj: object, msg?: string) { this.lines.push({ level: 'warn', obj, msg }); }
  error(obj: object, msg?: string) { this.lines.push({ level: 'error', obj, msg }); }
}

const routes = new Router().add([
  { method: 'GET', path: '/echo/:word', handler: (req) => ok({ word: req.params['word'], version: req.version, q: req.query.get('q') }) },
  { method: 'POST', path: '/json', handler: async (req) => ok({ got: await readJson(req, { empty: true }) }, 201) },
  { method: 'GET', path: '/missing', handler: () => { throw new EngineError('NotFound', 'No such container: x'); } },
  { method: 'GET', path: '/conflict', handler: () => { throw new EngineError('Conflict', 'it is busy'); } },
  { method: 'GET', path: '/invalid', handler: () => { throw new EngineError('InvalidParameter', 'bad input'); } },
  { method: 'GET', path: '/unavailable', handler: () => { throw new EngineError('Unavailable', 'try later'); } },
  { method: 'GET', path: '/bug', handler: () => { throw new Error('a plain bug'); } },
  { method: 'GET', path: '/wrapped', handler: () => { throw new Error('outer', { cause: new EngineError('Conflict', 'inner conflict') }); } },
  { method: 'GET', path: '/reworded', handler: () => { throw new EngineError('Conflict', 'new words', { legacy: { until: '1.44', message: 'Old Words' } }); } },
  { method: 'GET', path: '/same', handler: () => notModified() },
  { method: 'POST', path: '/same-thrown', handler: () => { throw new EngineError('NotModified', 'container already started'); } },
  { method: 'GET', path: '/text', handler: () => ({ kind: 'text', status: 200, body: 'plain', contentType: 'text/x-test' }) },
  { method: 'DELETE', path: '/thing/:id', handler: () => ({ kind: 'empty', status: 204 }) },
  { method: 'GET', path: '/midstream', handler: (req) => {
    req.res.writeHead(200, { 'Content-Type': 'application/json' });
    req.res.write('{"partial":');
    throw new EngineError('Internal', 'broke mid-stream');
  } },
  {
    // attach-like: hijack, then echo upper-cased bytes until the client ends.
    method: 'POST', path: '/containers/:id/attach', handler: async (req) => {
      const body = await readHijackJson<{ hello?: string }>(req, {});
      const socket = hijackConnection(req, 'application/vnd.docker.raw-stream');
      if (body.hello) socket.write(`body:${body.hello}\n`);
      socket.on('data', (c: Buffer) => socket.write(c.toString().toUpperCase()));
      socket.on('end', () => socket.end());
      return streamed;
    },
  },
  { method: 'POST', path: '/hijack-refused', handler: () => { throw new EngineError('Conflict', 'You cannot attach to a stopped container, start it first'); } },
]);

async function startServer(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  const socketPath = join(dir, 'api.sock');
  const log = new MemoryLogger();
  const server = new ApiServer({ router: routes, log, serverVersion: '9.9.9-test' });
  await server.listenUnix(socketPath);
  t.after(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); });
  return { socketPath, log };
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

function call(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertCommonHeaders(a: Answer) {
  assert.equal(a.headers['api-version'], '1.47');
  assert.equal(a.headers['ostype'], 'linux');
  assert.equal(a.headers['server'], 'Berth/9.9.9-test (linux)');
}

function assertError(a: Answer, status: number, message: string) {
  assert.equal(a.status, status);
  assert.equal(a.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(a.body), { message });
  assertCommonHeaders(a);
}

test('cmpVersion compares numerically', () => {
  assert.ok(cmpVersion('1.41', '1.47') < 0);
  assert.ok(cmpVersion('1.100', '1.47') > 0);
  assert.equal(cmpVersion('1.47', '1.47'), 0);
  assert.ok(cmpVersion('2.0', '1.47') > 0);
});

test('unversioned and versioned paths up to 1.47 are served', async (t) => {
  const { socketPath } = await startServer(t);
  const plain = await call(socketPath, 'GET', '/echo/hi?q=1');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(plain.body), { word: 'hi', version: '1.47', q: '1' });
  assertCommonHeaders(plain);
  assert.deepEqual(JSON.parse((await call(socketPath, 'GET', '/v1.41/echo/x')).body), { word: 'x', version: '1.41', q: null });
  assert.deepEqual(JSON.parse((await call(socketPath, 'GET', '/v1.47/echo/x/')).body), { word: 'x', version: '1.47', q: null });
  assert.equal((await call(socketPath, 'GET', '/v1.24/echo/x')).status, 200);
});

test('a too new or too old client version is a 400 with Docker\'s wording', async (t) => {
  const { socketPath } = await startServer(t);
  assertError(await call(socketPath, 'GET', '/v1.99/echo/x'), 400, 'client version 1.99 is too new. Maximum supported API version is 1.47');
  assertError(await call(socketPath, 'GET', '/v1.12/echo/x'), 400,
    'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
});

test('unknown path or method: 404 {"message":"page not found"}, Content-Type exactly application/json', async (t) => {
  const { socketPath } = await startServer(t);
  for (const [method, path] of [['GET', '/nowhere'], ['GET', '/v1.41/nowhere'], ['PUT', '/echo/x'], ['GET', '/']] as const) {
    const a = await call(socketPath, method, path);
    assertError(a, 404, 'page not found');
    assert.equal(a.body, '{"message":"page not found"}');
  }
});

test('error kinds become statuses; the body carries the EngineError message', async (t) => {
  const { socketPath, log } = await startServer(t);
  assertError(await call(socketPath, 'GET', '/missing'), 404, 'No such container: x');
  assertError(await call(socketPath, 'GET', '/conflict'), 409, 'it is busy');
  assertError(await call(socketPath, 'GET', '/invalid'), 400, 'bad input');
  assertError(await call(socketPath, 'GET', '/wrapped'), 409, 'inner conflict');
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 0, 'refusals are not errors');
  assertError(await call(socketPath, 'GET', '/unavailable'), 503, 'try later');
  assertError(await call(socketPath, 'GET', '/bug'), 500, 'a plain bug');
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 2, '5xx answers are logged as errors');
});

test('a message dockerd reworded reaches clients of older API versions in the old words', async (t) => {
  const { socketPath } = await startServer(t);
  assertError(await call(socketPath, 'GET', '/v1.41/reworded'), 409, 'Old Words');
  assertError(await call(socketPath, 'GET', '/v1.43/reworded'), 409, 'Old Words');
  assertError(await call(socketPath, 'GET', '/v1.44/reworded'), 409, 'new words');
  assertError(await call(socketPath, 'GET', '/reworded'), 409, 'new words');
});

test('NotModified is a 304 with an empty body, replied or thrown', async (t) => {
  const { socketPath } = await startServer(t);
  for (const [method, path] of [['GET', '/same'], ['POST', '/same-thrown']] as const) {
    const a = await call(socketPath, method, path);
    assert.equal(a.status, 304);
    assert.equal(a.body, '');
    assertCommonHeaders(a);
  }
});

test('empty and text replies', async (t) => {
  const { socketPath } = await startServer(t);
  const del = await call(socketPath, 'DELETE', '/thing/1');
  assert.equal(del.status, 204);
  assert.equal(del.body, '');
  assertCommonHeaders(del);
  const text = await call(socketPath, 'GET', '/text');
  assert.equal(text.status, 200);
  assert.equal(text.headers['content-type'], 'text/x-test');
  assert.equal(text.body, 'plain');
});

test('HEAD works for GET routes: same status and headers, no body', async (t) => {
  const { socketPath } = await startServer(t);
  const get = await call(socketPath, 'GET', '/echo/hi');
  const head = await call(socketPath, 'HEAD', '/echo/hi');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], get.headers['content-length']);
  assert.equal(head.headers['content-type'], 'application/json');
  assertCommonHeaders(head);
  assert.equal((await call(socketPath, 'HEAD', '/text')).body, '');
  assert.equal((await call(socketPath, 'HEAD', '/missing')).status, 404);
});

test('readJson: a JSON body, the default for an empty one, 400 for malformed JSON', async (t) => {
  const { socketPath } = await startServer(t);
  const good = await call(socketPath, 'POST', '/json', '{"a":[1,2]}', { 'Content-Type': 'application/json' });
  assert.equal(good.status, 201);
  assert.deepEqual(JSON.parse(good.body), { got: { a: [1, 2] } });
  assert.deepEqual(JSON.parse((await call(socketPath, 'POST', '/json')).body), { got: { empty: true } });
  assert.deepEqual(JSON.parse((await call(socketPath, 'POST', '/json', '  \n')).body), { got: { empty: true } });
  const bad = await call(socketPath, 'POST', '/json', '{"a":', { 'Content-Type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /^invalid JSON: /);
});

test('readJson: a body over MAX_JSON_BODY is a 400 the client can read, by Content-Length or chunked', async (t) => {
  const { socketPath } = await startServer(t);
  const big = JSON.stringify({ a: 'x'.repeat(MAX_JSON_BODY) });
  const sized = await call(socketPath, 'POST', '/json', big, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(big)) });
  assertError(sized, 400, 'request body is larger than 4 MiB: JSON bodies are limited to that');
  // Without a Content-Length the limit applies as the body arrives.
  const chunked = await call(socketPath, 'POST', '/json', big, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  assertError(chunked, 400, 'request body is larger than 4 MiB: JSON bodies are limited to that');
  // The connection's next request is served as usual.
  assert.equal((await call(socketPath, 'POST', '/json', '{"small":1}')).status, 201);
});

test('an error after the headers went out ends the response instead of sending a second head', async (t) => {
  const { socketPath } = await startServer(t);
  await assert.rejects(call(socketPath, 'GET', '/midstream'));
});

/** Sends a raw HTTP request and collects what comes back until `until` matches. */
function rawExchange(socketPath: string, head: string): Promise<{ socket: Socket; received: () => string; waitFor: (re: RegExp) => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let got = '';
    const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      for (const w of [...waiters]) if (w.re.test(got)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(got); }
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(head);
      resolve({
        socket, received: () => got,
        waitFor: (re) => new Promise((res, rej) => {
          if (re.test(got)) { res(got); return; }
          const timer = setTimeout(() => rej(new Error(`timed out waiting for ${re}; got ${JSON.stringify(got)}`)), 5000);
          waiters.push({ re, resolve: (s) => { clearTimeout(timer); res(s); } });
        }),
      });
    });
  });
}

test('hijack with Upgrade: tcp answers 101 UPGRADED, then raw bytes flow both ways', async (t) => {
  const { socketPath } = await startServer(t);
  const socket = await new Promise<Duplex>((resolve, reject) => {
    const body = '{"hello":"there"}';
    const req = request({
      socketPath, method: 'POST', path: '/v1.47/containers/c1/attach?stream=1', agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
    });
    req.on('upgrade', (res, sock, head) => {
      try {
        assert.equal(res.statusCode, 101);
        assert.equal(res.statusMessage, 'UPGRADED');
        assert.equal(res.headers['upgrade'], 'tcp');
        assert.equal(res.headers['connection'], 'Upgrade');
        assert.equal(res.headers['content-type'], 'application/vnd.docker.raw-stream');
        assert.equal(res.headers['api-version'], '1.47');
      } catch (err) { reject(err); return; }
      if (head.length) sock.unshift(head);
      resolve(sock);
    });
    req.on('response', (res) => reject(new Error(`expected an upgrade, got ${res.statusCode}`)));
    req.on('error', reject);
    req.end(body);
  });
  t.after(() => socket.destroy());
  let got = '';
  const seen = (s: string) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${s}; got ${JSON.stringify(got)}`)), 5000);
    const check = () => { if (got.includes(s)) { clearTimeout(timer); socket.off('data', onData); resolve(); } };
    const onData = (c: Buffer) => { got += c.toString(); check(); };
    socket.on('data', onData);
    check();
  });
  await seen('body:there\n');
  socket.write('ping\x00\x01');
  await seen('PING\x00\x01');
  socket.write('more');
  await seen('MORE');
  socket.end();
});

test('hijack without Upgrade answers 200 OK and still hands over the raw connection', async (t) => {
  const { socketPath } = await startServer(t);
  const x = await rawExchange(socketPath, 'POST /containers/c1/attach HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n');
  t.after(() => x.socket.destroy());
  const head = await x.waitFor(/\r\n\r\n/);
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\n/);
  // Bytes that look like HTTP are stdin now, not a new request.
  x.socket.write('GET / HTTP/1.1\r\n\r\n');
  await x.waitFor(/GET \/ HTTP\/1\.1\r\n\r\n$/);
  assert.equal(x.received().split('\r\n\r\n')[1], 'GET / HTTP/1.1');
});

test('a refused hijack (Upgrade: tcp) gets a plain JSON error answer', async (t) => {
  const { socketPath } = await startServer(t);
  const x = await rawExchange(socketPath, 'POST /v1.47/hijack-refused HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
  t.after(() => x.socket.destroy());
  const all = await x.waitFor(/\r\n\r\n\{.*\}$/);
  assert.match(all, /^HTTP\/1\.1 409 Conflict\r\n/);
  assert.match(all, /\r\nContent-Type: application\/json\r\n/);
  assert.match(all, /\r\nApi-Version: 1\.47\r\n/);
  assert.deepEqual(JSON.parse(all.split('\r\n\r\n')[1]!), { message: 'You cannot attach to a stopped container, start it first' });
});

test('a stale socket file is replaced; close ends open connections', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'api.sock');
  const first = new ApiServer({ router: routes, log: new MemoryLogger(), serverVersion: 'x' });
  await first.listenUnix(socketPath);
  const x = await rawExchange(socketPath, 'POST /containers/c1/attach HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n');
  await x.waitFor(/\r\n\r\n/);
  const closed = new Promise<void>((r) => x.socket.on('close', () => r()));
  await first.close();
  await closed;
  const second = new ApiServer({ router: routes, log: new MemoryLogger(), serverVersion: 'x' });
  await second.listenUnix(socketPath);
  t.after(() => second.close());
  assert.equal((await call(socketPath, 'GET', '/echo/again')).status, 200);
});

test('hidePaths: the data and exec roots never appear in a message, other paths do', () => {
  const hidden = [{ path: '/var/lib/berth', as: '<data-root>' }, { path: '/var/lib/berth/run/', as: '<exec-root>' }];
  assert.equal(hidePaths("ENAMETOOLONG: name too long, mkdir '/var/lib/berth/volumes/x/_data'", hidden), "ENAMETOOLONG: name too long, mkdir '<data-root>/volumes/x/_data'");
  assert.equal(hidePaths('umount /var/lib/berth/run/containers/a: busy; /var/lib/berth', hidden), 'umount <exec-root>/containers/a: busy; <data-root>');
  // A sibling directory whose name merely starts the same is someone else's path.
  assert.equal(hidePaths('bind source /var/lib/berth2/x and /var/lib/berthx', hidden), 'bind source /var/lib/berth2/x and /var/lib/berthx');
  assert.equal(hidePaths('no paths here', []), 'no paths here');
});
