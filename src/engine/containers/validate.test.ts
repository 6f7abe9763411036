import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { validateContainerConfig, validateHostConfig } from './validate.ts';

const check = (hc: HostConfig) => validateHostConfig(hc);
const fails = (kind: string, msg: string | RegExp) => (err: unknown) =>
  err instanceof EngineError && err.kind === kind && (typeof msg === 'string' ? err.message === msg : msg.test(err.message));

test('accepts the defaults and what this release supports', () => {
  assert.deepEqual(check({}), []);
  for (const NetworkMode of ['none', 'host', 'container:web', 'container:0123abcd']) assert.deepEqual(check({ NetworkMode }), [], NetworkMode);
  for (const Type of ['json-file', 'local', 'k8s-file', 'none']) assert.deepEqual(check({ LogConfig: { Type, Config: {} } }), [], Type);
  assert.deepEqual(check({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3', compress: 'true', labels: 'a', env: 'B', tag: 't', mode: 'non-blocking', 'max-buffer-size': '1m' } } }), []);
  for (const Name of ['no', 'always', 'unless-stopped'] as const) assert.deepEqual(check({ RestartPolicy: { Name } }), [], Name);
  assert.deepEqual(check({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } }), []);
  assert.deepEqual(check({ AutoRemove: true, RestartPolicy: { Name: 'no' } }), []);
  assert.deepEqual(check({ ShmSize: 0, Binds: [], Mounts: [], VolumesFrom: [] }), []);
  // -h with --network host is accepted (only old API versions refused it).
  assert.deepEqual(validateHostConfig({ NetworkMode: 'host' }), []);
});

test('unknown log driver and log options', () => {
  assert.throws(() => check({ LogConfig: { Type: 'syslog', Config: {} } }), fails('InvalidParameter', "logger: no log driver named 'syslog' is registered"));
  assert.throws(() => check({ LogConfig: { Type: 'json-file', Config: { 'max-sise': '1m' } } }), fails('InvalidParameter', "unknown log opt 'max-sise' for json-file log driver"));
});

test('max-file must be a positive integer', () => {
  for (const v of ['0', '-1', '1.5', 'x', '']) {
    assert.throws(() => check({ LogConfig: { Type: 'json-file', Config: { 'max-file': v } } }), fails('InvalidParameter', `invalid value for max-file: ${v}`), JSON.stringify(v));
  }
  assert.deepEqual(check({ LogConfig: { Type: 'json-file', Config: { 'max-file': '1' } } }), []);
});

test('restart policies', () => {
  assert.throws(() => check({ RestartPolicy: { Name: 'sometimes' as 'no' } }), fails('InvalidParameter', 'invalid restart policy: sometimes'));
  assert.throws(() => check({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }),
    fails('InvalidParameter', "invalid restart policy: maximum retry count can only be used with 'on-failure'"));
  for (const Name of ['always', 'unless-stopped', 'on-failure'] as const) {
    assert.throws(() => check({ AutoRemove: true, RestartPolicy: { Name } }), fails('InvalidParameter', "can't create 'AutoRemove' container with restart policy"), Name);
  }
});

test('negative shm size', () => {
  assert.throws(() => check({ ShmSize: -1 }), fails('InvalidParameter', 'SHM size can not be less than 0'));
});

test('volumes and bind mounts pass here: the volume service checks them at create', () => {
  assert.deepEqual(check({ Binds: ['/a:/b'], Mounts: [{ Type: 'bind', Source: '/a', Target: '/b' }], VolumesFrom: ['other'] }), []);
});

test('validateContainerConfig: a hostname over HOST_NAME_MAX (64 bytes) is refused with dockerd\'s words', () => {
  assert.doesNotThrow(() => validateContainerConfig({ Hostname: 'h'.repeat(64) }));
  assert.doesNotThrow(() => validateContainerConfig({}));
  assert.throws(() => validateContainerConfig({ Hostname: 'h'.repeat(65) }),
    (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === `hostname "${'h'.repeat(65)}" is too long (maximum 64 bytes)`);
});
