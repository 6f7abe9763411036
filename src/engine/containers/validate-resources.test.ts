import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../api/types/index.ts';
import { parseUintList, validateResources, type HostResources } from './validate-resources.ts';

const allBlkio = { weight: true, weightDevice: true, readBps: true, writeBps: true, readIOps: true, writeIOps: true };
const v1: HostResources = { ncpu: 2, cpus: '0-1', mems: '0', cgroupVersion: 1, kernelMemory: false, blkio: allBlkio };
const v2: HostResources = { ...v1, cgroupVersion: 2 };
const MB = 1024 * 1024;

const rejects = (hc: HostConfig, message: string, host = v1, update = false) =>
  assert.throws(() => validateResources({ ...hc }, host, { update }), (e: Error & { kind?: string }) => e.message === message && e.kind === 'InvalidParameter');

test("dockerd's messages for out-of-range and conflicting resources", () => {
  rejects({ Memory: 4 * MB }, 'Minimum memory limit allowed is 6MB');
  rejects({ Memory: 64 * MB, MemorySwap: 32 * MB }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
  rejects({ MemorySwap: 64 * MB }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  rejects({ Memory: 64 * MB, MemoryReservation: 128 * MB }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  rejects({ MemoryReservation: MB }, 'Minimum memory reservation allowed is 6MB');
  rejects({ MemorySwappiness: 101 }, 'Invalid value: 101, valid memory swappiness range is 0-100');
  rejects({ NanoCpus: 1e9, CpuPeriod: 100000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  rejects({ NanoCpus: 1e9, CpuQuota: 50000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  rejects({ NanoCpus: 3e9 }, 'range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  rejects({ CpuQuota: 999 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  rejects({ CpuPeriod: 999 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  rejects({ CpuShares: -1 }, 'invalid CPU shares (-1): value must be a positive integer');
  rejects({ CpusetCpus: '0-99' }, 'Requested CPUs are not available - requested 0-99, available: 0-1');
  rejects({ CpusetMems: '1' }, 'Requested memory nodes are not available - requested 1, available: 0');
  rejects({ CpusetCpus: '1-a' }, 'Invalid value 1-a for cpuset cpus: invalid format: 1-a');
  rejects({ CpusetCpus: '0-9000' }, 'Invalid value 0-9000 for cpuset cpus: value of out range, maximum is 8192');
  rejects({ BlkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000');
  rejects({ OomScoreAdj: 1001 }, 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  rejects({ CgroupnsMode: 'bogus' }, 'invalid cgroup namespace mode: bogus');
  rejects({ IOMaximumIOps: 5 }, 'Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
});

test('an update may set swap without memory, and skips the create-only checks', () => {
  assert.deepEqual(validateResources({ MemorySwap: 64 * MB, OomScoreAdj: 5000 }, v1, { update: true }), []);
});

test('adapts as dockerd does: default swap 2x memory on create, swappiness -1 unset, kernel memory discarded', () => {
  const hc: HostConfig = { Memory: 64 * MB, MemorySwappiness: -1, KernelMemory: 64 * MB };
  const w = validateResources(hc, v1);
  assert.equal(hc.MemorySwap, 128 * MB);
  assert.equal(hc.MemorySwappiness, null);
  assert.equal(hc.KernelMemory, 0);
  assert.deepEqual(w, ['Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.']);
  const upd: HostConfig = { Memory: 64 * MB };
  validateResources(upd, v1, { update: true });
  assert.equal(upd.MemorySwap, undefined, 'an update leaves swap to the stored value');
});

test('warnings for what the host lacks (v2 swappiness and OOM-kill-disable, blkio weight without CFQ)', () => {
  const hc: HostConfig = { MemorySwappiness: 10, OomKillDisable: true, Memory: 64 * MB };
  assert.deepEqual(validateResources(hc, v2), [
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
  ]);
  const noCfq = { ...v1, blkio: { ...allBlkio, weight: false, weightDevice: false } };
  const b: HostConfig = { BlkioWeight: 300, BlkioWeightDevice: [{ Path: '/dev/vda', Weight: 200 }] };
  assert.equal(validateResources(b, noCfq).length, 2);
  assert.equal(b.BlkioWeight, 0);
  assert.deepEqual(b.BlkioWeightDevice, []);
  assert.deepEqual(validateResources({ OomKillDisable: true }, v1),
    ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.']);
});

test('parseUintList reads cpuset lists as moby does', () => {
  assert.deepEqual([...parseUintList('0-2,5,3', 0)].sort(), [0, 1, 2, 3, 5]);
  assert.deepEqual([...parseUintList('', 0)], []);
  assert.throws(() => parseUintList('3-1', 0), /invalid format: 3-1/);
  assert.throws(() => parseUintList('1,,2', 0), /invalid format/);
});
