import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { endpointsFor, isInsecureRegistry, searchBases, splitHostPort } from './endpoints.ts';

const opts = (insecureRegistries: string[] = [], mirrors: string[] = []) => ({ insecureRegistries, mirrors });

test('loopback and localhost are insecure by default; other hosts are not', () => {
  assert.equal(isInsecureRegistry('127.0.0.1:5000', []), true);
  assert.equal(isInsecureRegistry('127.4.5.6', []), true);
  assert.equal(isInsecureRegistry('localhost:5000', []), true);
  assert.equal(isInsecureRegistry('[::1]:5000', []), true);
  assert.equal(isInsecureRegistry('10.0.0.1:5000', []), false);
  assert.equal(isInsecureRegistry('registry.example.com', []), false);
});

test('insecure-registries match host:port, host alone, and CIDRs for IP literals', () => {
  assert.equal(isInsecureRegistry('reg.example:5000', ['reg.example:5000']), true);
  assert.equal(isInsecureRegistry('reg.example:5001', ['reg.example:5000']), false);
  assert.equal(isInsecureRegistry('reg.example:5001', ['reg.example']), true);
  assert.equal(isInsecureRegistry('10.1.2.3:5000', ['10.0.0.0/8']), true);
  assert.equal(isInsecureRegistry('11.1.2.3:5000', ['10.0.0.0/8']), false);
  assert.equal(isInsecureRegistry('[fd00::5]:5000', ['fd00::/8']), true);
  assert.equal(isInsecureRegistry('[fe80::5]:5000', ['fd00::/8']), false);
  // Names are not resolved: a CIDR does not cover a host name.
  assert.equal(isInsecureRegistry('reg.example:5000', ['0.0.0.0/0']), false);
});

test('splitHostPort handles names, IPv4 and bracketed IPv6', () => {
  assert.deepEqual(splitHostPort('h:5000'), { host: 'h', port: '5000' });
  assert.deepEqual(splitHostPort('h'), { host: 'h' });
  assert.deepEqual(splitHostPort('[::1]:80'), { host: '::1', port: '80' });
  assert.deepEqual(splitHostPort('[::1]'), { host: '::1' });
});

test('docker.io: mirrors first for pulls, origin only for pushes', () => {
  const o = opts(['mirror.local:5000'], ['https://mirror.example/', 'http://mirror.local:5000', 'ftp://bad']);
  assert.deepEqual(endpointsFor('docker.io', o, true).map((e) => [e.base, e.mirror, e.skipVerify]), [
    ['https://mirror.example', true, false],
    ['http://mirror.local:5000', true, false],
    ['https://registry-1.docker.io', false, false],
  ]);
  assert.deepEqual(endpointsFor('docker.io', o, false).map((e) => e.base), ['https://registry-1.docker.io']);
  assert.deepEqual(endpointsFor('index.docker.io', o, false).map((e) => e.base), ['https://registry-1.docker.io']);
});

test('mirrors are not used for other registries', () => {
  const o = opts([], ['https://mirror.example']);
  assert.deepEqual(endpointsFor('quay.io', o, true).map((e) => [e.base, e.skipVerify]), [['https://quay.io', false]]);
});

test('insecure registries: HTTPS without verification, then plain HTTP', () => {
  assert.deepEqual(endpointsFor('127.0.0.1:5000', opts(), true).map((e) => [e.base, e.skipVerify]), [
    ['https://127.0.0.1:5000', true], ['http://127.0.0.1:5000', false]]);
  assert.deepEqual(endpointsFor('reg:5000', opts(['reg:5000']), false).map((e) => e.base), ['https://reg:5000', 'http://reg:5000']);
});

test('search goes to index.docker.io for Docker Hub', () => {
  assert.deepEqual(searchBases('docker.io', opts()).map((e) => e.base), ['https://index.docker.io']);
  assert.deepEqual(searchBases('127.0.0.1:5000', opts()).map((e) => e.base), ['https://127.0.0.1:5000', 'http://127.0.0.1:5000']);
});

test('a domain no URL can hold is InvalidParameter, not a crash', () => {
  assert.throws(() => endpointsFor('[::1', opts(), false),
    (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === 'invalid registry address: [::1');
});
