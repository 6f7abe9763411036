import type { Db } from '../../store/db.ts';
import type { CacheEntry } from './cache-prune.ts';

/**
 * The legacy builder's cache (table build_cache, migration 5): step key → the untagged image the
 * step produced, and the image it started from. Entries whose image has gone are ignored by the
 * caller and swept by `prune`.
 */
export class BuildCache {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    return (this.db.prepare('SELECT image_id FROM build_cache WHERE key = ?').get(key) as { image_id: string } | undefined)?.image_id;
  }

  put(key: string, imageId: string, parentId: string | null): void {
    this.db.prepare(`INSERT INTO build_cache (key, image_id, parent_id, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, parent_id = excluded.parent_id, created_at = excluded.created_at`)
      .run(key, imageId, parentId, new Date().toISOString());
  }

  /** True when a build step started from this image: an intermediate image `images` hides untagged. */
  isParent(imageId: string): boolean {
    return this.db.prepare('SELECT 1 FROM build_cache WHERE parent_id = ? LIMIT 1').get(imageId) !== undefined;
  }

  /** Records that a build handed this image back as its result. */
  markResult(imageId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO build_results (image_id) VALUES (?)').run(imageId);
  }

  /**
   * True for an image that is only build cache: a parent of a step, or a step's image that no
   * build returned (the last image of an intermediate stage or of a failed build). `images`
   * hides it when untagged, as dockerd hides its intermediate images; `images -a` shows it.
   */
  isIntermediate(imageId: string): boolean {
    if (this.isParent(imageId)) return true;
    const made = this.db.prepare('SELECT 1 FROM build_cache WHERE image_id = ? LIMIT 1').get(imageId) !== undefined;
    return made && this.db.prepare('SELECT 1 FROM build_results WHERE image_id = ?').get(imageId) === undefined;
  }

  /** Every entry, for `builder prune`'s filters. */
  entries(): CacheEntry[] {
    return (this.db.prepare('SELECT key, image_id, parent_id, created_at FROM build_cache').all() as { key: string; image_id: string; parent_id: string | null; created_at: string }[])
      .map((r) => ({ key: r.key, imageId: r.image_id, parentId: r.parent_id, createdAt: r.created_at }));
  }

  /** Forgets these entries. */
  forget(keys: readonly string[]): void {
    const del = this.db.prepare('DELETE FROM build_cache WHERE key = ?');
    this.db.transaction(() => { for (const k of keys) del.run(k); })();
  }
}
