import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from './errors.ts';
import { familiarName, familiarString, normalizedString, parseReference, refKey, parseRefKey } from './reference.ts';

const D = 'sha256:' + 'ab'.repeat(32);

test('short names are official docker.io images with :latest', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.equal(familiarString(parseReference('busybox')), 'busybox:latest');
  assert.equal(normalizedString(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(normalizedString(parseReference('index.docker.io/busybox:1')), 'docker.io/library/busybox:1');
});

test('user repositories and registries with ports', () => {
  assert.deepEqual(parseReference('localhost:5000/app:v1'), { domain: 'localhost:5000', path: 'app', tag: 'v1' });
  assert.equal(familiarString(parseReference('localhost:5000/app:v1')), 'localhost:5000/app:v1');
  assert.deepEqual(parseReference('localhost/app'), { domain: 'localhost', path: 'app', tag: 'latest' });
  assert.deepEqual(parseReference('foo/bar'), { domain: 'docker.io', path: 'foo/bar', tag: 'latest' });
  assert.equal(familiarName(parseReference('foo/bar')), 'foo/bar');
  assert.deepEqual(parseReference('ghcr.io/a/b/c:1.0'), { domain: 'ghcr.io', path: 'a/b/c', tag: '1.0' });
  assert.equal(familiarString(parseReference('docker.io/library/a/b')), 'library/a/b:latest');
});

test('digests, with and without a tag', () => {
  assert.deepEqual(parseReference(`repo@${D}`), { domain: 'docker.io', path: 'library/repo', digest: D });
  const both = parseReference(`name:tag@${D}`);
  assert.deepEqual(both, { domain: 'docker.io', path: 'library/name', tag: 'tag', digest: D });
  assert.equal(familiarString(both), `name:tag@${D}`);
  assert.equal(refKey(both), `docker.io/library/name@${D}`);
  assert.equal(refKey(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.deepEqual(parseReference('busybox', { defaultTag: false }), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseRefKey('docker.io/library/busybox:1'), { domain: 'docker.io', path: 'library/busybox', tag: '1' });
});

const rejects = (input: string, message: string) =>
  assert.throws(() => parseReference(input), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter' && e.message === message);

test('invalid references use docker wording', () => {
  rejects('Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase');
  rejects('foo/Bar:1', 'invalid reference format: repository name (foo/Bar) must be lowercase');
  rejects('busybox:', 'invalid reference format');
  rejects('bus box', 'invalid reference format');
  rejects('-x', 'invalid reference format');
  rejects('a:b:c', 'invalid reference format');
  rejects('', 'invalid reference format');
  rejects('ab'.repeat(32), `invalid repository name (${'ab'.repeat(32)}), cannot specify 64-byte hexadecimal strings`);
  rejects('repo@sha256:abc', 'invalid reference format');
  rejects(`repo@sha256:${'a'.repeat(40)}`, 'invalid reference format: invalid digest format');
  rejects('x'.repeat(300), 'invalid reference format: repository name must not be more than 255 characters');
  rejects(`busybox:${'t'.repeat(129)}`, 'invalid reference format');
});
