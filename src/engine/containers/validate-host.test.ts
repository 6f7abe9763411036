import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import {
  checkCapabilities, checkExtraHosts, checkModeConflicts, checkNamespacesAndPaths, checkPorts, checkRealtime, checkRestartPolicy,
  checkDeviceRequests, checkMountOptionTypes, checkStorageOpt, resolveSharedNamespaces,
} from './validate-host.ts';

const refused = (msg: string) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === msg;

test('checkModeConflicts: runconfig\'s network, UTS, isolation and QoS checks', () => {
  for (const NetworkMode of ['', 'bridge', 'host', 'none', 'net1', 'container:web']) assert.doesNotThrow(() => checkModeConflicts({}, { NetworkMode }), NetworkMode);
  assert.doesNotThrow(() => checkModeConflicts({ Hostname: 'h' }, { NetworkMode: 'host', UTSMode: '' }));
  for (const NetworkMode of ['container', 'container:', 'container::x']) {
    assert.throws(() => checkModeConflicts({}, { NetworkMode }), refused('Invalid network mode: invalid container format container:<name|id>'), NetworkMode);
  }
  const web = { NetworkMode: 'container:web' };
  const cases: [Parameters<typeof checkModeConflicts>[0], HostConfig, string][] = [
    [{ Hostname: 'h' }, web, 'conflicting options: hostname and the network mode'],
    [{}, { ...web, Links: ['a:b'] }, "conflicting options: container type network can't be used with links. This would result in undefined behavior"],
    [{}, { ...web, Dns: ['1.1.1.1'] }, 'conflicting options: dns and the network mode'],
    [{}, { ...web, ExtraHosts: ['a:1.2.3.4'] }, 'conflicting options: custom host-to-IP mapping and the network mode'],
    [{}, { ...web, PortBindings: { '80/tcp': [] } }, 'conflicting options: port publishing and the container type network mode'],
    [{}, { ...web, PublishAllPorts: true }, 'conflicting options: port publishing and the container type network mode'],
    [{ ExposedPorts: { '80/tcp': {} } }, web, 'conflicting options: port exposing and the container type network mode'],
    [{ Hostname: 'h' }, { UTSMode: 'host' }, 'conflicting options: hostname and the UTS mode'],
    [{}, { NetworkMode: 'host', Links: ['a:b'] }, "conflicting options: host type networking can't be used with links. This would result in undefined behavior"],
    [{}, { Isolation: 'hyperv' }, 'Invalid isolation: "hyperv" - linux only supports \'default\''],
    [{}, { IOMaximumBandwidth: 1 }, 'Invalid QoS settings: linux does not support configuration of maximum bandwidth'],
    [{}, { IOMaximumIOps: 1 }, 'Invalid QoS settings: linux does not support configuration of maximum IOPs'],
  ];
  for (const [config, hc, msg] of cases) assert.throws(() => checkModeConflicts(config, hc), refused(msg), msg);
  for (const Isolation of ['', 'default', 'DEFAULT']) assert.doesNotThrow(() => checkModeConflicts({}, { Isolation }), Isolation);
});

test('checkRealtime: needs the RT scheduler, and the runtime may not exceed the period', () => {
  assert.doesNotThrow(() => checkRealtime({}, false));
  assert.throws(() => checkRealtime({ CpuRealtimeRuntime: 10 }, false), refused('Your kernel does not support CPU real-time scheduler'));
  assert.throws(() => checkRealtime({ CpuRealtimePeriod: 10, CpuRealtimeRuntime: 100 }, true), refused('cpu real-time runtime cannot be higher than cpu real-time period'));
  assert.doesNotThrow(() => checkRealtime({ CpuRealtimePeriod: 100, CpuRealtimeRuntime: 10 }, true));
});

