import { setTimeout as sleep } from 'node:timers/promises';
import type { CpuStats, StatsResponse } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import { readCgroupStats, type CgroupLayout } from '../../runtime/cgroups/index.ts';
import { readNetworkStats, readSystemCpu } from '../../runtime/proc-stats.ts';
import type { ContainerRecord } from './record.ts';
import { cgroupPathOf } from './resource-devices.ts';
import type { ContainerService } from './service.ts';

export interface StatsDeps {
  containers: Pick<ContainerService, 'resolve' | 'isRunning' | 'repo'>;
  /** The daemon's cgroup parent ("/berth-x"). */
  cgroupParent: string;
  cgroupLayout: CgroupLayout;
  /** Host memory: a larger (or no) limit is reported as this, as dockerd does. */
  machineMemory: number;
  /** Between frames of a stream (dockerd's collector: 1 s). */
  intervalMs?: number;
  /** How long before the first frame its CPU baseline is read (so CPU % means something at once). */
  primeMs?: number;
}


/** Go's zero CPUStats, as dockerd sends precpu_stats with nothing to compare against. */
const zeroCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** dockerd's stats for a container that is not running: only name and ID, every other field zero. */
export function emptyStats(c: Pick<ContainerRecord, 'id' | 'name'>): StatsResponse {
  return {
    name: `/${c.name}`, id: c.id, read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
      io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0, storage_stats: {}, cpu_stats: zeroCpu(), precpu_stats: zeroCpu(), memory_stats: {},
  };
}

/**
 * Container resource statistics in Docker's shape, read from the container's cgroup (v1 or v2),
 * /proc/stat and the container's /proc/PID/net/dev: plain file reads in parallel, no process
 * spawned, so `stats --no-stream` over many containers costs one short read each.
 */
export class ContainerStatsReader {
  #system: { at: number; value: ReturnType<typeof readSystemCpu> } | undefined;

  constructor(private readonly deps: StatsDeps) {}

  /** /proc/stat, shared by the samples of the same few milliseconds (many containers at once). */
  #systemCpu(): ReturnType<typeof readSystemCpu> {
    const now = performance.now();
    if (!this.#system || now - this.#system.at > 10) this.#system = { at: now, value: readSystemCpu() };
    return this.#system.value;
  }

  /** One sample with no previous one (precpu zero); `cpuOnly` for a CPU baseline. A stopped container gives emptyStats. */
  async sample(c: ContainerRecord, opts: { cpuOnly?: boolean } = {}): Promise<StatsResponse> {
    if (!this.deps.containers.isRunning(c.id) || c.state.status === 'restarting' || c.state.pid <= 0) return emptyStats(c);
    const netHost = c.hostConfig.NetworkMode === 'host';
    const [cg, sys, net] = await Promise.all([
      readCgroupStats(cgroupPathOf(c.hostConfig, c.id, this.deps.cgroupParent), this.deps.cgroupLayout, this.deps.machineMemory, opts),
      this.#systemCpu(),
      netHost || c.hostConfig.NetworkMode === 'none' || opts.cpuOnly ? Promise.resolve(null) : readNetworkStats(c.state.pid),
    ]);
    if (!cg) return emptyStats(c);
    const out: StatsResponse = {
      ...emptyStats(c), read: new Date().toISOString(), pids_stats: cg.pids, blkio_stats: cg.blkio,
      cpu_stats: { ...cg.cpu, system_cpu_usage: sys.systemUsage, online_cpus: sys.onlineCpus }, memory_stats: cg.memory,
    };
    if (net && Object.keys(net).length) out.networks = net;
    return out;
  }

  /**
   * The frames of GET /containers/{id}/stats. `oneShot`: one sample, no baseline. Otherwise the
   * first frame comes after a short priming read so its precpu_stats is real (dockerd waits for its
   * collector's next tick for the same reason); `stream` then goes on once per interval until the
   * container is removed or `signal` aborts. A stopped container streams empty frames, as dockerd's
   * collector publishes them. Throws NotFound, or InvalidParameter for stream with one-shot.
   */
  async *frames(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<StatsResponse> {
    if (opts.stream && opts.oneShot) throw new EngineError('InvalidParameter', 'cannot have stream=true and one-shot=true');
    const c0 = this.deps.containers.resolve(ref);
    const running = this.deps.containers.isRunning(c0.id) && c0.state.status !== 'restarting';
    if (!running && !opts.stream) { yield emptyStats(c0); return; }
    if (opts.oneShot) { yield await this.sample(c0); return; }
    const interval = this.deps.intervalMs ?? 1000;
    // The baseline needs only the CPU counters: half the reads for `stats --no-stream`.
    let prev = await this.sample(c0, { cpuOnly: true });
    await sleepUnlessAborted(this.deps.primeMs ?? 500, opts.signal);
    while (!opts.signal?.aborted) {
      const c = this.deps.containers.repo.get(c0.id);
      if (!c) return;
      const cur = await this.sample(c);
      const frame = cur.read === ZERO_TIME ? cur : { ...cur, precpu_stats: prev.cpu_stats, preread: prev.read };
      yield frame;
      if (!opts.stream) return;
      prev = cur;
      await sleepUnlessAborted(interval, opts.signal);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (the stream's client went): an abort ends the wait, nothing else. */
async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
