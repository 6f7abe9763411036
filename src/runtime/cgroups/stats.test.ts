import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlkioV1, parseIoStatV2, statsFromV1, statsFromV2 } from './stats.ts';

test('v1 files become dockerd statsV1 fields (ticks to ns, percpu, throttling, unlimited memory capped)', () => {
  const s = statsFromV1({
    usage: '5000000\n', usagePercpu: '1000000 4000000 \n', cpuacctStat: 'user 3\nsystem 2\n', cpuStat: 'nr_periods 10\nnr_throttled 4\nthrottled_time 777\n',
    memUsage: '2097152', memMax: '4194304', memLimit: '9223372036854771712', memFailcnt: '0',
    memStat: 'cache 10\nrss 20\ntotal_inactive_file 4096\nswap 0\n', pidsCurrent: '3', pidsMax: 'max',
    ioServiceBytes: '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n',
  }, 8 * 1024 ** 3);
  assert.deepEqual(s.cpu, {
    cpu_usage: { total_usage: 5000000, percpu_usage: [1000000, 4000000], usage_in_kernelmode: 20000000, usage_in_usermode: 30000000 },
    throttling_data: { periods: 10, throttled_periods: 4, throttled_time: 777 },
  });
  assert.equal(s.memory.usage, 2097152);
  assert.equal(s.memory.max_usage, 4194304);
  assert.equal(s.memory.limit, 8 * 1024 ** 3);
  assert.equal(s.memory.stats?.['total_inactive_file'], 4096);
  assert.equal(s.memory.stats?.['swap'], undefined, 'only the keys dockerd reports');
  assert.equal(Object.keys(s.memory.stats ?? {}).length, 32);
  assert.deepEqual(s.pids, { current: 3 });
  assert.deepEqual(s.blkio.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
  assert.deepEqual(s.blkio.io_queue_recursive, []);
});

test('v2 files become dockerd statsV2 fields (usec to ns, read/write entries, oom events as failcnt)', () => {
  const s = statsFromV2({
    cpuStat: 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 2\nnr_throttled 1\nthrottled_usec 40\n',
    memCurrent: '1048576\n', memMax: '67108864\n', memStat: 'anon 4096\ninactive_file 512\n', memEvents: 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
    pidsCurrent: '2\n', pidsMax: '50\n', ioStat: '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n',
  }, 8 * 1024 ** 3);
  assert.deepEqual(s.cpu.cpu_usage, { total_usage: 1500000, usage_in_kernelmode: 500000, usage_in_usermode: 1000000 });
  assert.deepEqual(s.cpu.throttling_data, { periods: 2, throttled_periods: 1, throttled_time: 40000 });
  assert.equal(s.memory.limit, 67108864);
  assert.equal(s.memory.failcnt, 1);
  assert.equal(s.memory.max_usage, undefined);
  assert.deepEqual(s.pids, { current: 2, limit: 50 });
  assert.deepEqual(s.blkio.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'read', value: 100 }, { major: 8, minor: 0, op: 'write', value: 200 }]);
  assert.equal(s.blkio.io_serviced_recursive, null);
  assert.equal(statsFromV2({ memMax: 'max\n' }, 1000).memory.limit, 1000, '"max" is the machine memory');
});

test('blkio and io.stat parsers skip totals and junk', () => {
  assert.deepEqual(parseBlkioV1('Total 0\n'), []);
  assert.deepEqual(parseIoStatV2(''), []);
});
