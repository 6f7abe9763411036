import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectManifest, isValidName, isValidTag, matchRoute, paginate, parseContentRange, parseRange, RegistryError } from './protocol.ts';

test('repository names follow the distribution grammar', () => {
  for (const ok of ['busybox', 'lib/bb', 'a.b_c__d---e/f0', 'x/y/z', 'a'.repeat(255)]) assert.ok(isValidName(ok), ok);
  for (const bad of ['', 'Busybox', 'a//b', '/a', 'a/', 'a..b', 'a___b', '-a', 'a-', '_a', 'a/_layers', 'a b', 'a'.repeat(256)]) assert.ok(!isValidName(bad), bad);
});

test('tags: a word character then up to 127 of [\\w.-]', () => {
  assert.ok(isValidTag('latest'));
  assert.ok(isValidTag('1.0_rc-2'));
  assert.ok(isValidTag('a'.repeat(128)));
  assert.ok(!isValidTag('a'.repeat(129)));
  assert.ok(!isValidTag('.hidden'));
  assert.ok(!isValidTag('-x'));
  assert.ok(!isValidTag('a:b'));
});

test('routes: name may contain slashes; uploads before blobs', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(matchRoute('/v2/'), { kind: 'base' });
  assert.deepEqual(matchRoute('/v2'), { kind: 'base' });
  assert.deepEqual(matchRoute('/v2/_catalog'), { kind: 'catalog' });
  assert.deepEqual(matchRoute('/v2/a/b/tags/list'), { kind: 'tags', name: 'a/b' });
  assert.deepEqual(matchRoute('/v2/a/b/manifests/v1'), { kind: 'manifest', name: 'a/b', reference: 'v1' });
  assert.deepEqual(matchRoute(`/v2/a/blobs/${d}`), { kind: 'blob', name: 'a', digest: d });
  assert.deepEqual(matchRoute('/v2/a/blobs/uploads/'), { kind: 'uploads', name: 'a' });
  assert.deepEqual(matchRoute('/v2/a/blobs/uploads/123'), { kind: 'upload', name: 'a', id: '123' });
  assert.equal(matchRoute('/v3/'), undefined);
  assert.equal(matchRoute('/v2/a/nothing'), undefined);
});

test('Range: single byte ranges, suffixes, open ends, unsatisfiable and ignored forms', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange(undefined, 100), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange('items=0-1', 100), undefined);
  assert.equal(parseRange('bytes=5-2', 100), undefined);
});

test('Content-Range of an upload chunk', () => {
  assert.deepEqual(parseContentRange('0-1023'), { start: 0, end: 1023 });
  assert.deepEqual(parseContentRange('bytes 10-19/100'), { start: 10, end: 19 });
  assert.deepEqual(parseContentRange('bytes 10-19/*'), { start: 10, end: 19 });
  assert.equal(parseContentRange('10-'), undefined);
  assert.equal(parseContentRange('abc'), undefined);
});

test('pagination: n and last, more flag, bad n', () => {
  const all = ['a', 'b', 'c', 'd'];
  assert.deepEqual(paginate(all, '2', null, 100), { page: ['a', 'b'], more: true });
  assert.deepEqual(paginate(all, '2', 'b', 100), { page: ['c', 'd'], more: false });
  assert.deepEqual(paginate(all, null, 'bb', 100), { page: ['c', 'd'], more: false });
  assert.deepEqual(paginate(all, null, 'z', 100), { page: [], more: false });
  assert.deepEqual(paginate(all, '0', null, 100), { page: [], more: false });
  assert.throws(() => paginate(all, '-1', null, 100), (e: unknown) => e instanceof RegistryError && e.code === 'PAGINATION_NUMBER_INVALID' && e.status === 400);
});

const d = (c: string) => `sha256:${c.repeat(64)}`;

test('manifests: type from Content-Type, body or shape; references listed; foreign layers skipped', () => {
  const m = { schemaVersion: 2, config: { digest: d('1') }, layers: [{ digest: d('2') }, { digest: d('3'), urls: ['http://x'] }] };
  const oci = inspectManifest(Buffer.from(JSON.stringify(m)), 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(oci, { mediaType: 'application/vnd.oci.image.manifest.v1+json', blobs: [d('1'), d('2')], manifests: [] });
  assert.equal(inspectManifest(Buffer.from(JSON.stringify(m)), undefined).mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const list = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [{ digest: d('4') }] };
  assert.deepEqual(inspectManifest(Buffer.from(JSON.stringify(list)), 'application/json'), { mediaType: list.mediaType, blobs: [], manifests: [d('4')] });
});

test('manifests: invalid ones are MANIFEST_INVALID', () => {
  const bad = (body: string, ct?: string) => assert.throws(() => inspectManifest(Buffer.from(body), ct), (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID', body);
  bad('{nope');
  bad('[]');
  bad(JSON.stringify({ schemaVersion: 1, config: { digest: d('1') }, layers: [] }));
  bad(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }), 'application/vnd.docker.distribution.manifest.v2+json');
  bad(JSON.stringify({ schemaVersion: 2, mediaType: 'text/plain' }));
  bad(JSON.stringify({ schemaVersion: 2, config: { digest: 'x' }, layers: [] }), 'application/vnd.oci.image.manifest.v1+json');
  bad(JSON.stringify({ schemaVersion: 2, config: { digest: d('1') } }), 'application/vnd.oci.image.manifest.v1+json');
});

test('errors carry Distribution codes, statuses and body', () => {
  const e = new RegistryError('MANIFEST_UNKNOWN', { tag: 'x' });
  assert.equal(e.status, 404);
  assert.deepEqual(JSON.parse(e.body()), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'x' } }] });
  assert.equal(new RegistryError('RANGE_INVALID').status, 416);
  assert.equal(new RegistryError('UNSUPPORTED').status, 405);
  assert.equal(new RegistryError('DIGEST_INVALID').status, 400);
});
