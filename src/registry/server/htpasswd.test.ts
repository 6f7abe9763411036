import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HtpasswdAuth, parseBasicAuth, parseHtpasswd } from './htpasswd.ts';

// Made with `htpasswd -Bbn alice s3cret` (cost 5).
const LINE = 'alice:$2y$05$6Sdj1JUUhSIaPFd7M9CIXOa5tp9Gf861sPMP9Ffxo8O2L.O7minOO';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

test('htpasswd: bcrypt lines, comments and blanks; other hashes refused with the line number', () => {
  const users = parseHtpasswd(`# users\n\n${LINE}\nbob:$2b$05$6Sdj1JUUhSIaPFd7M9CIXOa5tp9Gf861sPMP9Ffxo8O2L.O7minOO\n`);
  assert.deepEqual([...users.keys()], ['alice', 'bob']);
  assert.throws(() => parseHtpasswd('carol:$apr1$abc$def'), /line 1: only bcrypt/);
  assert.throws(() => parseHtpasswd(`${LINE}\nnocolon`), /line 2: expected user:hash/);
});

test('Basic header parsing keeps colons in the password', () => {
  assert.deepEqual(parseBasicAuth(basic('u', 'a:b')), { user: 'u', password: 'a:b' });
  assert.equal(parseBasicAuth('Bearer x'), undefined);
  assert.equal(parseBasicAuth(undefined), undefined);
});

test('auth: right password passes (then from cache), wrong or unknown user fails', async () => {
  const auth = new HtpasswdAuth(parseHtpasswd(LINE));
  assert.equal(await auth.check(basic('alice', 's3cret')), 'alice');
  assert.equal(await auth.check(basic('alice', 's3cret')), 'alice');
  assert.equal(await auth.check(basic('alice', 'wrong')), undefined);
  assert.equal(await auth.check(basic('mallory', 's3cret')), undefined);
  assert.equal(await auth.check(undefined), undefined);
});
