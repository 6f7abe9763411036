import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { DEFAULT_PATH, mergeConfig, mergeEnv, normalizeHostConfig, processArgs } from './config-merge.ts';

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const IMAGE: ContainerConfig = {
  Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'], Env: ['PATH=/opt/bin:/bin', 'A=image', 'B=image'],
  WorkingDir: '/srv', User: 'app', Labels: { a: 'image', b: 'image' }, ExposedPorts: { '80/tcp': {} },
  StopSignal: 'SIGQUIT',
};

const isInvalid = (msg: RegExp) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && msg.test(err.message);

test('mergeEnv: later lists replace earlier entries by key, keeping first position', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C=4']), ['A=1', 'B=3', 'C=4']);
  assert.deepEqual(mergeEnv(null, undefined, ['X=1']), ['X=1']);
  // A bare name (no "=") is a key of its own and can be replaced by NAME=value.
  assert.deepEqual(mergeEnv(['FOO'], ['FOO=bar']), ['FOO=bar']);
  // Only the first "=" separates key and value.
  assert.deepEqual(mergeEnv(['K=a=b'], ['K=c=d']), ['K=c=d']);
  assert.deepEqual(mergeEnv(), []);
});

test('mergeConfig: no request command keeps the image entrypoint and cmd', () => {
  const c = mergeConfig({ Image: 'img' }, IMAGE, ID, 'img');
  assert.deepEqual(c.Entrypoint, ['/entry.sh']);
  assert.deepEqual(c.Cmd, ['serve', '--port', '80']);
  assert.deepEqual(processArgs(c), ['/entry.sh', 'serve', '--port', '80']);
  assert.equal(c.Image, 'img');
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'app');
  assert.equal(c.StopSignal, 'SIGQUIT');
});

test('mergeConfig: a request Cmd replaces the image Cmd and keeps the image entrypoint', () => {
  const c = mergeConfig({ Cmd: ['sh'] }, IMAGE, ID, 'img');
  assert.deepEqual(c.Entrypoint, ['/entry.sh']);
  assert.deepEqual(c.Cmd, ['sh']);
});

test('mergeConfig: a request Entrypoint drops the image Cmd (Docker)', () => {
  const c = mergeConfig({ Entrypoint: ['/bin/echo'] }, IMAGE, ID, 'img');
  assert.deepEqual(c.Entrypoint, ['/bin/echo']);
  assert.equal(c.Cmd, null);
  assert.deepEqual(processArgs(c), ['/bin/echo']);
  const d = mergeConfig({ Entrypoint: ['/bin/echo'], Cmd: ['hi'] }, IMAGE, ID, 'img');
  assert.deepEqual(processArgs(d), ['/bin/echo', 'hi']);
});

test('mergeConfig: --entrypoint "" clears the entrypoint; the request Cmd runs alone', () => {
  const c = mergeConfig({ Entrypoint: [''], Cmd: ['ls', '-l'] }, IMAGE, ID, 'img');
  assert.equal(c.Entrypoint, null);
  assert.deepEqual(processArgs(c), ['ls', '-l']);
});

test('mergeConfig: --entrypoint "" with no Cmd leaves nothing to run', () => {
  assert.throws(() => mergeConfig({ Entrypoint: [''] }, IMAGE, ID, 'img'), isInvalid(/^No command specified$/));
});

test('mergeConfig: no command anywhere is InvalidParameter', () => {
  assert.throws(() => mergeConfig({}, undefined, ID, 'img'), isInvalid(/No command specified/));
  assert.throws(() => mergeConfig({ Cmd: [] }, { Cmd: [] }, ID, 'img'), isInvalid(/No command specified/));
  assert.throws(() => mergeConfig({ Entrypoint: [] }, {}, ID, 'img'), isInvalid(/No command specified/));
});

test('mergeConfig: an empty request Cmd falls back to the image Cmd', () => {
  const c = mergeConfig({ Cmd: [] }, { Cmd: ['top'] }, ID, 'img');
  assert.deepEqual(c.Cmd, ['top']);
});

test('mergeConfig: env overrides the image by key and keeps the image PATH', () => {
  const c = mergeConfig({ Cmd: ['x'], Env: ['B=req', 'C=req'] }, IMAGE, ID, 'img');
  assert.deepEqual(c.Env, ['PATH=/opt/bin:/bin', 'A=image', 'B=req', 'C=req']);
});

test('mergeConfig: PATH defaults when neither image nor request sets one', () => {
  const c = mergeConfig({ Cmd: ['x'], Env: ['A=1'] }, { Env: ['B=2'] }, ID, 'img');
  assert.deepEqual(c.Env, [DEFAULT_PATH, 'B=2', 'A=1']);
  assert.deepEqual(mergeConfig({ Cmd: ['x'] }, undefined, ID, 'img').Env, [DEFAULT_PATH]);
  // A request PATH wins over the image's.
  assert.deepEqual(mergeConfig({ Cmd: ['x'], Env: ['PATH=/mine'] }, IMAGE, ID, 'img').Env, ['PATH=/mine', 'A=image', 'B=image']);
});

