import { EngineError } from '../../lib/errors.ts';
import type { OciDevice, OciDeviceCgroup } from './types.ts';

/** A device node on the host, as listHostDevices/statDevice report it. */
export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Permission bits (e.g. 0o666). */
  fileMode: number;
  uid: number;
  gid: number;
}

/** A `--device` request resolved by the engine: the host node, where it goes, and the access. */
export interface DeviceRequest { device: HostDevice; containerPath: string; permissions: string }

const rule = (type: 'c' | 'b', major: number | undefined, minor: number | undefined, access: string): OciDeviceCgroup => {
  const r: OciDeviceCgroup = { allow: true, type, access };
  if (major !== undefined) r.major = major;
  if (minor !== undefined) r.minor = minor;
  return r;
};

/**
 * The device cgroup rules of a non-privileged container, as Docker gets them from moby + runc:
 * deny everything, then allow mknod of any node (creating one is harmless, opening it is not) and
 * read/write/mknod on null, zero, full, tty, console, random, urandom, ptmx, the pty slaves
 * (136:*) and tun (10:200, which Docker lists explicitly since runc 1.2 dropped it).
 */
export function defaultDeviceRules(): OciDeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    rule('c', undefined, undefined, 'm'),
    rule('b', undefined, undefined, 'm'),
    rule('c', 1, 3, 'rwm'), // null
    rule('c', 1, 5, 'rwm'), // zero
    rule('c', 1, 7, 'rwm'), // full
    rule('c', 1, 8, 'rwm'), // random
    rule('c', 1, 9, 'rwm'), // urandom
    rule('c', 5, 0, 'rwm'), // tty
    rule('c', 5, 1, 'rwm'), // console
    rule('c', 5, 2, 'rwm'), // ptmx
    rule('c', 136, undefined, 'rwm'), // pts/*
    rule('c', 10, 200, 'rwm'), // net/tun
  ];
}

/** A privileged container may use every device. */
export const allowAllDevicesRule = (): OciDeviceCgroup => ({ allow: true, access: 'rwm' });

/** True for a valid cgroup permission string: a non-empty subset of "rwm". */
export const isValidDevicePermissions = (p: string): boolean => /^(?!.*(.).*\1)[rwm]{1,3}$/.test(p);

/**
 * The linux.devices node and the cgroup allow rule for one `--device`. Pure. Throws
 * InvalidParameter for a bad permission string or a relative container path.
 */
export function toOciDevice(req: DeviceRequest): { device: OciDevice; rule: OciDeviceCgroup } {
  if (!isValidDevicePermissions(req.permissions)) {
    throw new EngineError('InvalidParameter', `invalid device mode: ${req.permissions}`);
  }
  if (!req.containerPath.startsWith('/')) {
    throw new EngineError('InvalidParameter', `invalid device path in container: ${req.containerPath}`);
  }
  const d = req.device;
  return {
    device: { path: req.containerPath, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid },
    rule: rule(d.type, d.major, d.minor, req.permissions),
  };
}

/**
 * Parses a `--device-cgroup-rule` ("c 1:3 rwm", "b 8:* r", "a *:* rwm"). Pure.
 * Throws InvalidParameter `invalid device cgroup rule format: X`.
 */
export function parseDeviceCgroupRule(text: string): OciDeviceCgroup {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(text.trim());
  if (!m || !isValidDevicePermissions(m[4]!)) {
    throw new EngineError('InvalidParameter', `invalid device cgroup rule format: '${text}'`);
  }
  const num = (s: string) => (s === '*' ? undefined : Number(s));
  const r: OciDeviceCgroup = { allow: true, type: m[1] as 'a' | 'c' | 'b', access: m[4]! };
  const major = num(m[2]!);
  const minor = num(m[3]!);
  if (major !== undefined) r.major = major;
  if (minor !== undefined) r.minor = minor;
  return r;
}
