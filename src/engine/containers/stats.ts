import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../lib/errors.ts';
import { readCgroupStats, type CgroupLayout } from '../../runtime/cgroups/index.ts';
import { readNetworkStats, readSystemCpu } from '../../runtime/proc-stats.ts';
import type { ContainerStats, StatsSample } from '../contracts/containers.ts';
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


/**
 * Container resource statistics, read from the container's cgroup (v1 or v2),
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

  /** One sample; `cpuOnly` for a CPU baseline. Null for a container that is not running (or has no cgroup left). */
  async sample(c: ContainerRecord, opts: { cpuOnly?: boolean } = {}): Promise<StatsSample | null> {
    if (!this.deps.containers.isRunning(c.id) || c.state.status === 'restarting' || c.state.pid <= 0) return null;
    const netHost = c.hostConfig.NetworkMode === 'host';
    const [cg, sys, net] = await Promise.all([
      readCgroupStats(cgroupPathOf(c.hostConfig, c.id, this.deps.cgroupParent), this.deps.cgroupLayout, this.deps.machineMemory, opts),
      this.#systemCpu(),
      netHost || c.hostConfig.NetworkMode === 'none' || opts.cpuOnly ? Promise.resolve(null) : readNetworkStats(c.state.pid),
    ]);
    if (!cg) return null;
    const out: StatsSample = {
      readAt: new Date().toISOString(), cpu: { ...cg.cpu, system_cpu_usage: sys.systemUsage, online_cpus: sys.onlineCpus },
      memory: cg.memory, pids: cg.pids, blkio: cg.blkio,
    };
    if (net && Object.keys(net).length) out.networks = net;
    return out;
  }

  /**
   * The frames of GET /containers/{id}/stats. `oneShot`: one sample, no baseline. Otherwise the
   * first frame comes after a short priming read so its `previous` is real (dockerd waits for its
   * collector's next tick for the same reason); `stream` then goes on once per interval until the
   * container is removed or `signal` aborts. A stopped container streams empty frames, as dockerd's
   * collector publishes them. Throws NotFound, or InvalidParameter for stream with one-shot.
   */
  async *frames(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<ContainerStats> {
    if (opts.stream && opts.oneShot) throw new EngineError('InvalidParameter', 'cannot have stream=true and one-shot=true');
    const c0 = this.deps.containers.resolve(ref);
    const running = this.deps.containers.isRunning(c0.id) && c0.state.status !== 'restarting';
    if (!running && !opts.stream) { yield statsFrame(c0, null, null); return; }
    if (opts.oneShot) { yield statsFrame(c0, await this.sample(c0), null); return; }
    const interval = this.deps.intervalMs ?? 1000;
    // The baseline needs only the CPU counters: half the reads for `stats --no-stream`.
    let prev = await this.sample(c0, { cpuOnly: true });
    await sleepUnlessAborted(this.deps.primeMs ?? 500, opts.signal);
    while (!opts.signal?.aborted) {
      const c = this.deps.containers.repo.get(c0.id);
      if (!c) return;
      const cur = await this.sample(c);
      yield statsFrame(c, cur, prev);
      if (!opts.stream) return;
      prev = cur;
      await sleepUnlessAborted(interval, opts.signal);
    }
  }
}

/** A frame under the container's current name; `previous` only beside a sample. */
function statsFrame(c: Pick<ContainerRecord, 'id' | 'name'>, sample: StatsSample | null, prev: StatsSample | null): ContainerStats {
  return { id: c.id, name: c.name, sample, previous: sample && prev ? { readAt: prev.readAt, cpu: prev.cpu } : null };
}

/** Waits `ms`, or less when `signal` aborts (the stream's client went): an abort ends the wait, nothing else. */
async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