test('mergeConfig: labels, exposed ports and volumes merge with the request on top', () => {
  const c = mergeConfig({ Cmd: ['x'], Labels: { b: 'req', c: 'req' }, ExposedPorts: { '53/udp': {} }, Volumes: { '/data': {} } }, IMAGE, ID, 'img');
  assert.deepEqual(c.Labels, { a: 'image', b: 'req', c: 'req' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
});

test('mergeConfig: hostname defaults to the 12-character short id', () => {
  assert.equal(mergeConfig({ Cmd: ['x'] }, undefined, ID, 'img').Hostname, '0123456789ab');
  assert.equal(mergeConfig({ Cmd: ['x'], Hostname: '' }, undefined, ID, 'img').Hostname, '0123456789ab');
  assert.equal(mergeConfig({ Cmd: ['x'], Hostname: 'web' }, undefined, ID, 'img').Hostname, 'web');
});

test('mergeConfig: request scalars win; defaults are Docker-shaped', () => {
  const c = mergeConfig({ Cmd: ['x'], User: 'root', WorkingDir: '/tmp', StopSignal: 'SIGINT', StopTimeout: 3, Tty: true, OpenStdin: true }, IMAGE, ID, 'img');
  assert.equal(c.User, 'root');
  assert.equal(c.WorkingDir, '/tmp');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.equal(c.StopTimeout, 3);
  assert.equal(c.Tty, true);
  assert.equal(c.OpenStdin, true);
  const d = mergeConfig({ Cmd: ['x'] }, undefined, ID, 'img');
  assert.equal(d.Domainname, '');
  assert.equal(d.User, '');
  assert.equal(d.WorkingDir, '');
  assert.equal(d.Tty, false);
  assert.equal(d.AttachStdin, false);
  assert.equal(d.OnBuild, null);
  assert.deepEqual(d.Labels, {});
  assert.equal('StopSignal' in d, false);
  assert.equal('StopTimeout' in d, false);
  assert.equal('Healthcheck' in d, false);
});

test('normalizeHostConfig: fills Docker defaults', () => {
  const h = normalizeHostConfig(undefined, 'crun');
  assert.equal(h.NetworkMode, 'bridge');
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: {} });
  assert.deepEqual(h.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(h.Runtime, 'crun');
  assert.equal(h.ShmSize, 64 * 1024 * 1024);
  assert.equal(h.IpcMode, 'private');
  assert.equal(h.CgroupnsMode, 'private');
  assert.deepEqual(h.PortBindings, {});
  assert.equal(h.Binds, null);
  assert.equal(h.Privileged, false);
  assert.equal(h.ReadonlyRootfs, false);
  assert.equal(h.AutoRemove, false);
  assert.equal(normalizeHostConfig({ NetworkMode: 'default' }, 'crun').NetworkMode, 'bridge');
  assert.equal(normalizeHostConfig({ ShmSize: 0 }, 'crun').ShmSize, 64 * 1024 * 1024);
});

test('normalizeHostConfig: the daemon\'s log driver and its options for containers that name none (dockerd)', () => {
  const daemonLog = { Type: 'none', Config: {} };
  assert.deepEqual(normalizeHostConfig(undefined, 'crun', daemonLog).LogConfig, { Type: 'none', Config: {} });
  const withOpts = { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } };
  assert.deepEqual(normalizeHostConfig(undefined, 'crun', withOpts).LogConfig, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
  assert.deepEqual(normalizeHostConfig({ LogConfig: { Type: 'json-file', Config: { 'max-size': '5m' } } }, 'crun', withOpts).LogConfig,
    { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '2' } });
  assert.deepEqual(normalizeHostConfig({ LogConfig: { Type: 'local', Config: {} } }, 'crun', withOpts).LogConfig, { Type: 'local', Config: {} });
});

test('normalizeHostConfig: keeps what the request set and does not mutate it', () => {
  const input = {
    NetworkMode: 'host', Runtime: 'runc', ShmSize: 1024, IpcMode: 'host', Privileged: true, AutoRemove: true,
    LogConfig: { Type: '', Config: { 'max-size': '1m' } }, RestartPolicy: { Name: 'always' as const, MaximumRetryCount: 0 },
  };
  const copy = structuredClone(input);
  const h = normalizeHostConfig(input, 'crun');
  assert.equal(h.NetworkMode, 'host');
  assert.equal(h.Runtime, 'runc');
  assert.equal(h.ShmSize, 1024);
  assert.equal(h.IpcMode, 'host');
  assert.equal(h.Privileged, true);
  assert.equal(h.AutoRemove, true);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(h.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(input, copy);
});

test('processArgs: entrypoint then cmd, either may be missing', () => {
  assert.deepEqual(processArgs({ Entrypoint: ['a', 'b'], Cmd: ['c'] }), ['a', 'b', 'c']);
  assert.deepEqual(processArgs({ Entrypoint: null, Cmd: ['c'] }), ['c']);
  assert.deepEqual(processArgs({ Entrypoint: ['a'] }), ['a']);
  assert.deepEqual(processArgs({}), []);
});

test('mergeConfig: an explicit empty Entrypoint clears the image entrypoint but keeps its Cmd (Docker)', () => {
  const c = mergeConfig({ Entrypoint: [] }, IMAGE, ID, 'img');
  assert.equal(c.Entrypoint, null);
  assert.deepEqual(c.Cmd, ['serve', '--port', '80']);
});
