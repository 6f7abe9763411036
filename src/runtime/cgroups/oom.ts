import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../../lib/errors.ts';
import type { CgroupLayout } from './host.ts';

/** Counters from a cgroup's OOM accounting. */
export interface OomState { oomKills: number; underOom: boolean }

/** Parses a key-value file (`oom_kill 3\nunder_oom 0`) into numbers. */
function keyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** Parses v1 memory.oom_control (`oom_kill_disable`, `under_oom`, and since 4.13 `oom_kill`). Pure. */
export function parseOomControl(text: string): OomState {
  const kv = keyValues(text);
  return { oomKills: kv.get('oom_kill') ?? 0, underOom: (kv.get('under_oom') ?? 0) > 0 };
}

/** Parses v2 memory.events (`oom`, `oom_kill`, ...). Pure. */
export function parseMemoryEvents(text: string): OomState {
  const kv = keyValues(text);
  return { oomKills: kv.get('oom_kill') ?? 0, underOom: false };
}

/**
 * True when the kernel OOM-killed a process of the container's cgroup. Read it before the runtime
 * deletes the container (crun/runc delete remove the cgroup). Prefers the v1 memory hierarchy,
 * else the unified one; a missing cgroup reads as false.
 */
export async function readOomKilled(cgroupsPath: string, layout: CgroupLayout): Promise<boolean> {
  const v1 = layout.v1Controllers.get('memory');
  try {
    if (v1) return parseOomControl(await readFile(join(v1, cgroupsPath, 'memory.oom_control'), 'utf8')).oomKills > 0;
    if (layout.unifiedMount) return parseMemoryEvents(await readFile(join(layout.unifiedMount, cgroupsPath, 'memory.events'), 'utf8')).oomKills > 0;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  return false;
}
