import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as api from '../types/index.ts';
import type { StatsSample } from '../../engine/index.ts';
import { toApiStats } from './stats-views.ts';

const id = 'c'.repeat(64);
const cpu = (total: number): api.CpuStats => ({
  cpu_usage: { total_usage: total, usage_in_kernelmode: 1, usage_in_usermode: 2 }, system_cpu_usage: 900, online_cpus: 2,
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});
const sample: StatsSample = {
  readAt: '2026-12-07T21:00:01.000Z', cpu: cpu(20), memory: { usage: 4096, stats: { anon: 1 }, limit: 8192 }, pids: { current: 1, limit: 10 },
  blkio: {
    io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 1 }], io_serviced_recursive: null, io_queue_recursive: null,
    io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  },
};

const ZERO = '0001-01-01T00:00:00Z';
const zeroCpu = '{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}}';
const noBlkio = '{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,'
  + '"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null}';

test('stats of a container that is not running: name and ID, Go zero values elsewhere (dockerd\'s bytes)', () => {
  assert.equal(JSON.stringify(toApiStats({ id, name: 'web', sample: null, previous: null })),
    `{"name":"/web","id":"${id}","read":"${ZERO}","preread":"${ZERO}","pids_stats":{},"blkio_stats":${noBlkio},"num_procs":0,`
    + `"storage_stats":{},"cpu_stats":${zeroCpu},"precpu_stats":${zeroCpu},"memory_stats":{}}`);
});

test('stats frame: the sample in dockerd\'s order, the previous CPU as precpu_stats, networks last', () => {
  const previous = { readAt: '2026-12-07T21:00:00.000Z', cpu: cpu(10) };
  const out = JSON.stringify(toApiStats({ id, name: 'web', sample: { ...sample, networks: { eth0: { rx_bytes: 1, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 2, tx_packets: 2, tx_errors: 0, tx_dropped: 0 } } }, previous }));
  assert.equal(out,
    `{"name":"/web","id":"${id}","read":"2026-12-07T21:00:01.000Z","preread":"2026-12-07T21:00:00.000Z","pids_stats":{"current":1,"limit":10},`
    + `"blkio_stats":{"io_service_bytes_recursive":[{"major":8,"minor":0,"op":"read","value":1}],"io_serviced_recursive":null,"io_queue_recursive":null,`
    + `"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},`
    + `"num_procs":0,"storage_stats":{},"cpu_stats":${JSON.stringify(cpu(20))},"precpu_stats":${JSON.stringify(cpu(10))},`
    + `"memory_stats":{"usage":4096,"stats":{"anon":1},"limit":8192},"networks":{"eth0":{"rx_bytes":1,"rx_packets":1,"rx_errors":0,"rx_dropped":0,"tx_bytes":2,"tx_packets":2,"tx_errors":0,"tx_dropped":0}}}`);
});

test('stats frame without a previous sample (one-shot): precpu_stats and preread are zero', () => {
  const out = toApiStats({ id, name: 'web', sample, previous: null });
  assert.equal(out.preread, ZERO);
  assert.equal(JSON.stringify(out.precpu_stats), zeroCpu);
  assert.ok(!('networks' in out));
});
