import { createHash } from 'node:crypto';

/**
 * A build step's cache key: the parent image (or "scratch"), and everything that decides the
 * step's result, given as a JSON-able description (its created_by with resolved args, the config
 * it commits, for COPY/ADD the content checksums of its sources, images it reads from). Keys are
 * stable across daemons and rebuilds: no times, no paths of temp dirs.
 */
export function cacheKey(parent: string | null, step: Record<string, unknown>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([parent ?? 'scratch', canonical(step)]));
  return `sha256:${h.digest('hex')}`;
}

/** The value with object keys sorted, so equal descriptions hash equally. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}
