import type { Resources } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import type { OciResources } from './types.ts';

/** Resource fields buildSpec reads; Docker's HostConfig names, so the engine passes HostConfig as is. */
export type ResourceInput = Pick<Resources,
  'Memory' | 'MemoryReservation' | 'MemorySwap' | 'MemorySwappiness' | 'OomKillDisable' | 'CpuShares'
  | 'CpuQuota' | 'CpuPeriod' | 'NanoCpus' | 'CpuRealtimePeriod' | 'CpuRealtimeRuntime' | 'CpusetCpus'
  | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'>;

const invalid = (msg: string) => new EngineError('InvalidParameter', msg);
const MIN_MEMORY = 6 * 1024 * 1024;
const DEFAULT_CFS_PERIOD = 100_000;

/**
 * OCI linux.resources (without devices) from Docker's resource fields: only what is set (> 0, or
 * non-null) is written. Memory with no MemorySwap gets swap = 2 × memory, as dockerd does;
 * MemorySwap -1 is unlimited. NanoCpus becomes a CFS quota over a 100 ms period. PidsLimit ≤ 0
 * means unlimited (-1), Docker's convention.
 * Pure. Throws InvalidParameter with Docker's wording for out-of-range or conflicting values.
 */
export function toOciResources(r: ResourceInput): Omit<OciResources, 'devices'> {
  const out: Omit<OciResources, 'devices'> = {};
  const memory: NonNullable<OciResources['memory']> = {};
  if (r.Memory && r.Memory > 0) {
    if (r.Memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
    memory.limit = r.Memory;
    const swap = r.MemorySwap ?? 0;
    if (swap === 0) memory.swap = r.Memory * 2;
    else if (swap === -1) memory.swap = -1;
    else if (swap < r.Memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
    else memory.swap = swap;
  } else if (r.MemorySwap && r.MemorySwap > 0) {
    throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.MemoryReservation && r.MemoryReservation > 0) {
    if (memory.limit !== undefined && r.MemoryReservation > memory.limit) {
      throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
    }
    memory.reservation = r.MemoryReservation;
  }
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness !== -1) {
    if (r.MemorySwappiness < 0 || r.MemorySwappiness > 100) {
      throw invalid(`Invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
    }
    memory.swappiness = r.MemorySwappiness;
  }
  if (r.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;

  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.CpuShares && r.CpuShares > 0) cpu.shares = r.CpuShares;
  if (r.NanoCpus && r.NanoCpus > 0) {
    if (r.CpuPeriod) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (r.CpuQuota) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    cpu.period = DEFAULT_CFS_PERIOD;
    cpu.quota = Math.round((r.NanoCpus * DEFAULT_CFS_PERIOD) / 1e9);
  }
  if (r.CpuPeriod && r.CpuPeriod > 0) {
    if (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    cpu.period = r.CpuPeriod;
  }
  if (r.CpuQuota && r.CpuQuota > 0) {
    if (r.CpuQuota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    cpu.quota = r.CpuQuota;
  }
  if (r.CpuRealtimePeriod && r.CpuRealtimePeriod > 0) cpu.realtimePeriod = r.CpuRealtimePeriod;
  if (r.CpuRealtimeRuntime && r.CpuRealtimeRuntime > 0) {
    if (cpu.realtimePeriod !== undefined && r.CpuRealtimeRuntime > cpu.realtimePeriod) {
      throw invalid('cpu-rt-runtime cannot be higher than cpu-rt-period');
    }
    cpu.realtimeRuntime = r.CpuRealtimeRuntime;
  }
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;

  // Unlimited is the default: crun 1.8 writes -1 verbatim to pids.max, which the kernel refuses.
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };
  if (r.BlkioWeight && r.BlkioWeight > 0) {
    if (r.BlkioWeight < 10 || r.BlkioWeight > 1000) throw invalid('Range of blkio weight is from 10 to 1000');
    out.blockIO = { weight: r.BlkioWeight };
  }
  return out;
}
