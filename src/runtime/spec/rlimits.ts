import { EngineError } from '../../lib/errors.ts';
import type { OciRlimit, RlimitValue } from './types.ts';

/** A requested ulimit as Docker's HostConfig.Ulimits carries it; -1 means unlimited. */
export interface UlimitInput { name: string; soft: number; hard: number }

/** A current limit of the daemon process; Infinity means unlimited. */
export interface HostRlimit { soft: number; hard: number }

/** RLIM_INFINITY as written into config.json (2^64-1 does not fit a JS number). */
export const RLIM_INFINITY = 18446744073709551615n;

/** Docker's ulimit names (go-units) → the rlimit they set. */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};

/** /proc/<pid>/limits row titles → ulimit names. */
const PROC_LIMIT_ROWS: Readonly<Record<string, string>> = {
  'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
  'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc', 'Max open files': 'nofile',
  'Max locked memory': 'memlock', 'Max address space': 'as', 'Max file locks': 'locks',
  'Max pending signals': 'sigpending', 'Max msgqueue size': 'msgqueue', 'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
};

/** Parses /proc/<pid>/limits into ulimit name → {soft, hard} ("unlimited" → Infinity). Pure. */
export function parseProcLimits(text: string): Record<string, HostRlimit> {
  const out: Record<string, HostRlimit> = {};
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const name = m ? PROC_LIMIT_ROWS[m[1]!] : undefined;
    if (!m || !name) continue;
    const num = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
    out[name] = { soft: num(m[2]!), hard: num(m[3]!) };
  }
  return out;
}

/**
 * OCI process.rlimits for the requested ulimits; none requested → none written, so the container
 * inherits the daemon's limits (Docker's nofile=1048576 default would fail here: without
 * CAP_SYS_RESOURCE no process may raise a hard limit). Pure.
 * Throws InvalidParameter for an unknown name (`invalid ulimit type: X`), soft > hard, or a hard
 * limit above the daemon's own (`hostLimits`), naming the limit and the maximum.
 */
export function toOciRlimits(ulimits: readonly UlimitInput[] | undefined, hostLimits: Readonly<Record<string, HostRlimit>>): OciRlimit[] {
  const out: OciRlimit[] = [];
  for (const u of ulimits ?? []) {
    const type = ULIMIT_TYPES[u.name];
    if (!type) throw new EngineError('InvalidParameter', `invalid ulimit type: ${u.name}`);
    const soft = u.soft < 0 ? Infinity : u.soft;
    const hard = u.hard < 0 ? Infinity : u.hard;
    if (soft > hard) {
      throw new EngineError('InvalidParameter', `ulimit soft limit must be less than or equal to hard limit: ${fmt(soft)} > ${fmt(hard)}`);
    }
    const max = hostLimits[u.name]?.hard ?? Infinity;
    if (hard > max) {
      throw new EngineError('InvalidParameter',
        `ulimit ${u.name}: hard limit ${fmt(hard)} exceeds the maximum ${fmt(max)} allowed on this host (the daemon lacks CAP_SYS_RESOURCE to raise it)`);
    }
    out.push({ type, soft: toValue(soft), hard: toValue(hard) });
  }
  return out;
}

const fmt = (n: number) => (n === Infinity ? 'unlimited' : String(n));
const toValue = (n: number): RlimitValue => (n === Infinity ? RLIM_INFINITY : n);
