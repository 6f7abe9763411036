/**
 * Registry garbage collection, mark and sweep: every manifest any repository has is kept,
 * with the config, layers and child manifests it references; every other blob is removed,
 * with the repository links that pointed at it. Uploads in progress live outside blobs/
 * (repos/<name>/_uploads) and are never touched. Run it while nothing pushes: a blob pushed
 * before its manifest is unreferenced until the manifest arrives.
 */
import { stat } from 'node:fs/promises';
import { inspectManifest, RegistryError } from './protocol.ts';
import { FsRegistryStorage } from './storage.ts';

/** A stored manifest as gc reads it. */
export interface StoredManifest { digest: string; mediaType: string; bytes: Buffer }

/**
 * Mark: the digests the manifests keep alive (themselves and what they reference). A manifest
 * that does not parse keeps only itself and is reported through `onBad`.
 */
export function markReferenced(manifests: Iterable<StoredManifest>, onBad: (digest: string, err: unknown) => void = () => {}): Set<string> {
  const live = new Set<string>();
  for (const m of manifests) {
    live.add(m.digest);
    try {
      const info = inspectManifest(m.bytes, m.mediaType);
      for (const d of info.blobs) live.add(d);
      for (const d of info.manifests) live.add(d);
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      onBad(m.digest, err);
    }
  }
  return live;
}

export interface GcOptions {
  root: string;
  dryRun?: boolean;
  /** One line per removed (or, with dryRun, removable) blob. */
  log?: (line: string) => void;
}

export interface GcResult { removed: Array<{ digest: string; size: number }>; kept: number; freedBytes: number }

/** Runs mark and sweep over a registry root. */
export async function collectGarbage(opts: GcOptions): Promise<GcResult> {
  const storage = new FsRegistryStorage(opts.root);
  if (!(await stat(opts.root).then((s) => s.isDirectory(), () => false))) throw new Error(`gc: ${opts.root}: no such directory`);
  const log = opts.log ?? (() => {});
  const repos = await storage.repositories();
  const manifests: StoredManifest[] = [];
  for (const repo of repos) {
    for (const digest of await storage.revisions(repo)) {
      const m = await storage.getManifest(repo, digest);
      if (m) manifests.push({ digest, mediaType: m.mediaType, bytes: m.bytes });
    }
  }
  const bad: string[] = [];
  const live = markReferenced(manifests, (d, err) => { bad.push(d); log(`manifest ${d} does not parse: ${(err as Error).message}`); });
  // A manifest that does not parse might reference anything: sweeping would be a guess.
  if (bad.length) throw new Error(`gc: ${bad.length} manifest(s) do not parse; nothing removed`);
  const removed: Array<{ digest: string; size: number }> = [];
  let kept = 0;
  for (const b of await storage.allBlobs()) {
    if (live.has(b.digest)) { kept++; continue; }
    removed.push({ digest: b.digest, size: b.size });
    log(`${opts.dryRun ? 'would delete' : 'deleted'} ${b.digest} (${b.size} bytes)`);
    if (!opts.dryRun) await storage.removeBlobFile(b.digest);
  }
  if (!opts.dryRun && removed.length) {
    const gone = new Set(removed.map((r) => r.digest));
    for (const repo of repos) {
      for (const d of await storage.layerLinks(repo)) if (gone.has(d)) await storage.removeLayerLink(repo, d);
    }
  }
  return { removed, kept, freedBytes: removed.reduce((a, r) => a + r.size, 0) };
}