test('checkPorts: port keys and host ports as dockerd parses them, and known protocols only', () => {
  assert.doesNotThrow(() => checkPorts({ '80/tcp': {}, '53/udp': {}, '9/sctp': {}, '90': {}, '8000-8010/tcp': {} },
    { '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '8000-8010' }], '81/tcp': null }));
  const cases: [Parameters<typeof checkPorts>[0], Parameters<typeof checkPorts>[1], string][] = [
    [{ 'abc/tcp': {} }, undefined, 'invalid port specification: "abc"'],
    [{ '70000/tcp': {} }, undefined, 'invalid port specification: "70000"'],
    [{ '80/foo': {} }, undefined, 'invalid proto: foo'],
    [{ '90-80/tcp': {} }, undefined, 'invalid port specification: "90-80"'],
    [undefined, { 'abc/tcp': [] }, 'invalid port specification: "abc"'],
    [undefined, { '80-81/tcp': [] }, 'invalid port specification: "80-81"'],
    [undefined, { '80/foo': [] }, 'invalid proto: foo'],
    [undefined, { '80/tcp': [{ HostIp: '', HostPort: 'abc' }] }, 'invalid port specification: "abc"'],
    [undefined, { '80/tcp': [{ HostIp: '', HostPort: '90-80' }] }, 'invalid port specification: "90-80"'],
  ];
  for (const [exposed, bindings, msg] of cases) assert.throws(() => checkPorts(exposed, bindings), refused(msg), msg);
});

test('checkExtraHosts: name:ip (or name=ip), an IP address or host-gateway', () => {
  assert.doesNotThrow(() => checkExtraHosts(['a:1.2.3.4', 'b:::1', 'c=10.0.0.1', 'd:host-gateway', 'e:[fe80::1]', 'f.example.com:2001:db8::1']));
  assert.throws(() => checkExtraHosts(['foo']), refused('bad format for add-host: "foo"'));
  assert.throws(() => checkExtraHosts([':1.2.3.4']), refused('bad format for add-host: ":1.2.3.4"'));
  assert.throws(() => checkExtraHosts(['foo:bar']), refused('invalid IP address in add-host: "bar"'));
  assert.throws(() => checkExtraHosts(['foo:1.2.3.999']), refused('invalid IP address in add-host: "1.2.3.999"'));
});

test('checkRestartPolicy: dockerd\'s names and retry counts', () => {
  for (const p of [undefined, { Name: '' as const }, { Name: 'always' as const }, { Name: 'on-failure' as const, MaximumRetryCount: 3 }]) assert.doesNotThrow(() => checkRestartPolicy(p));
  assert.doesNotThrow(() => checkRestartPolicy({ Name: '', MaximumRetryCount: 2 }));
  assert.throws(() => checkRestartPolicy({ Name: 'no', MaximumRetryCount: 2 }), refused("invalid restart policy: maximum retry count can only be used with 'on-failure'"));
});

test('checkCapabilities: known capabilities in any case, with or without CAP_, or ALL', () => {
  assert.doesNotThrow(() => checkCapabilities({ CapAdd: ['NET_ADMIN', 'cap_sys_admin', 'CAP_BPF', 'all'], CapDrop: ['ALL', 'mknod'] }));
  assert.throws(() => checkCapabilities({ CapAdd: ['CAP_FOO'] }), refused('invalid CapAdd: unknown capability: "CAP_FOO"'));
  assert.throws(() => checkCapabilities({ CapDrop: ['foo'] }), refused('invalid CapDrop: unknown capability: "CAP_FOO"'));
  assert.throws(() => checkCapabilities({ CapAdd: ['CAP_ALL'] }), refused('invalid CapAdd: unknown capability: "CAP_ALL"'));
});

test('checkNamespacesAndPaths: IPC, PID and UTS modes, annotation keys, tmpfs destinations', () => {
  assert.doesNotThrow(() => checkNamespacesAndPaths({}));
  for (const IpcMode of ['', 'none', 'private', 'host', 'shareable', 'container:web']) assert.doesNotThrow(() => checkNamespacesAndPaths({ IpcMode }), IpcMode);
  for (const PidMode of ['', 'host', 'container:web']) assert.doesNotThrow(() => checkNamespacesAndPaths({ PidMode }), PidMode);
  assert.doesNotThrow(() => checkNamespacesAndPaths({ UTSMode: 'host', Tmpfs: { '/run': 'size=1m', '/a/b/': '' }, Annotations: { a: '' } }));
  const cases: [HostConfig, string][] = [
    [{ IpcMode: 'foo' }, 'invalid IPC mode: foo'],
    [{ PidMode: 'private' }, 'invalid PID mode: private'],
    [{ PidMode: 'container:' }, 'invalid PID mode: container:'],
    [{ UTSMode: 'private' }, 'invalid UTS mode: private'],
    [{ Annotations: { '': 'x' } }, 'invalid Annotations: the empty string is not permitted as an annotation key'],
    [{ Tmpfs: { rel: '' } }, "invalid mount path: 'rel' mount path must be absolute"],
    [{ Tmpfs: { '/': '' } }, "invalid specification: destination can't be '/'"],
    [{ Tmpfs: { '/x/..': '' } }, "invalid specification: destination can't be '/'"],
  ];
  for (const [hc, msg] of cases) assert.throws(() => checkNamespacesAndPaths(hc), refused(msg), msg);
});

test('checkStorageOpt: no option is honoured, so none is taken', () => {
  assert.doesNotThrow(() => checkStorageOpt({}));
  assert.doesNotThrow(() => checkStorageOpt(undefined));
  assert.throws(() => checkStorageOpt({ size: '1G' }), refused("--storage-opt is supported only for overlay over xfs with 'pquota' mount option"));
  assert.throws(() => checkStorageOpt({ foo: 'x' }), refused('Unknown option foo'));
});

test('resolveSharedNamespaces: container:<name> must exist and is stored by ID', () => {
  const ids: Record<string, string> = { web: 'f'.repeat(64) };
  const find = (ref: string) => ids[ref];
  assert.deepEqual(resolveSharedNamespaces({ PidMode: 'container:web', IpcMode: 'private' }, find), { PidMode: `container:${'f'.repeat(64)}` });
  assert.deepEqual(resolveSharedNamespaces({ PidMode: 'host', IpcMode: 'container:web' }, find), { IpcMode: `container:${'f'.repeat(64)}` });
  assert.throws(() => resolveSharedNamespaces({ IpcMode: 'container:nope' }, find), refused('No such container: nope'));
  assert.throws(() => resolveSharedNamespaces({ PidMode: 'container:nope' }, find), refused('No such container: nope'));
});

test('checkDeviceRequests: no device driver here, so any request fails in dockerd\'s words', () => {
  assert.doesNotThrow(() => checkDeviceRequests(undefined));
  assert.doesNotThrow(() => checkDeviceRequests(null));
  assert.doesNotThrow(() => checkDeviceRequests([]));
  // docker run --gpus all
  assert.throws(() => checkDeviceRequests([{ Driver: '', Count: -1, Capabilities: [['gpu']] }]), refused('could not select device driver "" with capabilities: [[gpu]]'));
  assert.throws(() => checkDeviceRequests([{ Driver: 'nvidia', Count: 1 }]), refused('could not select device driver "nvidia" with capabilities: []'));
  assert.throws(() => checkDeviceRequests([{ Capabilities: [['gpu', 'utility'], ['compute']] }]), refused('could not select device driver "" with capabilities: [[gpu utility] [compute]]'));
});

test('checkMountOptionTypes: another type\'s options are refused from API 1.42, dropped before', () => {
  assert.doesNotThrow(() => checkMountOptionTypes([{ Type: 'volume', Target: '/v', VolumeOptions: { NoCopy: true } }, { Type: 'tmpfs', Target: '/t', TmpfsOptions: {} }], true));
  assert.throws(() => checkMountOptionTypes([{ Type: 'bind', Source: '/tmp', Target: '/x', VolumeOptions: {} }], true), refused('VolumeOptions must not be specified on mount type "bind"'));
  assert.throws(() => checkMountOptionTypes([{ Type: 'volume', Target: '/x', BindOptions: {} }], true), refused('BindOptions must not be specified on mount type "volume"'));
  assert.throws(() => checkMountOptionTypes([{ Type: 'bind', Source: '/tmp', Target: '/x', TmpfsOptions: {} }], true), refused('TmpfsOptions must not be specified on mount type "bind"'));
  const old: NonNullable<HostConfig['Mounts']> = [{ Type: 'bind', Source: '/tmp', Target: '/x', VolumeOptions: {}, TmpfsOptions: {}, BindOptions: {} }];
  checkMountOptionTypes(old, false);
  assert.deepEqual(old, [{ Type: 'bind', Source: '/tmp', Target: '/x', BindOptions: {} }]);
});
