import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { EngineError, messageOf, notFound } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { outputProgress, progressMessage } from '../../lib/progress.ts';
import { httpStatusOf } from '../http-status.ts';
import { Router, type ApiRequest } from '../router.ts';
import { imageRoutes, type ImageBackend } from './images.ts';
import type { Credentials } from './registry-auth.ts';
import type { Image } from '../../engine/index.ts';

const IMAGE: Image = {
  id: 'sha256:1', repoTags: [], repoDigests: [], size: 0, layerDirs: [], storedAt: '',
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
};

/** Records calls; answers from small canned data. */
class FakeImageBackend implements ImageBackend {
  calls: string[] = [];
  async list(o: { all?: boolean; filters?: Filters }) { this.calls.push(`list all=${o.all} filters=${JSON.stringify([...(o.filters ?? new Map())])}`); return []; }
  async inspect(ref: string) { this.calls.push(`inspect ${ref}`); if (ref === 'nope') throw notFound('No such image: nope:latest'); return IMAGE; }
  async history(ref: string) { this.calls.push(`history ${ref}`); return []; }
  async resolve(ref: string) { this.calls.push(`resolve ${ref}`); if (!ref.startsWith('busybox')) throw notFound(`No such image: ${ref}`); return { id: 'sha256:1', config: IMAGE.config, chainIds: [] }; }
  async tag(s: string, t: string) { this.calls.push(`tag ${s} ${t}`); }
  async remove(ref: string, o: { force?: boolean; noprune?: boolean }) { this.calls.push(`remove ${ref} force=${o.force} noprune=${o.noprune}`); return [{ untagged: ref }]; }
  async prune(o: { filters?: Filters }) { this.calls.push(`prune ${JSON.stringify([...(o.filters ?? new Map())])}`); return { removed: [], spaceReclaimed: 0 }; }
  async *load(body: Readable, o: { quiet?: boolean }) {
    const t = await text(body);
    this.calls.push(`load ${t} quiet=${o.quiet}`);
    if (t === 'bad') throw new EngineError('InvalidParameter', 'invalid archive');
    yield outputProgress('Loaded image: busybox:latest\n');
    if (t === 'late') throw new EngineError('Internal', 'disk full');
  }
  async save(refs: readonly string[], out: Writable) {
    this.calls.push(`save ${refs.join(',')}`);
    if (refs.includes('nope')) throw notFound('No such image: nope:latest');
    out.end('TARBYTES');
  }
  async import(body: Readable, o: { ref?: string; changes?: readonly string[]; message?: string }) {
    this.calls.push(`import ${await text(body)} ref=${o.ref} changes=${JSON.stringify(o.changes)} message=${o.message}`);
    return 'sha256:new';
  }
  async *pull(ref: string, o: { auth?: Credentials; platform?: string; allTags?: boolean }) {
    this.calls.push(`pull ${ref} auth=${JSON.stringify(o.auth)} platform=${o.platform} all=${o.allTags}`);
    if (ref.startsWith('nope')) throw notFound('manifest for nope:latest not found: manifest unknown: manifest unknown');
    yield progressMessage('Pulling from library/busybox', 'latest');
    if (ref.startsWith('late')) throw new EngineError('Unavailable', 'connection reset');
  }
  async *push(name: string, o: { tag?: string; auth?: Credentials }) {
    this.calls.push(`push ${name} tag=${o.tag} auth=${JSON.stringify(o.auth)}`);
    yield progressMessage(`The push refers to repository [${name}]`);
  }
  async login(server: string, auth: Credentials) {
    this.calls.push(`login ${server} ${JSON.stringify(auth)}`);
    if (auth.password !== 'right') throw new EngineError('Unauthorized', 'unauthorized: incorrect username or password');
    return {};
  }
  async search(term: string, o: { limit: number; filters: Filters }) {
    this.calls.push(`search ${term} limit=${o.limit} filters=${JSON.stringify([...o.filters])}`);
    return [{ name: 'x', description: '', stars: 1, official: false, automated: false }];
  }
}

