import type * as api from '../types/index.ts';
import type { ContainerStats } from '../../engine/index.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';

/** Go's zero CPUStats, as dockerd sends precpu_stats with nothing to compare against. */
const zeroCpu = (): api.CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const noBlkio = (): api.BlkioStats => ({
  io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
});

/**
 * One frame of GET /containers/{id}/stats, keys in dockerd's order. Without a sample (the
 * container is not running) only name and ID are set and every other field is Go's zero value,
 * as dockerd sends it; precpu_stats and preread are zero without a previous sample.
 */
export function toApiStats(s: ContainerStats): api.StatsResponse {
  const { sample, previous } = s;
  const out: api.StatsResponse = {
    name: `/${s.name}`, id: s.id, read: sample?.readAt ?? ZERO_TIME, preread: (sample && previous?.readAt) || ZERO_TIME,
    pids_stats: sample?.pids ?? {}, blkio_stats: sample?.blkio ?? noBlkio(), num_procs: 0, storage_stats: {},
    cpu_stats: sample?.cpu ?? zeroCpu(), precpu_stats: (sample && previous?.cpu) || zeroCpu(), memory_stats: sample?.memory ?? {},
  };
  if (sample?.networks) out.networks = sample.networks;
  return out;
}
