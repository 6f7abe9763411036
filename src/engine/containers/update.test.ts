import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toOciUpdateResources } from '../../runtime/spec/resources.ts';
import { mergeUpdate, validateRestartPolicy } from './update.ts';

const MB = 1024 * 1024;
const conflict = (msg: string) => (e: Error & { kind?: string }) => e.kind === 'Conflict' && e.message === `Cannot update container c1: ${msg}`;

test('only the non-zero fields of an update replace the stored ones', () => {
  const cur = { Memory: 64 * MB, MemorySwap: 128 * MB, CpuShares: 512, PidsLimit: 20, RestartPolicy: { Name: 'no' as const, MaximumRetryCount: 0 } };
  const next = mergeUpdate('c1', cur, { Memory: 100 * MB, CpuShares: 0, PidsLimit: -1, RestartPolicy: { Name: 'always' } });
  assert.deepEqual(next, { Memory: 100 * MB, MemorySwap: 128 * MB, CpuShares: 512, PidsLimit: -1, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } });
  assert.deepEqual(mergeUpdate('c1', cur, { RestartPolicy: { Name: '' } }).RestartPolicy, cur.RestartPolicy);
});

test("dockerd's update conflicts", () => {
  assert.throws(() => mergeUpdate('c1', { Memory: 64 * MB, MemorySwap: 128 * MB }, { Memory: 256 * MB }),
    conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'));
  assert.throws(() => mergeUpdate('c1', {}, { Memory: 256 * MB }), /Memory limit should be smaller/);
  assert.doesNotThrow(() => mergeUpdate('c1', {}, { Memory: 256 * MB, MemorySwap: 512 * MB }));
  assert.throws(() => mergeUpdate('c1', { CpuPeriod: 50000 }, { NanoCpus: 1e9 }), conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set'));
  assert.throws(() => mergeUpdate('c1', { CpuQuota: 50000 }, { NanoCpus: 1e9 }), conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set'));
  assert.throws(() => mergeUpdate('c1', { NanoCpus: 1e9 }, { CpuPeriod: 50000 }), conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set'));
  assert.throws(() => mergeUpdate('c1', { NanoCpus: 1e9 }, { CpuQuota: 50000 }), conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set'));
  assert.throws(() => mergeUpdate('c1', { AutoRemove: true }, { RestartPolicy: { Name: 'always' } }),
    conflict('Restart policy cannot be updated because AutoRemove is enabled for the container'));
});

test('restart policies are checked with dockerd wording', () => {
  assert.throws(() => validateRestartPolicy({ Name: 'sometimes' as never }), /unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/);
  assert.throws(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), /cannot be negative/);
  validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 });
  // dockerd's words for a negative count with another policy, and an empty name passes as it does there.
  assert.throws(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: -1 }), /^EngineError: invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative$/);
  validateRestartPolicy({ Name: '', MaximumRetryCount: 3 });
});

test('the runtime update document carries only what the request sets (toContainerdResources)', () => {
  assert.deepEqual(toOciUpdateResources({ Memory: 64 * MB }), { memory: { limit: 64 * MB } });
  assert.deepEqual(toOciUpdateResources({ NanoCpus: 5e8, CpuPeriod: 0 }), { cpu: { period: 100000, quota: 50000 } });
  assert.deepEqual(toOciUpdateResources({ CpuQuota: 20000, CpusetCpus: '1', PidsLimit: 0, BlkioWeight: 300 }),
    { blockIO: { weight: 300 }, cpu: { cpus: '1', quota: 20000 }, pids: { limit: -1 } });
  assert.deepEqual(toOciUpdateResources({ MemorySwap: -1 }), {});
});
