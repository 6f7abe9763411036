/**
 * The checks docker's flag types make on run/create values as pflag parses them (Value.Set), so
 * a bad value fails first and names the flag as pflag does: `invalid argument "abc" for
 * "-m, --memory" flag: invalid size: 'abc'` (exit 125), before the image argument is even looked at.
 * Each check throws an Error whose message is docker's reason.
 */
import { isIP } from 'node:net';
import type * as api from '../../../api/types/index.ts';
import { checkEnv, checkLabel } from '../../args/checks.ts';
import { parseBytes, parseDurationNs } from '../../../lib/units.ts';
import { parseThrottleDevice, parseWeightDevice } from './run-resources.ts';
import { parseNetworkOpt, validateLink } from './run-network.ts';
import { parseMountFlag } from './run-volumes.ts';

/** opts.MemBytes: go-units RAMInBytes (no -1). */
const memBytes = (v: string): void => { parseBytes(v); };
/** opts.MemSwapBytes: -1 (unlimited) or a size. */
const memSwapBytes = (v: string): void => { if (v !== '-1') parseBytes(v); };
const duration = (v: string): void => { parseDurationNs(v); };

/** strconv.ParseInt(s, 10, 64) as go-units' parseUlimitValue calls it ("infinity" is -1). */
function ulimitValue(s: string): number {
  if (s === 'infinity') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** go-units ParseUlimit: `name=soft[:hard]`. Throws Error with its messages. */
export function parseUlimit(val: string): api.Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const parts = val.slice(eq + 1).split(':');
  if (parts.length > 2) throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const hard = parts.length === 2 ? ulimitValue(parts[1]!) : undefined;
  const soft = ulimitValue(parts[0]!);
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    if (soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { Name: name, Soft: soft, Hard: h };
}

/** opts.ValidateExtraHost: `host:ip` or `host=ip`, ip in brackets allowed, or host-gateway. */
export function validateExtraHost(val: string): void {
  let i = val.indexOf('=');
  if (i < 0) i = val.indexOf(':');
  const host = i < 0 ? '' : val.slice(0, i);
  if (i < 0 || host === '' || host.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  let ip = val.slice(i + 1);
  if (ip === 'host-gateway') return;
  if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (isIP(ip) === 0) throw new Error(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
}

/** big.Rat's SetString as opts.NanoCPUs uses it: a decimal, an exponent form or a fraction. */
function nanoCpus(v: string): void {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v) && !/^[+-]?\d+\/\d+$/.test(v)) {
    throw new Error(`failed to parse ${v} as a rational number`);
  }
}

/** By long flag name: the checks run and create share. */
export const CREATE_FLAG_CHECKS: Readonly<Record<string, (value: string) => void>> = {
  memory: memBytes, 'memory-reservation': memBytes, 'shm-size': memBytes, 'kernel-memory': memBytes,
  'memory-swap': memSwapBytes,
  'health-interval': duration, 'health-timeout': duration, 'health-start-period': duration, 'health-start-interval': duration,
  ulimit: (v) => { parseUlimit(v); },
  'add-host': validateExtraHost,
  link: (v) => { validateLink(v); },
  network: (v) => { parseNetworkOpt(v); },
  mount: (v) => { parseMountFlag(v); },
  cpus: nanoCpus,
  attach: (v) => {
    if (!['stdin', 'stdout', 'stderr'].includes(v.toLowerCase())) throw new Error('valid streams are STDIN, STDOUT and STDERR');
  },
  env: checkEnv,
  label: checkLabel,
  'blkio-weight-device': (v) => { parseWeightDevice(v); },
  'device-read-bps': (v) => { parseThrottleDevice(v, 'bps'); },
  'device-write-bps': (v) => { parseThrottleDevice(v, 'bps'); },
  'device-read-iops': (v) => { parseThrottleDevice(v, 'iops'); },
  'device-write-iops': (v) => { parseThrottleDevice(v, 'iops'); },
  'device-cgroup-rule': (v) => {
    if (!/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(v)) throw new Error(`invalid device cgroup format '${v}'`);
  },
  sysctl: (v) => { if (!v.includes('=')) throw new Error(`sysctl '${v}' is not allowed`); },
};
