import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { HostConfig, Resources } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { detectCgroups } from '../../runtime/cgroups/host.ts';
import { MIN_MEMORY } from '../../runtime/spec/resources.ts';

/** What the host offers, as dockerd's sysinfo sees it; read once by hostResources(). */
export interface HostResources {
  /** CPUs this process may use (Go's runtime.NumCPU). */
  ncpu: number;
  /** The cgroup root's cpuset, e.g. "0-1". */
  cpus: string;
  /** The cgroup root's memory nodes, e.g. "0". */
  mems: string;
  cgroupVersion: 1 | 2;
  /** Whether a kernel memory limit is enforced: never on v2, nor on v1 since Linux 5.16 (writes are ignored). */
  kernelMemory: boolean;
  /** Whether the kernel's real-time group scheduler can be configured (cgroup v1 cpu.rt_runtime_us; never on v2). */
  cpuRealtime?: boolean;
  /** Block I/O controls the kernel offers (v1: blkio.weight needs CFQ, absent with BFQ/none schedulers). */
  blkio: { weight: boolean; weightDevice: boolean; readBps: boolean; writeBps: boolean; readIOps: boolean; writeIOps: boolean };
}

const MAX_CPUS = 8192;

const invalid = (msg: string) => new EngineError('InvalidParameter', msg);

/**
 * Checks the resource settings of a create (or, with `update`, an update) as dockerd's
 * verifyPlatformContainerResources does, with its messages, and adapts them as dockerd does:
 * MemorySwappiness -1 becomes unset, a kernel memory limit is discarded with a warning, and on
 * create a memory limit without swap gets MemorySwap = 2 × Memory (what `inspect` then shows).
 * Mutates `r`; returns the warnings. Throws InvalidParameter.
 */
