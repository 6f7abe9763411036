/**
 * `berth system gc`: reconciles the data and exec roots against the database and removes what
 * nothing refers to — container snapshots, data and bundle directories of containers that no
 * longer exist, unpacked layers and blobs no image uses, stale temp files. Disk never given back
 * after pruning is a top Docker complaint; this finds what crashes and bugs leave behind.
 *
 * Safe against concurrent work: objects are recorded in the database before their files are
 * made (intent first), and anything younger than `graceMs` is left alone, so an import between
 * writing a blob and recording its layer is not mistaken for an orphan.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import { duBytes } from '../../lib/disk-usage.ts';
import { messageOf } from '../../lib/errors.ts';

export type OrphanKind = 'container-snapshot' | 'container-data' | 'container-bundle' | 'layer' | 'blob' | 'temp' | 'volume';

export interface Orphan {
  kind: OrphanKind;
  path: string;
  bytes: number;
}

export interface GcDeps {
  db: Db;
  dataRoot: string;
  execRoot: string;
  /** Unmounts and deletes a container snapshot (overlay mounts must go before the directory). */
  removeSnapshot(containerId: string): Promise<void>;
  /** Files younger than this are never collected. Default 10 minutes. */
  graceMs?: number;
  now?: () => number;
}

const HEX64 = /^[0-9a-f]{64}$/;

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** Everything on disk the database does not account for. Reads only. */
export async function findOrphans(d: GcDeps): Promise<Orphan[]> {
  const grace = d.graceMs ?? 10 * 60_000;
  const now = (d.now ?? Date.now)();
  const old = async (p: string) => {
    try { return now - (await stat(p)).mtimeMs > grace; } catch { return false; }
  };
  const ids = (sql: string) => new Set((d.db.prepare(sql).all() as { v: string | null }[]).map((r) => r.v).filter((v): v is string => !!v));
  const containers = ids('SELECT id AS v FROM containers');
  const layers = ids('SELECT chain_id AS v FROM layers');
  const blobs = new Set([
    ...ids('SELECT blob AS v FROM layers'), ...ids('SELECT id AS v FROM images'), ...ids('SELECT manifest AS v FROM images'),
    // The compressed forms of layers kept for push (and for a pull that resumes): live, not orphans.
    ...(tableExists(d.db, 'layer_blobs') ? ids('SELECT digest AS v FROM layer_blobs') : []),
  ].map((b) => b.replace(/^sha256:/, '')));
  const volumes = tableExists(d.db, 'volumes') ? ids('SELECT name AS v FROM volumes') : undefined;

  const out: Orphan[] = [];
  const add = async (kind: OrphanKind, path: string) => {
    if (await old(path)) out.push({ kind, path, bytes: await duBytes(path) });
  };
  for (const id of await entries(join(d.dataRoot, 'overlay', 'containers'))) {
    if (HEX64.test(id) && !containers.has(id)) await add('container-snapshot', join(d.dataRoot, 'overlay', 'containers', id));
  }
  for (const id of await entries(join(d.dataRoot, 'containers'))) {
    if (HEX64.test(id) && !containers.has(id)) await add('container-data', join(d.dataRoot, 'containers', id));
  }
  for (const id of await entries(join(d.execRoot, 'containers'))) {
    if (HEX64.test(id) && !containers.has(id)) await add('container-bundle', join(d.execRoot, 'containers', id));
  }
  for (const chain of await entries(join(d.dataRoot, 'overlay', 'layers'))) {
    const bare = chain.replace(/^sha256:/, '');
    if (HEX64.test(bare) && !layers.has(`sha256:${bare}`) && !layers.has(bare)) await add('layer', join(d.dataRoot, 'overlay', 'layers', chain));
  }
  for (const hex of await entries(join(d.dataRoot, 'blobs', 'sha256'))) {
    if (HEX64.test(hex) && !blobs.has(hex)) await add('blob', join(d.dataRoot, 'blobs', 'sha256', hex));
  }
  for (const t of await entries(join(d.dataRoot, 'tmp'))) await add('temp', join(d.dataRoot, 'tmp', t));
  if (volumes) {
    for (const v of await entries(join(d.dataRoot, 'volumes'))) {
      if (!volumes.has(v)) await add('volume', join(d.dataRoot, 'volumes', v));
    }
  }
  return out;
}

/** Removes the orphans (each re-checked just before), returning what went and what resisted. */
export async function collectOrphans(d: GcDeps, orphans: readonly Orphan[]): Promise<{ removed: Orphan[]; failed: { orphan: Orphan; error: string }[] }> {
  const removed: Orphan[] = [];
  const failed: { orphan: Orphan; error: string }[] = [];
  const still = new Set((await findOrphans(d)).map((o) => o.path));
  for (const o of orphans) {
    if (!still.has(o.path)) continue; // claimed meanwhile
    try {
      if (o.kind === 'container-snapshot') await d.removeSnapshot(o.path.split('/').pop()!);
      await rm(o.path, { recursive: true, force: true });
      removed.push(o);
    } catch (err) {
      failed.push({ orphan: o, error: messageOf(err) });
    }
  }
  return { removed, failed };
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/**
 * Daemon start-up, after every service's recovery and before the API serves: whatever a crash
 * left that the database does not account for (blob and layer temp files, unpacked layers and
 * blobs of loads, pulls, builds and commits cut short, spools in tmp/, directories of containers
 * and volumes without rows) is collected at once. Nothing is under way yet, so there is no grace
 * period: every file on disk is either recorded or dead.
 */
export async function collectOrphansAtStart(d: GcDeps, log: { info(o: object, m?: string): void; warn(o: object, m?: string): void }): Promise<void> {
  const deps = { ...d, graceMs: -Infinity };
  const found = await findOrphans(deps);
  if (found.length === 0) return;
  const r = await collectOrphans(deps, found);
  log.info({ removed: r.removed.map((o) => `${o.kind} ${o.path}`), bytes: r.removed.reduce((n, o) => n + o.bytes, 0) }, 'recovery: collected what crashes left behind');
  for (const f of r.failed) log.warn({ path: f.orphan.path, err: f.error }, 'recovery: could not collect');
}
