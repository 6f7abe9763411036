import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorFromResponse, networkError, parseErrorBody, RegistryError, TransportError } from './errors.ts';

const json = 'application/json; charset=utf-8';

test('distribution error bodies keep Docker\'s "<code text>: <message>" rendering and map to kinds', () => {
  const cases: Array<[number, string, string, string]> = [
    [404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}', 'NotFound', 'manifest unknown: manifest unknown'],
    [404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}', 'NotFound', 'name unknown: repository name not known to registry'],
    [401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', 'Unauthorized', 'unauthorized: authentication required'],
    [403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', 'Forbidden', 'denied: requested access to the resource is denied'],
    [429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', 'Unavailable', 'toomanyrequests: slow down'],
    [400, '{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}', 'InvalidParameter', 'digest invalid: provided digest did not match uploaded content'],
    [405, '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}', 'NotImplemented', 'unsupported: The operation is unsupported.'],
  ];
  for (const [status, body, kind, message] of cases) {
    const e = errorFromResponse(status, json, body);
    assert.ok(e instanceof RegistryError);
    assert.equal(e.kind, kind, body);
    assert.equal(e.message, message);
    assert.equal(e.status, status);
  }
  assert.equal(errorFromResponse(404, json, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]}').code, 'MANIFEST_UNKNOWN');
});

test('bodies without an errors list: Docker Hub "details", plain text, empty', () => {
  assert.equal(errorFromResponse(401, 'application/json', '{"details":"incorrect username or password"}').message, 'unauthorized: incorrect username or password');
  assert.equal(errorFromResponse(401, undefined, '').message, 'unauthorized: authentication required');
  assert.equal(errorFromResponse(403, 'text/plain', 'go away').message, 'denied: go away');
  const nf = errorFromResponse(404, 'text/plain; charset=utf-8', '404 page not found\n');
  assert.equal(nf.kind, 'NotFound');
  assert.equal(nf.message, 'unknown: 404 page not found');
  assert.equal(errorFromResponse(503, undefined, '').kind, 'Unavailable');
  assert.deepEqual(parseErrorBody(500, json, '{"errors":[]}'), [{ code: 'UNKNOWN', message: '{"errors":[]}' }]);
});

test('several errors are listed like errcode.Errors', () => {
  const e = errorFromResponse(400, json, '{"errors":[{"code":"MANIFEST_INVALID","message":"a"},{"code":"BLOB_UNKNOWN","message":"b"}]}');
  assert.equal(e.message, 'errors:\nmanifest invalid: a\nblob unknown: b');
  assert.equal(e.kind, 'InvalidParameter');
});

test('network errors name the URL the way Docker does', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED' });
  const e = networkError('GET', new URL('http://127.0.0.1:5999/v2/'), refused);
  assert.ok(e instanceof TransportError);
  assert.equal(e.kind, 'Unavailable');
  assert.equal(e.message, 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused');
  const dns = Object.assign(new Error('getaddrinfo ENOTFOUND nohost'), { code: 'ENOTFOUND' });
  assert.equal(networkError('HEAD', new URL('https://nohost/v2/'), dns).message, 'Head "https://nohost/v2/": dial tcp: lookup nohost: no such host');
  const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.match(networkError('GET', new URL('https://h:443/v2/'), tls).message, /x509: certificate signed by unknown authority$/);
  const wrapped = Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('ssl3_get_record:wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }) });
  assert.match(networkError('GET', new URL('https://h:5000/v2/'), wrapped).message, /server gave HTTP response to HTTPS client$/);
});

test('a Bearer error in WWW-Authenticate comes first: insufficient_scope is "denied"', () => {
  const challenges = [{ scheme: 'bearer', params: { realm: 'http://t/token', error: 'insufficient_scope' } }];
  const e = errorFromResponse(401, json, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', undefined, challenges);
  assert.equal(e.kind, 'Forbidden');
  assert.equal(e.code, 'DENIED');
  assert.equal(e.message, 'denied: requested access to the resource is denied');
  assert.equal(e.errors.length, 2);
  const invalidToken = [{ scheme: 'bearer', params: { error: 'invalid_token', error_description: 'token expired' } }];
  assert.equal(errorFromResponse(401, undefined, '', undefined, invalidToken).message, 'unauthorized: token expired');
});
