import { EngineError } from '../../lib/errors.ts';
import type { OciCapabilities } from './types.ts';

/** Every Linux capability by number (bit index in /proc/<pid>/status Cap* masks), up to kernel 6.x. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default capability set for a non-privileged container (moby oci/caps defaults). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Canonical name of a user-given capability: case-insensitive, with or without the CAP_ prefix
 * (Docker normalizes both since v28); "ALL" stays "ALL".
 * Throws InvalidParameter `invalid capability: X` for a name the kernel does not define.
 */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL' || upper === 'CAP_ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new EngineError('InvalidParameter', `invalid capability: ${name}`);
  return full;
}

export interface CapabilityOptions {
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  privileged?: boolean;
  /** Capabilities the daemon itself holds (its CapBnd); the container can never get more. */
  hostCapabilities: readonly string[];
}

/** Result of computeCapabilities: the granted set, and what was asked for but the host lacks. */
export interface CapabilitySet { caps: string[]; unavailable: string[] }

/**
 * The container's capability set with Docker's rules (moby TweakCapabilities): privileged or
 * `--cap-add ALL` → every host capability minus drops; `--cap-drop ALL` → only the adds; else the
 * default set minus drops plus adds. The result is intersected with hostCapabilities because a
 * runtime asked for a capability the daemon lacks fails at start ("unable to apply caps"); this
 * host has no CAP_SYS_RESOURCE. Requested-but-missing names are returned in `unavailable` so the
 * engine can warn. Throws InvalidParameter for an unknown capability name.
 */
export function computeCapabilities(opts: CapabilityOptions): CapabilitySet {
  const host = new Set(opts.hostCapabilities.map((c) => c.toUpperCase()));
  const add = (opts.capAdd ?? []).map(normalizeCapability);
  const drop = (opts.capDrop ?? []).map(normalizeCapability);
  const hostOrdered = ALL_CAPABILITIES.filter((c) => host.has(c));
  let wanted: string[];
  if (opts.privileged) wanted = [...hostOrdered];
  else if (add.includes('ALL')) wanted = hostOrdered.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) wanted = add;
  else wanted = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  const caps = [...new Set(wanted)];
  return { caps: caps.filter((c) => host.has(c)), unavailable: caps.filter((c) => !host.has(c)) };
}

/**
 * The OCI process.capabilities for a set: bounding = effective = permitted; inheritable and
 * ambient stay empty (Docker since 23.0, CVE-2022-24769), so a non-root user gets no effective
 * capabilities after execve, exactly as in Docker.
 */
export function toOciCapabilities(caps: readonly string[]): OciCapabilities {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] };
}

/**
 * Capability names from a hex mask as found in /proc/<pid>/status (`CapBnd:\t000001fffeffffff`).
 * Accepts either the bare hex or the whole status text (then CapBnd is used).
 */
export function parseCapabilityMask(text: string): string[] {
  const m = /CapBnd:\s*([0-9a-fA-F]+)/.exec(text);
  const hex = m ? m[1]! : text.trim();
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new EngineError('InvalidParameter', `parse capability mask: ${hex}`);
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_c, bit) => (mask >> BigInt(bit)) & 1n);
}
