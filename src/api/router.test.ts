import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { EngineError } from '../lib/errors.ts';
import { type ApiRequest, type Route, Router, ok, param, queryBool, queryInt } from './router.ts';

/** A real (unconnected) request, for handlers and helpers that only read from it. */
function apiRequest(params: Record<string, string> = {}): ApiRequest {
  const raw = new IncomingMessage(new Socket());
  return { method: 'GET', path: '/', params, query: new URLSearchParams(), headers: {}, version: '1.47', raw, res: new ServerResponse(raw), signal: new AbortController().signal };
}

const h = (name: string): Route['handler'] => () => ok(name);
const router = new Router().add([
  { method: 'GET', path: '/containers/json', handler: h('list') },
  { method: 'GET', path: '/containers/:id/json', handler: h('inspect') },
  { method: 'POST', path: '/containers/:id/start', handler: h('start') },
  { method: 'DELETE', path: '/containers/:id', handler: h('remove') },
  { method: 'GET', path: '/images/*name/json', handler: h('image inspect') },
  { method: 'POST', path: '/images/*name/tag', handler: h('image tag') },
  { method: 'GET', path: '/_ping', handler: h('ping') },
  { method: 'HEAD', path: '/_ping', handler: h('ping head') },
  { method: 'GET', path: '/v1.0/literal.dots', handler: h('dots') },
]);

async function name(method: string, path: string): Promise<{ route: string; params: Record<string, string> } | string> {
  const m = router.match(method, path);
  if (typeof m === 'string') return m;
  const reply = await m.route.handler(apiRequest(m.params));
  assert.equal(reply.kind, 'json');
  return { route: (reply as { body: string }).body, params: m.params };
}

test('match: literal paths and ":name" segments', async () => {
  assert.deepEqual(await name('GET', '/containers/json'), { route: 'list', params: {} });
  assert.deepEqual(await name('GET', '/containers/abc/json'), { route: 'inspect', params: { id: 'abc' } });
  assert.deepEqual(await name('POST', '/containers/abc/start'), { route: 'start', params: { id: 'abc' } });
  assert.deepEqual(await name('DELETE', '/containers/abc'), { route: 'remove', params: { id: 'abc' } });
});

test('match: ":name" takes exactly one segment', async () => {
  assert.equal(await name('GET', '/containers/a/b/json'), 'none');
  assert.equal(await name('GET', '/containers//json'), 'none');
});

test('match: "*name" takes the rest, slashes included', async () => {
  assert.deepEqual(await name('GET', '/images/busybox/json'), { route: 'image inspect', params: { name: 'busybox' } });
  assert.deepEqual(await name('GET', '/images/registry.example:5000/team/app:1.0/json'), { route: 'image inspect', params: { name: 'registry.example:5000/team/app:1.0' } });
  assert.deepEqual(await name('POST', '/images/a/b/tag'), { route: 'image tag', params: { name: 'a/b' } });
  assert.equal(await name('GET', '/images//json'), 'none');
});

test('match: params are percent-decoded', async () => {
  assert.deepEqual(await name('GET', '/images/sha256%3Aabc/json'), { route: 'image inspect', params: { name: 'sha256:abc' } });
  assert.deepEqual(await name('GET', '/containers/my%2Fname/json'), { route: 'inspect', params: { id: 'my/name' } });
  // KNOWN BUG (src/api/router.ts, not fixed here): a malformed escape such as
  // '/containers/%E0/json' makes decodeURIComponent throw a URIError, which the server turns into a
  // 500 instead of a 400/404. Not asserted, as the current behaviour is not acceptable.
});

test('match: regex characters in literal segments are literal', async () => {
  assert.deepEqual(await name('GET', '/v1.0/literal.dots'), { route: 'dots', params: {} });
  assert.equal(await name('GET', '/v1x0/literalxdots'), 'none');
});

test('match: a known path with the wrong method is "method"; an unknown path is "none"', async () => {
  assert.equal(await name('PUT', '/containers/json'), 'method');
  assert.equal(await name('GET', '/containers/abc/start'), 'method');
  assert.equal(await name('GET', '/nowhere'), 'none');
  assert.equal(await name('GET', '/containers/json/extra'), 'none');
});

test('match: HEAD finds GET routes; an explicit HEAD route is found too', async () => {
  assert.deepEqual(await name('HEAD', '/containers/abc/json'), { route: 'inspect', params: { id: 'abc' } });
  assert.deepEqual(await name('HEAD', '/_ping'), { route: 'ping', params: {} });
  assert.equal(await name('HEAD', '/containers/abc/start'), 'method');
});

test('param: declared params, and InvalidParameter for an undeclared one', () => {
  const req = apiRequest({ id: 'x' });
  assert.equal(param(req, 'id'), 'x');
  assert.throws(() => param(req, 'name'), (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === 'missing path parameter name');
});

test('queryBool: Docker\'s form values', () => {
  const q = (s: string) => new URLSearchParams(s);
  for (const v of ['', '0', 'no', 'false', 'none', 'FALSE', 'No', ' 0 ', 'None']) assert.equal(queryBool(q(`k=${encodeURIComponent(v)}`), 'k', true), false, JSON.stringify(v));
  for (const v of ['1', 'true', 'yes', 'True', 'anything', '2']) assert.equal(queryBool(q(`k=${v}`), 'k'), true, v);
  assert.equal(queryBool(q(''), 'k'), false);
  assert.equal(queryBool(q(''), 'k', true), true);
  assert.equal(queryBool(q('k'), 'k', true), false); // "?k" is k="" → false
});

test('queryInt: integers, default when absent or empty, InvalidParameter otherwise', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(queryInt(q('n=5'), 'n'), 5);
  assert.equal(queryInt(q('n=-1'), 'n'), -1);
  assert.equal(queryInt(q('n=0'), 'n', 7), 0);
  assert.equal(queryInt(q('n=%2B3'), 'n'), 3);
  assert.equal(queryInt(q(''), 'n'), undefined);
  assert.equal(queryInt(q(''), 'n', 10), 10);
  assert.equal(queryInt(q('n='), 'n', 10), 10);
  for (const v of ['abc', '1.5', 'NaN', 'Infinity', '5x', '0x10', '1e3', ' 5', '99999999999999999999']) {
    assert.throws(() => queryInt(q(`n=${v}`), 'n'), (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === `invalid value for n: ${v}`, v);
  }
});