async function serve(t: { after: (fn: () => void) => void }) {
  const backend = new FakeImageBackend();
  const router = new Router().add(imageRoutes(backend));
  const handle = async (raw: IncomingMessage, res: ServerResponse) => {
    const url = new URL(raw.url!, 'http://x');
    const m = router.match(raw.method!, url.pathname);
    try {
      if (typeof m === 'string') throw notFound('page not found');
      const req: ApiRequest = { method: raw.method!, path: url.pathname, params: m.params, query: url.searchParams, headers: raw.headers, version: '1.47', raw, res, signal: new AbortController().signal };
      const reply = await m.route.handler(req);
      if (reply.kind === 'json') res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.body));
      else if (reply.kind === 'empty') res.writeHead(reply.status).end();
    } catch (err) {
      if (res.headersSent) { res.destroy(); return; }
      res.writeHead(httpStatusOf(err), { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: messageOf(err) }));
    }
  };
  const server = createServer((raw, res) => void handle(raw, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers }, (res: IncomingMessage) => {
      text(res).then((body) => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }), reject);
    });
    r.on('error', reject);
    r.end(body);
  });
  return { backend, call };
}

test('list, inspect and history; names with slashes and ports', async (t) => {
  const { backend, call } = await serve(t);
  assert.equal((await call('GET', '/images/json?all=1&filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D')).status, 200);
  assert.equal((await call('GET', '/images/localhost:5000/app:v1/json')).status, 200);
  assert.equal((await call('GET', '/images/json/json')).status, 200);
  assert.equal((await call('GET', '/images/a%2Fb/history')).status, 200);
  const missing = await call('GET', '/images/nope/json');
  assert.deepEqual([missing.status, JSON.parse(missing.body)], [404, { message: 'No such image: nope:latest' }]);
  assert.equal((await call('GET', '/images/json?filters=%7Bbad')).status, 400);
  assert.deepEqual(backend.calls, [
    'list all=true filters=[["dangling",["true"]]]',
    'inspect localhost:5000/app:v1',
    'inspect json',
    'history a/b',
    'inspect nope',
  ]);
});

test('tag, delete, prune', async (t) => {
  const { backend, call } = await serve(t);
  assert.equal((await call('POST', '/images/busybox/tag?repo=localhost:5000/bb&tag=v1')).status, 201);
  assert.equal((await call('POST', '/images/busybox/tag?repo=')).status, 400);
  const del = await call('DELETE', '/images/foo/bar:1?force=1');
  assert.deepEqual([del.status, JSON.parse(del.body)], [200, [{ Untagged: 'foo/bar:1' }]]);
  assert.equal((await call('POST', '/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D')).status, 200);
  assert.deepEqual(backend.calls, ['tag busybox localhost:5000/bb:v1', 'remove foo/bar:1 force=true noprune=false', 'prune [["dangling",["false"]]]']);
});

test('load streams JSON lines; every error, even before the first line, comes in-stream with status 200 (as dockerd)', async (t) => {
  const { call } = await serve(t);
  const good = await call('POST', '/images/load?quiet=1', 'tarbytes');
  assert.deepEqual([good.status, good.type, good.body], [200, 'application/json', '{"stream":"Loaded image: busybox:latest\\n"}\n']);
  const bad = await call('POST', '/images/load', 'bad');
  assert.deepEqual([bad.status, bad.type, JSON.parse(bad.body)], [200, 'application/json', { errorDetail: { message: 'invalid archive' }, error: 'invalid archive' }]);
  const late = await call('POST', '/images/load', 'late');
  assert.equal(late.status, 200);
  assert.deepEqual(late.body.trim().split('\n').map((l) => JSON.parse(l)), [
    { stream: 'Loaded image: busybox:latest\n' },
    { errorDetail: { message: 'disk full' }, error: 'disk full' },
  ]);
});

