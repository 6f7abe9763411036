import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toOciResources } from '../spec/resources.ts';
import { cgroupV1Files, cgroupV2Files, sharesToWeight } from './v2-translate.ts';

const MB = 1024 * 1024;

test('v1 limits become the v2 files crun and runc write', () => {
  const res = toOciResources({ Memory: 64 * MB, MemoryReservation: 32 * MB, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 20 },
    { readBps: [{ major: 8, minor: 0, rate: 1048576 }], writeIOps: [{ major: 8, minor: 0, rate: 100 }] });
  assert.deepEqual(cgroupV2Files(res), {
    'memory.max': String(64 * MB), 'memory.low': String(32 * MB), 'memory.swap.max': String(64 * MB),
    'cpu.weight': '20', 'cpu.max': '150000 100000', 'cpuset.cpus': '0', 'pids.max': '20', 'io.max': '8:0 rbps=1048576 wiops=100',
  });
  assert.deepEqual(cgroupV1Files(res), {
    'memory/memory.limit_in_bytes': String(64 * MB), 'memory/memory.memsw.limit_in_bytes': String(128 * MB),
    'memory/memory.soft_limit_in_bytes': String(32 * MB), 'cpu/cpu.shares': '512', 'cpu/cpu.cfs_period_us': '100000',
    'cpu/cpu.cfs_quota_us': '150000', 'cpuset/cpuset.cpus': '0', 'pids/pids.max': '20',
    'blkio/blkio.throttle.read_bps_device': '8:0 1048576', 'blkio/blkio.throttle.write_iops_device': '8:0 100',
  });
});

test('unlimited swap is "max"; a period without quota is "max PERIOD"; pids 0 is "max"', () => {
  assert.equal(cgroupV2Files(toOciResources({ Memory: 64 * MB, MemorySwap: -1 }))['memory.swap.max'], 'max');
  assert.equal(cgroupV2Files(toOciResources({ CpuPeriod: 50000 }))['cpu.max'], 'max 50000');
  assert.equal(cgroupV2Files({ pids: { limit: 0 } })['pids.max'], 'max');
  assert.equal(cgroupV2Files(toOciResources({ Memory: 64 * MB, MemorySwap: 96 * MB }))['memory.swap.max'], String(32 * MB));
});

test('cpu.weight from shares follows the runtimes: 2 → 1, 1024 → 39, 262144 → 10000', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(cgroupV2Files({ blockIO: { weight: 500 } })['io.weight'], 'default 4950');
});
