import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as api from '../../../api/types/index.ts';
import { cpuPercent, memUsageNoCache, renderStats, toEntry } from './stats.ts';

const cpu = (total: number, system: number): api.CpuStats => ({
  cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: system, online_cpus: 2,
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const frame: api.StatsResponse = {
  name: '/web', id: 'a'.repeat(64), read: '', preread: '', pids_stats: { current: 3 },
  blkio_stats: {
    io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 1500 }, { major: 8, minor: 0, op: 'Write', value: 2_500_000 }, { major: 8, minor: 0, op: 'Total', value: 2_501_500 }],
    io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
    io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  },
  num_procs: 0, storage_stats: {}, precpu_stats: cpu(1e9, 100e9), cpu_stats: cpu(1.5e9, 102e9),
  memory_stats: { usage: 10 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024 } },
  networks: { eth0: { rx_bytes: 1428, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: 516, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
};

test("docker's calculations: CPU % over the system delta times CPUs, memory without inactive file pages", () => {
  assert.equal(cpuPercent(cpu(1e9, 100e9), cpu(1.5e9, 102e9)), 50);
  assert.equal(cpuPercent(cpu(0, 0), cpu(0, 0)), 0);
  assert.equal(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 40 } }), 60);
  assert.equal(memUsageNoCache({ usage: 100, stats: { inactive_file: 30 } }), 70);
  assert.equal(memUsageNoCache({ usage: 100, stats: { inactive_file: 300 } }), 100);
});

test('the default table as docker prints it', () => {
  const out = renderStats([toEntry('web', frame)], undefined, true);
  assert.equal(out, [
    'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O         BLOCK I/O       PIDS',
    'aaaaaaaaaaaa   web       50.00%    8MiB / 64MiB        12.50%    1.43kB / 516B   1.5kB / 2.5MB   3',
    '',
  ].join('\n'));
  assert.equal(renderStats([toEntry('web', frame)], '{{.Container}} {{.Name}} {{.MemPerc}}', false), 'web web 12.50%\n');
  assert.match(renderStats([{ ...toEntry('x', frame), invalid: true }], 'table {{.CPUPerc}}\t{{.MemUsage}}', true), /--\s+-- \/ --/);
});
