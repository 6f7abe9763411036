import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { adaptCreateForVersion, adaptUpdateForVersion } from './container-compat.ts';

const refused = (msg: string) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === msg;

test('create: fields an API version did not have are dropped, as dockerd\'s router does', () => {
  const body = (): api.ContainerCreateBody => ({
    Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'], StartInterval: 5_000_000 }, MacAddress: '',
    HostConfig: { AutoRemove: true, KernelMemory: 10_000_000, KernelMemoryTCP: 1, ConsoleSize: [10, 20], Annotations: { a: 'b' },
      Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', BindOptions: { NonRecursive: true, CreateMountpoint: true } }] },
    NetworkingConfig: { EndpointsConfig: { net1: { MacAddress: '02:42:ac:11:00:02' } } },
  });
  const v147 = body();
  adaptCreateForVersion(v147, '1.47');
  assert.equal(v147.HostConfig!.KernelMemory, undefined, 'ignored from 1.42, without a warning');
  assert.deepEqual(v147.HostConfig!.ConsoleSize, [10, 20]);
  assert.deepEqual(v147.HostConfig!.Annotations, { a: 'b' });
  assert.equal(v147.Healthcheck!.StartInterval, 5_000_000);
  assert.equal(v147.NetworkingConfig!.EndpointsConfig!['net1']!.MacAddress, '02:42:ac:11:00:02');
  const v124 = body();
  adaptCreateForVersion(v124, '1.24');
  assert.equal(v124.HostConfig!.AutoRemove, false);
  assert.equal(v124.HostConfig!.KernelMemory, 10_000_000);
  assert.equal(v124.HostConfig!.KernelMemoryTCP, undefined);
  assert.deepEqual(v124.HostConfig!.ConsoleSize, [0, 0]);
  assert.equal(v124.HostConfig!.Annotations, undefined);
  assert.deepEqual(v124.HostConfig!.Mounts![0]!.BindOptions, { NonRecursive: false, CreateMountpoint: false });
  assert.equal(v124.Healthcheck!.StartInterval, undefined);
  assert.equal(v124.NetworkingConfig!.EndpointsConfig!['net1']!.MacAddress, undefined);
});

test('create: what a version could not ask for is refused in dockerd\'s words', () => {
  assert.throws(() => adaptCreateForVersion({ NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } }, '1.43'),
    refused('Container cannot be created with multiple network endpoints: a, b'));
  assert.doesNotThrow(() => adaptCreateForVersion({ NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } }, '1.44'));
  const bind = (): api.ContainerCreateBody => ({ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', BindOptions: { ReadOnlyForceRecursive: true } }] } });
  assert.throws(() => adaptCreateForVersion(bind(), '1.43'), refused('BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer'));
  assert.doesNotThrow(() => adaptCreateForVersion(bind(), '1.44'));
  const sub = (): api.ContainerCreateBody => ({ HostConfig: { Mounts: [{ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }] } });
  assert.throws(() => adaptCreateForVersion(sub(), '1.44'), refused('VolumeOptions.Subpath needs API v1.45 or newer'));
  assert.doesNotThrow(() => adaptCreateForVersion(sub(), '1.45'));
  assert.throws(() => adaptCreateForVersion({ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', VolumeOptions: {} }] } }, '1.42'),
    refused('VolumeOptions must not be specified on mount type "bind"'));
});

test('update: PidsLimit before 1.40 and KernelMemory from 1.42 are dropped', () => {
  const old: api.ContainerUpdateBody = { PidsLimit: 5, KernelMemory: 10_000_000 };
  adaptUpdateForVersion(old, '1.39');
  assert.deepEqual(old, { KernelMemory: 10_000_000 });
  const cur: api.ContainerUpdateBody = { PidsLimit: 5, KernelMemory: 10_000_000 };
  adaptUpdateForVersion(cur, '1.47');
  assert.deepEqual(cur, { PidsLimit: 5 });
});
