import { type Filters, checkFilterKeys, matchLabels } from '../../lib/filters.ts';
import { EngineError } from '../../lib/errors.ts';
import type { ContainerRecord } from './record.ts';

export interface ListOptions {
  all: boolean;
  /** Most recent N (includes stopped ones, as Docker's `-n`). */
  limit?: number;
  filters: Filters;
}

const KEYS = ['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since', 'health', 'network', 'volume', 'is-task', 'publish', 'expose'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** dockerd's view of a container's health for `health=`: "none" without a health check. */
const healthOf = (c: ContainerRecord): string => (c.config.Healthcheck && c.state.health ? c.state.health.Status : 'none');

/** Docker's `ps` selection: newest first, running only unless `all`, then the filters. */
export function selectContainers(
  all: readonly ContainerRecord[], o: ListOptions,
  lookup: {
    resolve(ref: string): ContainerRecord; imageMatches(ref: string, c: ContainerRecord): boolean;
    /** Names and IDs of the networks a container is attached to (default: its NetworkMode). */
    networksOf?(c: ContainerRecord): string[];
    /** Container ports ("80/tcp") that are published, and all exposed ones: publish= and expose=. */
    portsOf?(c: ContainerRecord): { published: string[]; exposed: string[] };
    /** Volume names and mount destinations, for volume=. */
    volumesOf?(c: ContainerRecord): string[];
  },
): ContainerRecord[] {
  checkFilterKeys(o.filters, KEYS);
  const f = (k: string) => o.filters.get(k) ?? [];
  for (const s of f('status')) if (!STATUSES.includes(s)) throw new EngineError('InvalidParameter', `invalid filter 'status=${s}'`);
  for (const h of f('health')) if (!HEALTH.includes(h)) throw new EngineError('InvalidParameter', `Unrecognised filter value for health: ${h}`);
  let list = [...all];
  const before = f('before')[0];
  const since = f('since')[0];
  if (before) { const b = lookup.resolve(before); list = list.filter((c) => c.createdAt < b.createdAt); }
  if (since) { const s = lookup.resolve(since); list = list.filter((c) => c.createdAt > s.createdAt); }
  // A status filter implies --all; `exited` does not (dockerd's foldFilter: `ps --filter exited=0` without -a is empty).
  const wantAll = o.all || (o.limit !== undefined && o.limit > 0) || f('status').length > 0;
  list = list.filter((c) => {
    const status = c.state.status;
    if (!wantAll && status !== 'running' && status !== 'paused' && status !== 'restarting') return false;
    if (f('id').length && !f('id').some((id) => dockerMatch(id, c.id))) return false;
    // Docker matches names with their leading "/" (`name=^/web$` is the exact-match idiom).
    if (f('name').length && !f('name').some((n) => dockerMatch(n, `/${c.name}`))) return false;
    if (f('status').length && !f('status').includes(status)) return false;
    if (!matchLabels(c.config.Labels, f('label'))) return false;
    if (f('ancestor').length && !f('ancestor').some((a) => lookup.imageMatches(a, c))) return false;
    if (f('health').length && !f('health').includes(healthOf(c))) return false;
    if (f('exited').length && !(status === 'exited' && f('exited').includes(String(c.state.exitCode)))) return false;
    if (f('network').length) {
      const nets = lookup.networksOf?.(c) ?? [c.hostConfig.NetworkMode ?? ''];
      if (!f('network').some((n) => nets.includes(n))) return false;
    }
    if (f('volume').length) {
      const vols = lookup.volumesOf?.(c) ?? [];
      if (!f('volume').some((v) => vols.includes(v))) return false;
    }
    if (f('publish').length || f('expose').length) {
      const p = lookup.portsOf?.(c) ?? { published: [], exposed: Object.keys(c.config.ExposedPorts ?? {}) };
      const has = (list: string[], want: string) => list.includes(want.includes('/') ? want : `${want}/tcp`);
      if (f('publish').length && !f('publish').some((w) => has(p.published, w))) return false;
      if (f('expose').length && !f('expose').some((w) => has(p.exposed, w))) return false;
    }
    return true;
  });
  if (o.limit !== undefined && o.limit > 0) list = list.slice(0, o.limit);
  return list;
}

/**
 * Docker's filters.Args.Match: the value equals the field, or is a regular expression found in it.
 * An invalid expression matches nothing (Docker ignores the error) rather than failing the request.
 */
function dockerMatch(pattern: string, value: string): boolean {
  if (pattern === value) return true;
  try { return new RegExp(pattern).test(value); } catch { return false; }
}
