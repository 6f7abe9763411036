import type { Db } from '../../store/db.ts';

/** A compressed form of a layer kept in the blob store (table layer_blobs). */
export interface LayerBlobRow {
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
}

/**
 * What berthd knows of layers on registries (migration 4): the compressed blob of each layer it
 * pulled or pushed, and the repositories each blob is known to exist in, so that push sends a
 * stored blob as it is, skips one the registry has, or mounts it from a sibling repository.
 */
export class DistributionRecords {
  constructor(private readonly db: Db) {}

  addLayerBlob(row: LayerBlobRow): void {
    this.db.prepare(`INSERT INTO layer_blobs (digest, diff_id, media_type, size) VALUES (@digest, @diffId, @mediaType, @size)
      ON CONFLICT(digest) DO UPDATE SET diff_id = excluded.diff_id, media_type = excluded.media_type, size = excluded.size`).run(row);
  }

  /** Compressed forms of a layer, newest first. */
  blobsOf(diffId: string): LayerBlobRow[] {
    return this.db.prepare('SELECT digest, diff_id AS diffId, media_type AS mediaType, size FROM layer_blobs WHERE diff_id = ? ORDER BY rowid DESC')
      .all(diffId) as LayerBlobRow[];
  }

  layerBlob(digest: string): LayerBlobRow | undefined {
    return this.db.prepare('SELECT digest, diff_id AS diffId, media_type AS mediaType, size FROM layer_blobs WHERE digest = ?')
      .get(digest) as LayerBlobRow | undefined;
  }

  /** Compressed blobs whose layer no layer row holds any more (prune takes them). */
  orphanLayerBlobs(): LayerBlobRow[] {
    return this.db.prepare(`SELECT digest, diff_id AS diffId, media_type AS mediaType, size FROM layer_blobs
      WHERE diff_id NOT IN (SELECT diff_id FROM layers)`).all() as LayerBlobRow[];
  }

  deleteLayerBlob(digest: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM layer_blobs WHERE digest = ?').run(digest);
      this.db.prepare('DELETE FROM blob_sources WHERE digest = ?').run(digest);
    })();
  }

  addSource(digest: string, domain: string, repository: string): void {
    this.db.prepare('INSERT OR IGNORE INTO blob_sources (digest, domain, repository) VALUES (?, ?, ?)').run(digest, domain, repository);
  }

  /** Repositories on `domain` known to hold the blob. */
  sourcesOn(digest: string, domain: string): string[] {
    return (this.db.prepare('SELECT repository FROM blob_sources WHERE digest = ? AND domain = ? ORDER BY rowid DESC')
      .all(digest, domain) as { repository: string }[]).map((r) => r.repository);
  }
}