export function validateResources(r: Resources & Pick<HostConfig, 'OomScoreAdj' | 'CgroupnsMode'>, host: HostResources, opts: { update?: boolean } = {}): string[] {
  const warnings: string[] = [];
  const update = opts.update ?? false;
  checkMemory(r, host, update, warnings);
  checkCpu(r, host, warnings);
  checkCpuset(r.CpusetCpus ?? '', host.cpus, 'cpus', (want, have) => `Requested CPUs are not available - requested ${want}, available: ${have}`);
  checkCpuset(r.CpusetMems ?? '', host.mems, 'mems', (want, have) => `Requested memory nodes are not available - requested ${want}, available: ${have}`);
  checkBlkio(r, host, warnings);
  if ((r.IOMaximumBandwidth ?? 0) !== 0 || (r.IOMaximumIOps ?? 0) !== 0) {
    throw invalid('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  if (!update) {
    const adj = r.OomScoreAdj ?? 0;
    if (adj < -1000 || adj > 1000) throw invalid(`Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
    if (r.CgroupnsMode && !['private', 'host'].includes(r.CgroupnsMode)) throw invalid(`invalid cgroup namespace mode: ${r.CgroupnsMode}`);
    // adaptContainerSettings: the default swap is twice the memory limit, and inspect shows it.
    if ((r.Memory ?? 0) > 0 && (r.MemorySwap ?? 0) === 0) r.MemorySwap = r.Memory! * 2;
  }
  return warnings;
}

/** The memory settings (dockerd's verifyPlatformContainerResources, memory part). */
function checkMemory(r: Resources, host: HostResources, update: boolean, warnings: string[]): void {
  if (r.MemorySwappiness === -1) r.MemorySwappiness = null;
  const memory = r.Memory ?? 0;
  const swap = r.MemorySwap ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !update) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null) {
    if (host.cgroupVersion === 2) {
      warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
      r.MemorySwappiness = null;
    } else if (r.MemorySwappiness < 0 || r.MemorySwappiness > 100) {
      throw invalid(`Invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
    }
  }
  const reservation = r.MemoryReservation ?? 0;
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  if ((r.KernelMemory ?? 0) > 0) {
    if (!host.kernelMemory) {
      warnings.push('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
      r.KernelMemory = 0;
    } else if (r.KernelMemory! < MIN_MEMORY) {
      throw invalid('Minimum kernel memory limit allowed is 6MB');
    }
  }
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null && host.cgroupVersion === 2) {
    if (r.OomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = null;
  }
  if (r.OomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
}

/** The CPU settings: NanoCpus against the host's CPUs, CFS period and quota, real-time, Windows-only fields dropped. */
function checkCpu(r: Resources, host: HostResources, warnings: string[]): void {
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  // dockerd 27.4+ words it in lower case (earlier: "Range of CPUs ...").
  if (nano !== 0 && (nano < 0 || nano > host.ncpu * 1e9)) {
    throw invalid(`range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  }
  if ((r.CpuShares ?? 0) < 0) throw invalid(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((r.CpuPercent ?? 0) > 0) {
    warnings.push('linux does not support CPU percent. Percent discarded.');
    r.CpuPercent = 0;
  }
  if ((r.CpuCount ?? 0) > 0) {
    warnings.push('linux does not support CPU count. Count discarded.');
    r.CpuCount = 0;
  }
  const rtPeriod = r.CpuRealtimePeriod ?? 0;
  const rtRuntime = r.CpuRealtimeRuntime ?? 0;
  if (rtPeriod !== 0 && rtRuntime !== 0 && rtRuntime > rtPeriod) throw invalid('cpu-rt-runtime cannot be higher than cpu-rt-period');
}

/** Block I/O: weights in range, and what the kernel does not offer discarded with dockerd's warnings. */
function checkBlkio(r: Resources, host: HostResources, warnings: string[]): void {
  const discard = <K extends 'BlkioWeightDevice' | 'BlkioDeviceReadBps' | 'BlkioDeviceWriteBps' | 'BlkioDeviceReadIOps' | 'BlkioDeviceWriteIOps'>(
    key: K, supported: boolean, warning: string) => {
    if ((r[key]?.length ?? 0) > 0 && !supported) { warnings.push(warning); r[key] = []; }
  };
  if ((r.BlkioWeight ?? 0) > 0 && !host.blkio.weight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
  for (const d of r.BlkioWeightDevice ?? []) {
    if (d.Weight > 0 && (d.Weight < 10 || d.Weight > 1000)) throw invalid(`invalid weight for device: ${d.Path}:${d.Weight}`);
  }
  discard('BlkioWeightDevice', host.blkio.weightDevice, 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
  discard('BlkioDeviceReadBps', host.blkio.readBps, 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.');
  discard('BlkioDeviceWriteBps', host.blkio.writeBps, 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.');
  discard('BlkioDeviceReadIOps', host.blkio.readIOps, 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.');
  discard('BlkioDeviceWriteIOps', host.blkio.writeIOps, 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.');
}

function checkCpuset(requested: string, available: string, what: 'cpus' | 'mems', unavailable: (want: string, have: string) => string): void {
  if (!requested) return;
  const have = parseUintList(available, 0);
  let max = MAX_CPUS;
  for (const n of have) max = Math.max(max, n);
  let want: Set<number>;
  try {
    want = parseUintList(requested, max);
  } catch (err) {
    throw invalid(`Invalid value ${requested} for cpuset ${what}: ${(err as Error).message}`);
  }
  for (const n of want) if (!have.has(n)) throw invalid(unavailable(requested, available));
}

/** A cpuset list ("0-3,5"), as moby's parseUintList reads it. Throws Error with its wording. */
export function parseUintList(val: string, maximum: number): Set<number> {
  const out = new Set<number>();
  if (val === '') return out;
  const bad = () => new Error(`invalid format: ${val}`);
  const num = (s: string): number => {
    if (!/^[+-]?\d+$/.test(s)) throw bad();
    return Number(s);
  };
  for (const part of val.split(',')) {
    const dash = part.indexOf('-', 1);
    const [lo, hi] = dash < 0 ? [num(part), num(part)] : [num(part.slice(0, dash)), num(part.slice(dash + 1))];
    if (hi < lo) throw bad();
    if (maximum !== 0 && hi > maximum) throw new Error(`value of out range, maximum is ${maximum}`);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

let cached: HostResources | undefined;

/** The host's resources, read once (CPU and memory-node sets of the cgroup root, cgroup version). */
export function hostResources(): HostResources {
  if (cached) return cached;
  const read = (p: string): string | undefined => { try { return readFileSync(p, 'utf8').trim(); } catch { return undefined; } };
  let version: 1 | 2 = 1;
  try { version = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8')).version === 2 ? 2 : 1; } catch { /* v1 */ }
  const cpus = (version === 2 ? read('/sys/fs/cgroup/cpuset.cpus.effective') : read('/sys/fs/cgroup/cpuset/cpuset.cpus'))
    ?? read('/sys/devices/system/cpu/online') ?? '0';
  const mems = (version === 2 ? read('/sys/fs/cgroup/cpuset.mems.effective') : read('/sys/fs/cgroup/cpuset/cpuset.mems'))
    ?? read('/sys/devices/system/node/online') ?? '0';
  const has = (p: string) => existsSync(p);
  const io = version === 2 ? read('/sys/fs/cgroup/cgroup.controllers')?.split(/\s+/).includes('io') ?? false : false;
  const b = (file: string) => (version === 2 ? io : has(`/sys/fs/cgroup/blkio/${file}`));
  const blkio = {
    weight: b('blkio.weight'), weightDevice: b('blkio.weight_device'), readBps: b('blkio.throttle.read_bps_device'),
    writeBps: b('blkio.throttle.write_bps_device'), readIOps: b('blkio.throttle.read_iops_device'), writeIOps: b('blkio.throttle.write_iops_device'),
  };
  const cpuRealtime = version === 1 && (has('/sys/fs/cgroup/cpu/cpu.rt_runtime_us') || has('/sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us'));
  cached = { ncpu: availableParallelism(), cpus, mems, cgroupVersion: version, kernelMemory: false, cpuRealtime, blkio };
  return cached;
}
