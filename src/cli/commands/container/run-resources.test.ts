import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagValueError, parseDeviceMapping, parseThrottleDevice, parseWeightDevice, resourceHostConfig, validateDeviceFlag } from './run-resources.ts';

test('device, weight and throttle values as docker CLI 28 parses them', () => {
  assert.deepEqual(parseDeviceMapping('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDeviceMapping('/dev/fuse:r'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'r' });
  assert.deepEqual(parseDeviceMapping('/dev/sda:/dev/xvda:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rw' });
  assert.throws(() => validateDeviceFlag('/dev/a:/dev/b:xyz'), /bad mode specified: xyz/);
  assert.throws(() => validateDeviceFlag('/dev/a:rel'), /rel is not an absolute path/);
  assert.deepEqual(parseWeightDevice('/dev/sda:200'), { Path: '/dev/sda', Weight: 200 });
  assert.throws(() => parseWeightDevice('/dev/sda:5'), /invalid weight for device: \/dev\/sda:5/);
  assert.throws(() => parseWeightDevice('sda:200'), /bad format for device path: sda:200/);
  assert.deepEqual(parseThrottleDevice('/dev/sda:1mb', 'bps'), { Path: '/dev/sda', Rate: 1048576 });
  assert.deepEqual(parseThrottleDevice('/dev/sda:100', 'iops'), { Path: '/dev/sda', Rate: 100 });
  assert.throws(() => parseThrottleDevice('/dev/sda:1.5', 'iops'), /Number must be a positive integer/);
  assert.throws(() => parseThrottleDevice('/dev/sda', 'bps'), /bad format: \/dev\/sda/);
});

test('the HostConfig part, and which errors are flag errors', () => {
  assert.deepEqual(resourceHostConfig({ 'device-cgroup-rule': ['c 1:3 rwm'], 'blkio-weight': 300, cgroupns: 'host', 'kernel-memory': '10m', 'device-write-iops': ['/dev/vda:50'] }), {
    DeviceCgroupRules: ['c 1:3 rwm'], BlkioWeight: 300, BlkioDeviceWriteIOps: [{ Path: '/dev/vda', Rate: 50 }], KernelMemory: 10485760, CgroupnsMode: 'host',
  });
  assert.throws(() => resourceHostConfig({ 'device-cgroup-rule': ['x 1:3 rwm'] }), (e) => e instanceof FlagValueError && e.message === "invalid device cgroup format 'x 1:3 rwm'");
  assert.throws(() => resourceHostConfig({ cgroupns: 'bogus' }), (e) => !(e instanceof FlagValueError) && (e as Error).message === '--cgroupns: invalid CGROUP mode');
});
