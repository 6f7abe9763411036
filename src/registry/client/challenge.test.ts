import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from './challenge.ts';

test('Bearer challenge with quoted realm, service and scope', () => {
  const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: {
    realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
});

test('commas and escaped quotes inside quoted values stay in the value', () => {
  const c = parseWwwAuthenticate('Bearer realm="http://h/token", scope="repository:a:pull,push repository:b:pull", error="say \\"no\\""');
  assert.equal(c.length, 1);
  assert.equal(c[0]!.params['scope'], 'repository:a:pull,push repository:b:pull');
  assert.equal(c[0]!.params['error'], 'say "no"');
  assert.equal(c[0]!.params['realm'], 'http://h/token');
});

test('Basic realm, case-insensitive scheme and parameter names', () => {
  assert.deepEqual(parseWwwAuthenticate('basic Realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
});

test('several challenges in one header and in several headers', () => {
  const c = parseWwwAuthenticate(['Basic realm="a", Bearer realm="https://t/x",service=s', 'Negotiate']);
  assert.deepEqual(c.map((x) => x.scheme), ['basic', 'bearer', 'negotiate']);
  assert.equal(c[1]!.params['service'], 's');
  assert.equal(c[1]!.params['realm'], 'https://t/x');
});

test('unquoted values and a token68 are handled', () => {
  const c = parseWwwAuthenticate('Bearer realm=https://t/token, service=reg , Basic dXNlcjpwYXNz==');
  assert.equal(c[0]!.params['realm'], 'https://t/token');
  assert.equal(c[0]!.params['service'], 'reg');
  assert.deepEqual(c[1], { scheme: 'basic', params: {} });
});

test('nothing or garbage yields no challenge rather than a throw', () => {
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate(''), []);
  assert.deepEqual(parseWwwAuthenticate('"unterminated'), []);
});
