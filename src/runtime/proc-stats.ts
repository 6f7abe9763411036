import { readFileSync } from 'node:fs';
import type { NetworkStats } from '../api/types/index.ts';

/**
 * Host CPU time from /proc/stat as dockerd computes it: the first seven fields of the "cpu" line
 * (user nice system idle iowait irq softirq) in nanoseconds, and the number of "cpuN" lines.
 * Pure.
 */
export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) break;
    if (line[3] === ' ') {
      const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, v) => a + Number(v), 0);
      systemUsage = (ticks * 1e9) / 100;
    } else if (/^cpu\d/.test(line)) {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}

/** Reads /proc/stat (see parseProcStat). */
export async function readSystemCpu(path = '/proc/stat'): Promise<{ systemUsage: number; onlineCpus: number }> {
  // In-memory kernel files: read synchronously, as the cgroup files are (see cgroups/stats.ts).
  return parseProcStat(readFileSync(path, 'utf8'));
}

/**
 * Interface counters from /proc/<pid>/net/dev text, loopback left out (dockerd reports the
 * sandbox's interfaces, never lo). Pure.
 */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (!name || name === 'lo') continue;
    const n = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: n[0] ?? 0, rx_packets: n[1] ?? 0, rx_errors: n[2] ?? 0, rx_dropped: n[3] ?? 0,
      tx_bytes: n[8] ?? 0, tx_packets: n[9] ?? 0, tx_errors: n[10] ?? 0, tx_dropped: n[11] ?? 0,
    };
  }
  return out;
}

/**
 * The network counters of the namespace process `pid` lives in (/proc/PID/net/dev shows that
 * process's namespace). Null when the process is gone.
 */
export async function readNetworkStats(pid: number): Promise<Record<string, NetworkStats> | null> {
  try {
    return parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    return null;
  }
}
