import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eraseAuth, HUB_SERVER, loadAuth, registryAuthHeader, serverKey, storeAuth } from './credentials.ts';

const tmp = (t: { after: (fn: () => void) => void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('serverKey: Docker Hub\'s names and host[:port] without scheme or path', () => {
  for (const s of ['', 'docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io']) assert.equal(serverKey(s), HUB_SERVER);
  assert.equal(serverKey('https://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(serverKey('reg.example'), 'reg.example');
});

test('auths in config.json: stored as base64 user:password, found with or without scheme, erased', (t) => {
  const path = join(tmp(t), 'config.json');
  writeFileSync(path, JSON.stringify({ auths: { 'https://127.0.0.1:5000': { auth: Buffer.from('old:pw').toString('base64') } }, psFormat: 'x' }));
  assert.deepEqual(loadAuth('127.0.0.1:5000', path), { username: 'old', password: 'pw', serveraddress: '127.0.0.1:5000' });
  storeAuth('127.0.0.1:5000', { username: 'alice', password: 'p:w' }, path);
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { auths: Record<string, { auth: string }>; psFormat: string };
  assert.deepEqual(Object.keys(saved.auths), ['127.0.0.1:5000']);
  assert.equal(saved.psFormat, 'x');
  assert.equal(Buffer.from(saved.auths['127.0.0.1:5000']!.auth, 'base64').toString(), 'alice:p:w');
  const header = registryAuthHeader('127.0.0.1:5000', path)['X-Registry-Auth']!;
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { username: 'alice', password: 'p:w', serveraddress: '127.0.0.1:5000' });
  assert.equal(eraseAuth('127.0.0.1:5000', path), true);
  assert.equal(eraseAuth('127.0.0.1:5000', path), false);
  assert.equal(loadAuth('127.0.0.1:5000', path), undefined);
  assert.deepEqual(registryAuthHeader('127.0.0.1:5000', path), {});
});

test('a credential helper (credsStore) keeps the secret; config.json only names the server', (t) => {
  const dir = tmp(t);
  const store = join(dir, 'store.json');
  // A real docker-credential-* program speaking the helper protocol (get/store/erase on stdin).
  const helper = join(dir, 'docker-credential-berthtest');
  writeFileSync(helper, `#!/bin/sh
case "$1" in
  store) cat > ${store} ;;
  get) read server; [ -f ${store} ] && cat ${store} || { echo "credentials not found in native keychain"; exit 1; } ;;
  erase) rm -f ${store} ;;
esac
`);
  chmodSync(helper, 0o755);
  const oldPath = process.env['PATH'];
  process.env['PATH'] = `${dir}:${oldPath}`;
  t.after(() => { process.env['PATH'] = oldPath; });
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ credsStore: 'berthtest' }));
  storeAuth('reg.example:5000', { username: 'bob', password: 'secret' }, path);
  assert.deepEqual(JSON.parse(readFileSync(store, 'utf8')), { ServerURL: 'reg.example:5000', Username: 'bob', Secret: 'secret' });
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).auths, { 'reg.example:5000': {} });
  assert.deepEqual(loadAuth('reg.example:5000', path), { username: 'bob', password: 'secret', serveraddress: 'reg.example:5000' });
  assert.equal(eraseAuth('reg.example:5000', path), true);
  assert.equal(loadAuth('reg.example:5000', path), undefined);
});
