import type { Db } from '../../store/db.ts';

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

  /** Every image the cache points at (what `builder prune` may remove when untagged and unused). */
  images(): string[] {
    return (this.db.prepare('SELECT DISTINCT image_id FROM build_cache').all() as { image_id: string }[]).map((r) => r.image_id);
  }

  /** Forgets every entry; returns how many there were. */
  clear(): number {
    return this.db.prepare('DELETE FROM build_cache').run().changes;
  }
}
