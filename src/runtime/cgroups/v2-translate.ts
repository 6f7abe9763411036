import type { OciResources } from '../spec/types.ts';

/** crun's and runc's mapping of v1 cpu.shares (2..262144) onto v2 cpu.weight (1..10000). */
export const sharesToWeight = (shares: number): number => (shares === 0 ? 0 : 1 + Math.trunc(((shares - 2) * 9999) / 262142));

/** crun's mapping of blkio weight (10..1000) onto io.weight (1..10000), used when io.bfq.weight is absent. */
export const blkioWeightToIoWeight = (w: number): number => 1 + Math.trunc(((w - 10) * 9999) / 990);

/**
 * The files (and their contents) the OCI runtime writes in a container's cgroup for `res` on a
 * cgroup v1 host, keyed `controller/file`. Only what `res` sets. Pure; used to check that a
 * container's limits reached the kernel.
 */
export function cgroupV1Files(res: Omit<OciResources, 'devices'>): Record<string, string> {
  const out: Record<string, string> = {};
  const m = res.memory;
  if (m?.limit !== undefined) out['memory/memory.limit_in_bytes'] = String(m.limit);
  if (m?.swap !== undefined && m.swap > 0) out['memory/memory.memsw.limit_in_bytes'] = String(m.swap);
  if (m?.reservation !== undefined) out['memory/memory.soft_limit_in_bytes'] = String(m.reservation);
  if (m?.swappiness !== undefined) out['memory/memory.swappiness'] = String(m.swappiness);
  const c = res.cpu;
  if (c?.shares !== undefined) out['cpu/cpu.shares'] = String(c.shares);
  if (c?.period !== undefined) out['cpu/cpu.cfs_period_us'] = String(c.period);
  if (c?.quota !== undefined) out['cpu/cpu.cfs_quota_us'] = String(c.quota);
  if (c?.cpus) out['cpuset/cpuset.cpus'] = c.cpus;
  if (c?.mems) out['cpuset/cpuset.mems'] = c.mems;
  if (res.pids) out['pids/pids.max'] = res.pids.limit > 0 ? String(res.pids.limit) : 'max';
  const b = res.blockIO;
  const v1Throttle = (list: { major: number; minor: number; rate: number }[] | undefined) => list?.map((d) => `${d.major}:${d.minor} ${d.rate}`).join('\n');
  if (b?.weight !== undefined) out['blkio/blkio.weight'] = String(b.weight);
  const t = {
    'blkio/blkio.throttle.read_bps_device': v1Throttle(b?.throttleReadBpsDevice),
    'blkio/blkio.throttle.write_bps_device': v1Throttle(b?.throttleWriteBpsDevice),
    'blkio/blkio.throttle.read_iops_device': v1Throttle(b?.throttleReadIOPSDevice),
    'blkio/blkio.throttle.write_iops_device': v1Throttle(b?.throttleWriteIOPSDevice),
  };
  for (const [k, v] of Object.entries(t)) if (v) out[k] = v;
  return out;
}

/**
 * The same settings as the files crun and runc write on a cgroup v2 host: memory.max,
 * memory.low, memory.swap.max (v1's memory+swap minus memory; "max" for unlimited), cpu.max
 * ("QUOTA PERIOD", "max PERIOD" without a quota), cpu.weight from shares, cpuset.cpus/mems,
 * pids.max, io.weight and io.max ("MAJ:MIN rbps=.. wbps=.. riops=.. wiops=..", one line per
 * device). Pure.
 */
export function cgroupV2Files(res: Omit<OciResources, 'devices'>): Record<string, string> {
  const out: Record<string, string> = {};
  const m = res.memory;
  if (m?.limit !== undefined) out['memory.max'] = m.limit > 0 ? String(m.limit) : 'max';
  if (m?.reservation !== undefined) out['memory.low'] = String(m.reservation);
  if (m?.swap !== undefined) {
    if (m.swap === -1) out['memory.swap.max'] = 'max';
    else if (m.limit !== undefined && m.limit > 0) out['memory.swap.max'] = String(Math.max(0, m.swap - m.limit));
  }
  const c = res.cpu;
  if (c?.shares !== undefined) out['cpu.weight'] = String(sharesToWeight(c.shares));
  if (c?.quota !== undefined || c?.period !== undefined) {
    out['cpu.max'] = `${c.quota !== undefined && c.quota > 0 ? c.quota : 'max'} ${c.period ?? 100_000}`;
  }
  if (c?.cpus) out['cpuset.cpus'] = c.cpus;
  if (c?.mems) out['cpuset.mems'] = c.mems;
  if (res.pids) out['pids.max'] = res.pids.limit > 0 ? String(res.pids.limit) : 'max';
  const b = res.blockIO;
  if (b?.weight !== undefined) out['io.weight'] = `default ${blkioWeightToIoWeight(b.weight)}`;
  const io = new Map<string, string[]>();
  const add = (list: { major: number; minor: number; rate: number }[] | undefined, key: string) => {
    for (const d of list ?? []) {
      const dev = `${d.major}:${d.minor}`;
      io.set(dev, [...(io.get(dev) ?? []), `${key}=${d.rate}`]);
    }
  };
  add(b?.throttleReadBpsDevice, 'rbps');
  add(b?.throttleWriteBpsDevice, 'wbps');
  add(b?.throttleReadIOPSDevice, 'riops');
  add(b?.throttleWriteIOPSDevice, 'wiops');
  if (io.size) out['io.max'] = [...io].map(([dev, kv]) => `${dev} ${kv.join(' ')}`).join('\n');
  return out;
}
