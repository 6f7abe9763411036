import type * as api from '../../../api/types/index.ts';
import { ApiError } from '../../../client/client.ts';
import type { CommandSpec, FlagSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, int, str } from '../../context.ts';
import { parseBytes } from '../../../lib/units.ts';
import { FlagError } from '../../args/spec.ts';
import { CREATE_FLAG_CHECKS } from './run-flag-checks.ts';

export const updateSpec: CommandSpec = {
  name: 'update', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Update configuration of one or more containers',
  aliases: ['container update'], minArgs: 1,
  flags: ([
    { name: 'blkio-weight', kind: 'int', description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', valueName: 'uint16' },
    { name: 'cpu-period', kind: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', kind: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', kind: 'int', description: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', kind: 'int', description: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', kind: 'int', description: 'CPU shares (relative weight)' },
    { name: 'cpus', kind: 'string', description: 'Number of CPUs', valueName: 'decimal' },
    { name: 'cpuset-cpus', kind: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', kind: 'string', description: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'kernel-memory', kind: 'string', description: 'Kernel memory limit (deprecated)', valueName: 'bytes', hidden: true },
    { name: 'memory', short: 'm', kind: 'string', description: 'Memory limit', valueName: 'bytes' },
    { name: 'memory-reservation', kind: 'string', description: 'Memory soft limit', valueName: 'bytes' },
    { name: 'memory-swap', kind: 'string', description: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', valueName: 'bytes' },
    { name: 'pids-limit', kind: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', kind: 'string', description: 'Restart policy to apply when a container exits' },
  ] satisfies FlagSpec[]).map((f: FlagSpec): FlagSpec => (CREATE_FLAG_CHECKS[f.name] ? { ...f, check: CREATE_FLAG_CHECKS[f.name] } : f)),
};

const flagBytes = (f: Flags, name: string, allowUnlimited = false): number | undefined => {
  const v = str(f, name);
  if (v === undefined) return undefined;
  if (allowUnlimited && v === '-1') return -1;
  try { return parseBytes(v); } catch (err) { throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--${name}" flag: ${(err as Error).message}`); }
};

/** docker's opts.ParseRestartPolicy: the name is left for the daemon to check. */
function parseRestartPolicy(v: string): api.RestartPolicy {
  const i = v.indexOf(':');
  const [name, count] = i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
  if (i >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
  return { Name: name as api.RestartPolicy['Name'], MaximumRetryCount: count === '' ? 0 : Number(count) };
}

/** The update request from the flags, as docker CLI 28 builds it (zero means "leave as is"). */
export function updateBody(f: Flags): api.ContainerUpdateBody {
  const cpus = str(f, 'cpus');
  let nano = 0;
  if (cpus !== undefined) {
    const n = Number(cpus);
    if (!Number.isFinite(n) || cpus.trim() === '') throw new FlagError(`invalid argument ${JSON.stringify(cpus)} for "--cpus" flag: failed to parse ${cpus} as a rational number`);
    nano = Math.round(n * 1e9);
  }
  const pids = int(f, 'pids-limit') ?? 0;
  const restart = str(f, 'restart');
  return {
    BlkioWeight: int(f, 'blkio-weight') ?? 0, CpusetCpus: str(f, 'cpuset-cpus') ?? '', CpusetMems: str(f, 'cpuset-mems') ?? '',
    CpuShares: int(f, 'cpu-shares') ?? 0, Memory: flagBytes(f, 'memory') ?? 0, MemoryReservation: flagBytes(f, 'memory-reservation') ?? 0,
    MemorySwap: flagBytes(f, 'memory-swap', true) ?? 0, KernelMemory: flagBytes(f, 'kernel-memory') ?? 0,
    CpuPeriod: int(f, 'cpu-period') ?? 0, CpuQuota: int(f, 'cpu-quota') ?? 0, CpuRealtimePeriod: int(f, 'cpu-rt-period') ?? 0,
    CpuRealtimeRuntime: int(f, 'cpu-rt-runtime') ?? 0, NanoCpus: nano,
    ...(pids !== 0 ? { PidsLimit: pids } : {}),
    RestartPolicy: restart ? parseRestartPolicy(restart) : { Name: '', MaximumRetryCount: 0 },
  };
}

/**
 * `berth update`: each container's name as given on success, then the daemon's warnings; the
 * errors together at the end (exit 1), as docker prints them.
 */
export async function update(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  if (Object.keys(f).length === 0) throw new ExitError(1, 'you must provide one or more flags when using this command');
  let body: api.ContainerUpdateBody;
  try { body = updateBody(f); } catch (err) {
    if (err instanceof FlagError) throw err;
    throw new ExitError(1, (err as Error).message);
  }
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const ref of args) {
    try {
      const r = await ctx.client.json<api.ContainerUpdateResponse>('POST', `/containers/${encodeURIComponent(ref)}/update`, { body });
      ctx.stdout.write(`${ref}\n`);
      warnings.push(...(r.Warnings ?? []));
    } catch (err) {
      errors.push(`Error response from daemon: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  }
  if (warnings.length) ctx.stdout.write(`${warnings.join('\n')}\n`);
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}
