import { join, posix, relative } from 'node:path';
import type { DeviceMapping, HostConfig, ThrottleDevice } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { listHostDevices, statDevice, type BlkioDevices, type DeviceRequest } from '../../runtime/spec/index.ts';
import { statOrNull } from '../../lib/fs-probes.ts';

/**
 * The cgroupfs path of a container: `<CgroupParent>/<id>` when `--cgroup-parent` was given (made
 * absolute, as cgroupfs paths are), else `<daemon parent>/<id>`. Pure.
 */
export function cgroupPathOf(hc: Pick<HostConfig, 'CgroupParent'>, id: string, defaultParent: string): string {
  const parent = hc.CgroupParent ? posix.normalize(`/${hc.CgroupParent}`).replace(/\/+$/, '') : defaultParent;
  return `${parent}/${id}`;
}

/**
 * `--device` mappings resolved to host nodes. A directory (`--device /dev/snd`) brings every
 * device node under it, placed under the container path, as dockerd does. Throws NotFound
 * (`error gathering device information while adding custom device "X": no such file or
 * directory`) or InvalidParameter (not a device node).
 */
export async function resolveDevices(mappings: readonly DeviceMapping[]): Promise<DeviceRequest[]> {
  const out: DeviceRequest[] = [];
  for (const m of mappings) {
    const permissions = m.CgroupPermissions || 'rwm';
    // Go's zero value: a mapping sent without PathOnHost names "" and fails as a missing device.
    const hostPath = m.PathOnHost ?? '';
    const containerPath = m.PathInContainer || hostPath;
    const st = await statOrNull(hostPath);
    if (st?.isDirectory()) {
      for (const device of await listHostDevices(hostPath)) {
        out.push({ device, containerPath: join(containerPath, relative(hostPath, device.path)), permissions });
      }
      continue;
    }
    out.push({ device: await statDevice(hostPath), containerPath, permissions });
  }
  return out;
}

/** The device numbers of the block I/O settings (dockerd stats each path when it builds the spec). */
export async function resolveBlkio(hc: HostConfig): Promise<BlkioDevices> {
  const num = async (path: string) => {
    try {
      const d = await statDevice(path);
      return { major: d.major, minor: d.minor };
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'NotFound') throw new EngineError('InvalidParameter', `stat ${path}: no such file or directory`, { cause: err });
      throw err;
    }
  };
  const throttle = (list: ThrottleDevice[] | null | undefined) => Promise.all((list ?? []).map(async (t) => ({ ...await num(t.Path), rate: t.Rate })));
  const out: BlkioDevices = {};
  const weights = await Promise.all((hc.BlkioWeightDevice ?? []).map(async (w) => ({ ...await num(w.Path), weight: w.Weight })));
  if (weights.length) out.weightDevice = weights;
  const [readBps, writeBps, readIOps, writeIOps] = await Promise.all([
    throttle(hc.BlkioDeviceReadBps), throttle(hc.BlkioDeviceWriteBps), throttle(hc.BlkioDeviceReadIOps), throttle(hc.BlkioDeviceWriteIOps),
  ]);
  if (readBps.length) out.readBps = readBps;
  if (writeBps.length) out.writeBps = writeBps;
  if (readIOps.length) out.readIOps = readIOps;
  if (writeIOps.length) out.writeIOps = writeIOps;
  return out;
}
