import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { validateContainerConfig, validateCreate, validateHostConfig } from './validate.ts';
import type { HostResources } from './validate-resources.ts';

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
  assert.throws(() => check({ RestartPolicy: { Name: 'sometimes' as 'no' } }),
    fails('InvalidParameter', "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"));
  assert.throws(() => check({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }),
    fails('InvalidParameter', "invalid restart policy: maximum retry count can only be used with 'on-failure'"));
  assert.throws(() => check({ RestartPolicy: { Name: 'no', MaximumRetryCount: -1 } }),
    fails('InvalidParameter', "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"));
  assert.throws(() => check({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }),
    fails('InvalidParameter', 'invalid restart policy: maximum retry count cannot be negative'));
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

test('validateContainerConfig: working directory, stop signal, environment and exposed ports in dockerd\'s words', () => {
  const refused = (msg: string) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === msg;
  assert.throws(() => validateContainerConfig({ WorkingDir: 'x' }), refused("the working directory 'x' is invalid, it needs to be an absolute path"));
  assert.throws(() => validateContainerConfig({ StopSignal: 'FOO' }), refused('invalid signal: FOO'));
  assert.throws(() => validateContainerConfig({ StopSignal: '0' }), refused('invalid signal: 0'));
  assert.throws(() => validateContainerConfig({ Env: ['A=1', '=foo'] }), refused('invalid environment variable: =foo'));
  assert.throws(() => validateContainerConfig({ Env: [''] }), refused('invalid environment variable: '));
  assert.throws(() => validateContainerConfig({ ExposedPorts: { 'abc/tcp': {} } }), refused('invalid port specification: "abc"'));
  assert.throws(() => validateContainerConfig({ Healthcheck: { Retries: -1 } }), refused('Retries in Healthcheck cannot be negative'));
  for (const StopSignal of ['SIGINT', 'int', '15', 'RTMIN+1']) assert.doesNotThrow(() => validateContainerConfig({ StopSignal }), StopSignal);
  assert.doesNotThrow(() => validateContainerConfig({ Env: ['A', 'B=', 'C=1=2'] }));
  // dockerd cleans the directory it stores (filepath.Clean).
  for (const [wd, clean] of [['/a/b/', '/a/b'], ['/a//b/../c', '/a/c'], ['/', '/'], ['//', '/']]) {
    const config = { WorkingDir: wd };
    validateContainerConfig(config);
    assert.equal(config.WorkingDir, clean, wd);
  }
});

test('validateCreate: the request as sent is checked before the defaults, then the HostConfig', () => {
  const host: HostResources = { ncpu: 2, cpus: '0-1', mems: '0', cgroupVersion: 2, kernelMemory: false, cpuRealtime: false,
    blkio: { weight: true, weightDevice: true, readBps: true, writeBps: true, readIOps: true, writeIOps: true } };
  const refused = (msg: string) => (err: unknown) => err instanceof EngineError && err.message === msg;
  assert.deepEqual(validateCreate({}, {}, undefined, host), []);
  assert.throws(() => validateCreate({ Hostname: 'h' }, { NetworkMode: 'container:web' }, { NetworkMode: 'container:web' }, host), refused('conflicting options: hostname and the network mode'));
  assert.throws(() => validateCreate({}, {}, { CpuRealtimeRuntime: 5 }, host), refused('Your kernel does not support CPU real-time scheduler'));
  assert.throws(() => validateCreate({}, { LogConfig: { Type: 'logentries', Config: {} } }, {}, host), refused('the logentries logging driver has been deprecated and removed'));
  assert.throws(() => validateCreate({ WorkingDir: 'rel' }, {}, {}, host), refused("the working directory 'rel' is invalid, it needs to be an absolute path"));
  const hostCases: [HostConfig, string][] = [
    [{ CapAdd: ['CAP_FOO'] }, 'invalid CapAdd: unknown capability: "CAP_FOO"'],
    [{ ExtraHosts: ['foo'] }, 'bad format for add-host: "foo"'],
    [{ PortBindings: { 'x/tcp': [] } }, 'invalid port specification: "x"'],
    [{ IpcMode: 'foo' }, 'invalid IPC mode: foo'],
    [{ SecurityOpt: ['foo=bar'] }, 'invalid --security-opt 2: "foo=bar"'],
    [{ SecurityOpt: ['foo'] }, 'invalid --security-opt 1: "foo"'],
    [{ StorageOpt: { size: '1G' } }, "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"],
    [{ Tmpfs: { rel: '' } }, "invalid mount path: 'rel' mount path must be absolute"],
  ];
  for (const [hc, msg] of hostCases) assert.throws(() => validateCreate({}, hc, hc, host), refused(msg), msg);
});
