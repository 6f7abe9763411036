import type { Resources } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import type { OciResources, OciThrottleDevice } from './types.ts';

/** Resource fields buildSpec reads; Docker's HostConfig names, so the engine passes HostConfig as is. */
export type ResourceInput = Pick<Resources,
  'Memory' | 'MemoryReservation' | 'MemorySwap' | 'MemorySwappiness' | 'OomKillDisable' | 'CpuShares'
  | 'CpuQuota' | 'CpuPeriod' | 'NanoCpus' | 'CpuRealtimePeriod' | 'CpuRealtimeRuntime' | 'CpusetCpus'
  | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'>;

/**
 * The block-device settings with their device numbers: the engine stats each `Path` of
 * BlkioWeightDevice and BlkioDevice{Read,Write}{Bps,IOps} (dockerd does it when it builds the spec).
 */
export interface BlkioDevices {
  weightDevice?: { major: number; minor: number; weight: number }[];
  readBps?: OciThrottleDevice[];
  writeBps?: OciThrottleDevice[];
  readIOps?: OciThrottleDevice[];
  writeIOps?: OciThrottleDevice[];
}

const invalid = (msg: string) => new EngineError('InvalidParameter', msg);
/** The smallest memory limit (and reservation, kernel memory) dockerd accepts: linuxMinMemory, 6 MiB. */
export const MIN_MEMORY = 6 * 1024 * 1024;
const DEFAULT_CFS_PERIOD = 100_000;

/**
 * OCI linux.resources (without devices) from Docker's resource fields: only what is set (> 0, or
 * non-null) is written. Memory with no MemorySwap gets swap = 2 × memory, as dockerd does;
 * MemorySwap -1 is unlimited. NanoCpus becomes a CFS quota over a 100 ms period. PidsLimit ≤ 0
 * means unlimited, Docker's convention, and is left out (crun 1.8 writes -1 verbatim to
 * pids.max, which the kernel refuses). Kernel memory is never passed: no runtime or current
 * kernel enforces it (the engine has already warned).
 * Pure. Throws InvalidParameter with Docker's wording for out-of-range or conflicting values (the
 * engine checks them at create; this is the backstop for records made before).
 */
export function toOciResources(r: ResourceInput, blkio: BlkioDevices = {}): Omit<OciResources, 'devices'> {
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
    cpu.quota = Math.trunc((r.NanoCpus * DEFAULT_CFS_PERIOD) / 1e9);
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

  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };
  const blockIO: NonNullable<OciResources['blockIO']> = {};
  if (r.BlkioWeight && r.BlkioWeight > 0) {
    if (r.BlkioWeight < 10 || r.BlkioWeight > 1000) throw invalid('Range of blkio weight is from 10 to 1000');
    blockIO.weight = r.BlkioWeight;
  }
  if (blkio.weightDevice?.length) blockIO.weightDevice = blkio.weightDevice.map((d) => ({ ...d }));
  if (blkio.readBps?.length) blockIO.throttleReadBpsDevice = blkio.readBps.map((d) => ({ ...d }));
  if (blkio.writeBps?.length) blockIO.throttleWriteBpsDevice = blkio.writeBps.map((d) => ({ ...d }));
  if (blkio.readIOps?.length) blockIO.throttleReadIOPSDevice = blkio.readIOps.map((d) => ({ ...d }));
  if (blkio.writeIOps?.length) blockIO.throttleWriteIOPSDevice = blkio.writeIOps.map((d) => ({ ...d }));
  if (Object.keys(blockIO).length) out.blockIO = blockIO;
  return out;
}

/**
 * The resources document for `crun|runc update --resources FILE`, from the fields of an update
 * request as dockerd's toContainerdResources picks them: only what the request sets. NanoCpus
 * wins over CpuPeriod/CpuQuota. PidsLimit ≤ 0 asks for no limit (-1; see resetPidsLimit for
 * crun 1.8, which cannot write it). Pure.
 */
export function toOciUpdateResources(r: Resources): Omit<OciResources, 'devices'> {
  const out: Omit<OciResources, 'devices'> = {};
  if (r.BlkioWeight) out.blockIO = { weight: r.BlkioWeight };
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (r.CpuShares) cpu.shares = r.CpuShares;
  let period = 0;
  let quota = 0;
  if (r.NanoCpus) {
    period = DEFAULT_CFS_PERIOD;
    quota = Math.trunc((r.NanoCpus * period) / 1e9);
  }
  if (quota === 0 && r.CpuQuota) quota = r.CpuQuota;
  if (period === 0 && r.CpuPeriod) period = r.CpuPeriod;
  if (period) cpu.period = period;
  if (quota) cpu.quota = quota;
  if (Object.keys(cpu).length) out.cpu = cpu;
  const memory: NonNullable<OciResources['memory']> = {};
  if (r.Memory) memory.limit = r.Memory;
  if (r.MemoryReservation) memory.reservation = r.MemoryReservation;
  if (r.MemorySwap && r.MemorySwap > 0) memory.swap = r.MemorySwap;
  if (Object.keys(memory).length) out.memory = memory;
  if (r.PidsLimit !== undefined && r.PidsLimit !== null) out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : -1 };
  return out;
}