test('save as a tar, by names or one name', async (t) => {
  const { backend, call } = await serve(t);
  const r = await call('GET', '/images/get?names=busybox&names=localhost:5000/app:v1');
  assert.deepEqual([r.status, r.type, r.body], [200, 'application/x-tar', 'TARBYTES']);
  assert.equal((await call('GET', '/images/busybox:latest/get')).body, 'TARBYTES');
  const missing = await call('GET', '/images/get?names=nope');
  assert.deepEqual([missing.status, missing.type], [404, 'application/json']);
  assert.deepEqual(backend.calls.slice(0, 2), ['save busybox,localhost:5000/app:v1', 'save busybox:latest']);
});

test('create: import from the body, pull from a registry with X-Registry-Auth', async (t) => {
  const { backend, call } = await serve(t);
  const imp = await call('POST', '/images/create?fromSrc=-&repo=imp&tag=v1&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3Db&message=hi', 'ROOTFS');
  assert.deepEqual([imp.status, imp.body], [200, '{"status":"sha256:new"}\n']);
  assert.equal(backend.calls[0], 'import ROOTFS ref=imp:v1 changes=["CMD [\\"sh\\"]","ENV A=b"] message=hi');
  const auth = Buffer.from(JSON.stringify({ username: 'u', password: 'p' })).toString('base64url');
  const pulled = await call('POST', '/images/create?fromImage=busybox&tag=latest&platform=linux/amd64', undefined, { 'X-Registry-Auth': auth });
  assert.deepEqual([pulled.status, pulled.body], [200, '{"status":"Pulling from library/busybox","id":"latest"}\n']);
  assert.equal(backend.calls[1], 'pull busybox:latest auth={"username":"u","password":"p"} platform=linux/amd64 all=false');
  await call('POST', '/images/create?fromImage=busybox');
  assert.equal(backend.calls[2], 'pull busybox auth=undefined platform=undefined all=true');
  await call('POST', '/images/create?fromImage=busybox&tag=sha256:' + 'a'.repeat(64));
  assert.equal(backend.calls[3], `pull busybox@sha256:${'a'.repeat(64)} auth=undefined platform=undefined all=false`);
  const missing = await call('POST', '/images/create?fromImage=nope&tag=latest');
  assert.deepEqual([missing.status, JSON.parse(missing.body)], [404, { message: 'manifest for nope:latest not found: manifest unknown: manifest unknown' }]);
  const late = await call('POST', '/images/create?fromImage=late&tag=latest');
  assert.equal(late.status, 200);
  assert.match(late.body, /"errorDetail":\{"message":"connection reset"\}/);
  assert.equal((await call('POST', '/images/create?fromImage=busybox', undefined, { 'X-Registry-Auth': '%%%' })).status, 400);
  assert.equal((await call('POST', '/images/create?fromSrc=http://x/y.tar')).status, 501);
});

test('push, auth and search', async (t) => {
  const { backend, call } = await serve(t);
  const pushed = await call('POST', '/images/localhost:5000/app/push?tag=v1');
  assert.deepEqual([pushed.status, pushed.body], [200, '{"status":"The push refers to repository [localhost:5000/app]"}\n']);
  assert.equal(backend.calls[0], 'push localhost:5000/app tag=v1 auth=undefined');
  const good = await call('POST', '/auth', JSON.stringify({ username: 'u', password: 'right', serveraddress: 'localhost:5000' }));
  assert.deepEqual([good.status, JSON.parse(good.body)], [200, { Status: 'Login Succeeded' }]);
  const bad = await call('POST', '/auth', JSON.stringify({ username: 'u', password: 'wrong', serveraddress: 'localhost:5000' }));
  assert.equal(bad.status, 401);
  assert.equal((await call('POST', '/auth', '{}')).status, 400);
  const found = await call('GET', '/images/search?term=x&limit=5&filters=%7B%22stars%22%3A%5B%223%22%5D%7D');
  assert.equal(found.status, 200);
  assert.equal(found.body, '[{"name":"x","description":"","star_count":1,"is_official":false,"is_automated":false}]');
  assert.equal(backend.calls.at(-1), 'search x limit=5 filters=[["stars",["3"]]]');
  assert.equal((await call('GET', '/images/search?term=x&limit=500')).status, 400);
});
