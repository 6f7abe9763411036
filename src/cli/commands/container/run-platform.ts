/**
 * The run/create flags docker 28 lists that berth passes through to the daemon unchanged: the
 * daemon answers them as a Linux dockerd does (Windows-only QoS refused, CPU count/percent
 * ignored with a warning, no GPU driver, storage options only where the filesystem allows them).
 */
import type * as api from '../../../api/types/index.ts';
import type { FlagSpec } from '../../args/spec.ts';
import { type Flags, int, list, str } from '../../context.ts';
import { parseBytes } from '../../../lib/units.ts';
import { FlagValueError } from './run-resources.ts';

export const PLATFORM_FLAGS: FlagSpec[] = [
  { name: 'annotation', kind: 'string[]', description: 'Add an annotation to the container (passed through to the OCI runtime)', valueName: 'map' },
  { name: 'cpu-count', kind: 'int', description: 'CPU count (Windows only)' },
  { name: 'cpu-percent', kind: 'int', description: 'CPU percent (Windows only)' },
  { name: 'disable-content-trust', kind: 'bool', description: 'Skip image verification', default: true },
  { name: 'gpus', kind: 'string', description: 'GPU devices to add to the container (\'all\' to pass all GPUs)', valueName: 'gpu-request' },
  { name: 'io-maxbandwidth', kind: 'string', description: 'Maximum IO bandwidth limit for the system drive (Windows only)', valueName: 'bytes' },
  { name: 'io-maxiops', kind: 'int', description: 'Maximum IOps limit for the system drive (Windows only)', valueName: 'uint' },
  { name: 'isolation', kind: 'string', description: 'Container isolation technology' },
  { name: 'storage-opt', kind: 'string[]', description: 'Storage driver options for the container', valueName: 'list' },
  { name: 'volume-driver', kind: 'string', description: 'Optional volume driver for the container' },
];

/** `key=value` pairs of a map flag; a bare key maps to '' (docker's MapOpts). */
function mapOf(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) { const i = v.indexOf('='); out[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1); }
  return out;
}

/** docker's GpuOpts: `all`, a count, or CSV of `count=`, `device=`, `driver=`, `capabilities=`, `options=`. */
export function parseGpus(value: string): api.DeviceRequest {
  const req: api.DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: [['gpu']], Options: {} };
  for (const field of value.split(',')) {
    const i = field.indexOf('=');
    const [key, val] = i < 0 ? ['count', field] : [field.slice(0, i), field.slice(i + 1)];
    if (key === 'count') {
      if (val === 'all') req.Count = -1;
      else if (/^\d+$/.test(val)) req.Count = Number(val);
      else throw new FlagValueError('gpus', value, `strconv.Atoi: parsing ${JSON.stringify(val)}: invalid syntax`);
    } else if (key === 'device') req.DeviceIDs = val.split(',');
    else if (key === 'driver') req.Driver = val;
    else if (key === 'capabilities') req.Capabilities = [val.split(',')];
    else if (key === 'options') req.Options = mapOf(val.split(','));
    else throw new FlagValueError('gpus', value, `unexpected key '${key}' in '${field}'`);
  }
  return req;
}

/** The HostConfig fields of PLATFORM_FLAGS, only those the user gave. */
export function platformHostConfig(f: Flags): Partial<api.HostConfig> {
  const storageOpt = list(f, 'storage-opt');
  for (const o of storageOpt) if (!o.includes('=')) throw new FlagValueError('storage-opt', o, 'invalid storage option');
  const bandwidth = str(f, 'io-maxbandwidth');
  let maxBandwidth: number | undefined;
  if (bandwidth !== undefined) {
    try { maxBandwidth = parseBytes(bandwidth); } catch (err) { throw new FlagValueError('io-maxbandwidth', bandwidth, (err as Error).message); }
  }
  const gpus = str(f, 'gpus');
  return {
    ...(list(f, 'annotation').length ? { Annotations: mapOf(list(f, 'annotation')) } : {}),
    ...(int(f, 'cpu-count') ? { CpuCount: int(f, 'cpu-count')! } : {}),
    ...(int(f, 'cpu-percent') ? { CpuPercent: int(f, 'cpu-percent')! } : {}),
    ...(maxBandwidth !== undefined ? { IOMaximumBandwidth: maxBandwidth } : {}),
    ...(int(f, 'io-maxiops') ? { IOMaximumIOps: int(f, 'io-maxiops')! } : {}),
    ...(str(f, 'isolation') ? { Isolation: str(f, 'isolation')! } : {}),
    ...(storageOpt.length ? { StorageOpt: mapOf(storageOpt) } : {}),
    ...(str(f, 'volume-driver') ? { VolumeDriver: str(f, 'volume-driver')! } : {}),
    ...(gpus ? { DeviceRequests: [parseGpus(gpus)] } : {}),
  };
}
