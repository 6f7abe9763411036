/**
 * `system df`: what images, containers, volumes, container logs and orphaned files take on disk.
 * Docker's answer leaves out logs (its json-file logs grow without bound) and anything the
 * database lost track of; berth reports both.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import { duBytes } from '../../lib/disk-usage.ts';

/** Per image: layer bytes shared with another image, and bytes of all its layers. */
export function imageLayerUsage(db: Db): { layersSize: number; shared: Map<string, number>; size: Map<string, number> } {
  const sizes = new Map((db.prepare("SELECT chain_id, size FROM layers WHERE state = 'complete'").all() as { chain_id: string; size: number }[])
    .map((r) => [r.chain_id, r.size]));
  const images = (db.prepare("SELECT id, layers FROM images WHERE state = 'complete'").all() as { id: string; layers: string }[])
    .map((r) => ({ id: r.id, layers: JSON.parse(r.layers) as string[] }));
  const users = new Map<string, number>();
  for (const img of images) for (const l of new Set(img.layers)) users.set(l, (users.get(l) ?? 0) + 1);
  const shared = new Map<string, number>();
  const size = new Map<string, number>();
  for (const img of images) {
    let s = 0;
    let sh = 0;
    for (const l of new Set(img.layers)) {
      const b = sizes.get(l) ?? 0;
      s += b;
      if ((users.get(l) ?? 0) > 1) sh += b;
    }
    shared.set(img.id, sh);
    size.set(img.id, s);
  }
  return { layersSize: [...sizes.values()].reduce((a, b) => a + b, 0), shared, size };
}

/** Bytes of every container's log files (current and rotated) under `<data-root>/containers`. */
export async function containerLogUsage(dataRoot: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const root = join(dataRoot, 'containers');
  for (const id of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(join(root, id)).catch(() => [] as string[])) {
      if (!f.startsWith('container.log')) continue;
      count++;
      bytes += await duBytes(join(root, id, f));
    }
  }
  return { count, bytes };
}
