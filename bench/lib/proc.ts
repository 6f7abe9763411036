/**
 * Process helpers for the benchmarks: timed synchronous CLI runs, statistics, and reading
 * /proc for the RSS/PSS of the processes an engine owns.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Set on Ctrl-C. The event loop is blocked during spawnSync, so a SIGINT handler alone would
 * only see it after a whole timing loop; a child killed by SIGINT (the terminal signals the
 * whole foreground group) sets it at once.
 */
export const abort = { requested: false };

export interface CmdResult { code: number; stdout: string; stderr: string; ms: number }

/**
 * Runs a command to completion and measures its wall-clock time with process.hrtime.
 * Never throws: a spawn failure shows as code -1 with the error in stderr.
 */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): CmdResult {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.signal === 'SIGINT') abort.requested = true;
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''), ms };
}

/** Like `timed`, without blocking the event loop (so the caller can sample /proc meanwhile). */
export function timedAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<CmdResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    p.on('error', (e) => { stderr += String(e); });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ProcInfo { pid: number; ppid: number; argv: string[]; rssKb: number; pssKb: number }

/** Reads one process; undefined if it is gone or unreadable (a kernel thread has no cmdline). */
export function readProc(pid: number): ProcInfo | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv.length === 0) return undefined;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let pssKb = 0;
    try { pssKb = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0); } catch { /* old kernel */ }
    return { pid, ppid, argv, rssKb, pssKb };
  } catch {
    return undefined;
  }
}

/** Every process whose argv[0] basename is one of `names` and whose command line mentions `marker`. */
export function findProcs(names: string[], marker: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (!p) continue;
    if (names.some((n) => basename(p.argv[0]!).startsWith(n)) && p.argv.join(' ').includes(marker)) out.push(p);
  }
  return out;
}

/** Every process whose command line mentions `marker` (used to find leftovers of one bench run). */
export function procsMentioning(marker: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const p = readProc(Number(e));
    if (p && p.argv.join(' ').includes(marker)) out.push(p);
  }
  return out;
}

/** CPU time (user + system) a process has used so far, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Sum of RSS and PSS over processes, in MB (1 MB = 1024 kB, as ps/top show). */
export function memSum(ps: ProcInfo[]): { rssMb: number; pssMb: number } {
  return {
    rssMb: ps.reduce((a, p) => a + p.rssKb, 0) / 1024,
    pssMb: ps.reduce((a, p) => a + p.pssKb, 0) / 1024,
  };
}
