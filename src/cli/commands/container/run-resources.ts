import type * as api from '../../../api/types/index.ts';
import type { FlagSpec } from '../../args/parse.ts';
import { type Flags, int, list, str } from '../../context.ts';
import { parseBytes } from '../../../lib/units.ts';

/** Resource flags of run/create that docker CLI 28 has and the base flag table lacked. */
export const RESOURCE_FLAGS: FlagSpec[] = [
  { name: 'blkio-weight', kind: 'int', description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', valueName: 'uint16' },
  { name: 'blkio-weight-device', kind: 'string[]', description: 'Block IO weight (relative device weight)', valueName: 'list' },
  { name: 'cgroupns', kind: 'string', description: 'Cgroup namespace to use (host|private)\n\'host\':    Run the container in the Docker host\'s cgroup namespace\n\'private\': Run the container in its own private cgroup namespace\n\'\':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)' },
  { name: 'cpu-rt-period', kind: 'int', description: 'Limit CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', kind: 'int', description: 'Limit CPU real-time runtime in microseconds' },
  { name: 'device-cgroup-rule', kind: 'string[]', description: 'Add a rule to the cgroup allowed devices list', valueName: 'list' },
  { name: 'device-read-bps', kind: 'string[]', description: 'Limit read rate (bytes per second) from a device', valueName: 'list' },
  { name: 'device-read-iops', kind: 'string[]', description: 'Limit read rate (IO per second) from a device', valueName: 'list' },
  { name: 'device-write-bps', kind: 'string[]', description: 'Limit write rate (bytes per second) to a device', valueName: 'list' },
  { name: 'device-write-iops', kind: 'string[]', description: 'Limit write rate (IO per second) to a device', valueName: 'list' },
  { name: 'kernel-memory', kind: 'string', description: 'Kernel memory limit', valueName: 'bytes' },
];

/** A flag value docker's option type refuses at Set time; the caller words it as pflag does. */
export class FlagValueError extends Error {
  constructor(readonly flag: string, readonly value: string, message: string) { super(message); }
}

/** docker's ValidateWeightDevice ("/dev/sda:200"). */
export function parseWeightDevice(val: string): api.WeightDevice {
  const i = val.indexOf(':');
  const [k, v] = i < 0 ? [val, undefined] : [val.slice(0, i), val.slice(i + 1)];
  if (v === undefined || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`invalid weight for device: ${val}`);
  const weight = Number(v);
  if (weight > 0 && (weight < 10 || weight > 1000)) throw new Error(`invalid weight for device: ${val}`);
  return { Path: k, Weight: weight };
}

/** docker's ValidateThrottleBpsDevice ("/dev/sda:1mb") and ValidateThrottleIOpsDevice ("/dev/sda:100"). */
export function parseThrottleDevice(val: string, kind: 'bps' | 'iops'): api.ThrottleDevice {
  const i = val.indexOf(':');
  const [k, v] = i < 0 ? [val, undefined] : [val.slice(0, i), val.slice(i + 1)];
  if (v === undefined || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  if (kind === 'iops') {
    if (!/^\d+$/.test(v)) throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    return { Path: k, Rate: Number(v) };
  }
  let rate: number;
  try { rate = parseBytes(v); } catch { rate = -1; }
  if (rate < 0) {
    throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  }
  return { Path: k, Rate: rate };
}

const validDeviceMode = (m: string): boolean => /^(?!.*(.).*\1)[rwm]{1,3}$/.test(m);

/** docker's validateLinuxPath for --device values ([host-path:]container-path[:mode]). */
export function validateDeviceFlag(val: string): void {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath = split[0]!;
  if (split.length === 2) containerPath = validDeviceMode(split[1]!) ? split[0]! : split[1]!;
  if (split.length === 3) {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
}

/** docker's parseLinuxDevice: "/dev/x", "/dev/x:/dev/y", "/dev/x:rw", "/dev/x:/dev/y:r". */
export function parseDeviceMapping(device: string): api.DeviceMapping {
  const arr = device.split(':');
  let permissions = 'rwm';
  let dst = '';
  if (arr.length > 3) throw new Error(`invalid device specification: ${device}`);
  if (arr.length === 3) permissions = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) permissions = arr[1]!;
    else dst = arr[1]!;
  }
  const src = arr[0]!;
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: permissions };
}

const DEVICE_CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

/**
 * The resource part of the create body from these flags and --device. Throws FlagValueError for a
 * value docker's flag types refuse, and Error (docker's parse() errors) for the rest.
 */
export function resourceHostConfig(f: Flags): Partial<api.HostConfig> {
  const each = <T>(flag: string, parse: (v: string) => T): T[] => list(f, flag).map((v) => {
    try { return parse(v); } catch (err) { throw new FlagValueError(flag, v, (err as Error).message); }
  });
  const rules = each('device-cgroup-rule', (v) => {
    if (!DEVICE_CGROUP_RULE.test(v)) throw new Error(`invalid device cgroup format '${v}'`);
    return v;
  });
  const devices = each('device', (v) => { validateDeviceFlag(v); return v; }).map(parseDeviceMapping);
  const weights = each('blkio-weight-device', parseWeightDevice);
  const readBps = each('device-read-bps', (v) => parseThrottleDevice(v, 'bps'));
  const writeBps = each('device-write-bps', (v) => parseThrottleDevice(v, 'bps'));
  const readIOps = each('device-read-iops', (v) => parseThrottleDevice(v, 'iops'));
  const writeIOps = each('device-write-iops', (v) => parseThrottleDevice(v, 'iops'));
  const kernel = str(f, 'kernel-memory');
  let kernelMemory: number | undefined;
  if (kernel !== undefined) {
    try { kernelMemory = parseBytes(kernel); } catch (err) { throw new FlagValueError('kernel-memory', kernel, (err as Error).message); }
  }
  const cgroupns = str(f, 'cgroupns');
  if (cgroupns !== undefined && !['host', 'private'].includes(cgroupns)) throw new Error('--cgroupns: invalid CGROUP mode');
  const swappiness = int(f, 'memory-swappiness');
  // docker CLI 28 checks this one itself (opts.go parse), before the daemon would.
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }
  const blkioWeight = int(f, 'blkio-weight');
  const rtPeriod = int(f, 'cpu-rt-period');
  const rtRuntime = int(f, 'cpu-rt-runtime');
  return {
    ...(devices.length ? { Devices: devices } : {}),
    ...(rules.length ? { DeviceCgroupRules: rules } : {}),
    ...(blkioWeight ? { BlkioWeight: blkioWeight } : {}),
    ...(weights.length ? { BlkioWeightDevice: weights } : {}),
    ...(readBps.length ? { BlkioDeviceReadBps: readBps } : {}),
    ...(writeBps.length ? { BlkioDeviceWriteBps: writeBps } : {}),
    ...(readIOps.length ? { BlkioDeviceReadIOps: readIOps } : {}),
    ...(writeIOps.length ? { BlkioDeviceWriteIOps: writeIOps } : {}),
    ...(kernelMemory ? { KernelMemory: kernelMemory } : {}),
    ...(cgroupns ? { CgroupnsMode: cgroupns } : {}),
    ...(rtPeriod ? { CpuRealtimePeriod: rtPeriod } : {}),
    ...(rtRuntime ? { CpuRealtimeRuntime: rtRuntime } : {}),
  };
}
