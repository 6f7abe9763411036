import type { Db } from '../../store/db.ts';

/**
 * Image, reference and layer rows (tables images, image_refs, layers of store/db.ts).
 * Image states: 'pending' while a load/import unpacks (dropped by recovery), 'complete', and
 * 'deleted' for an image removed with force while a container still uses it (hidden everywhere,
 * kept so its layers stay; `gc` drops it once no container needs it).
 */
export interface ImageRow {
  id: string;
  /** The config JSON exactly as stored (its sha256 is the ID). */
  config: string;
  /** Chain IDs, base first. */
  layers: string[];
  size: number;
  createdAt: string;
  state: 'pending' | 'complete' | 'deleted';
}

export interface RefRow {
  /** Normalized key: "docker.io/library/busybox:latest" or "…@sha256:…". */
  ref: string;
  imageId: string;
  kind: 'tag' | 'digest';
}

export interface LayerRow {
  chainId: string;
  diffId: string;
  parent: string | null;
  blob: string | null;
  blobSize: number | null;
  mediaType: string | null;
  size: number;
  state: 'pending' | 'complete';
}

interface RawImage { id: string; config: string; layers: string; size: number; created_at: string; state: ImageRow['state'] }
interface RawLayer { chain_id: string; diff_id: string; parent: string | null; blob: string | null; blob_size: number | null; media_type: string | null; size: number; state: LayerRow['state'] }

const toImage = (r: RawImage): ImageRow => ({ id: r.id, config: r.config, layers: JSON.parse(r.layers) as string[], size: r.size, createdAt: r.created_at, state: r.state });
const toLayer = (r: RawLayer): LayerRow => ({ chainId: r.chain_id, diffId: r.diff_id, parent: r.parent, blob: r.blob, blobSize: r.blob_size, mediaType: r.media_type, size: r.size, state: r.state });

/** Synchronous row access; callers serialize multi-row changes with `tx`. */
export class ImageRecords {
  constructor(private readonly db: Db) {}

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** A complete image by full ID. */
  get(id: string): ImageRow | undefined {
    const r = this.db.prepare(`SELECT * FROM images WHERE id = ? AND state = 'complete'`).get(id) as RawImage | undefined;
    return r && toImage(r);
  }

  /** A row in any state. */
  getAny(id: string): ImageRow | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as RawImage | undefined;
    return r && toImage(r);
  }

  list(state: ImageRow['state'] = 'complete'): ImageRow[] {
    return (this.db.prepare('SELECT * FROM images WHERE state = ? ORDER BY created_at DESC').all(state) as RawImage[]).map(toImage);
  }

  /** Complete images whose ID starts with "sha256:<hexPrefix>". */
  byPrefix(hexPrefix: string): ImageRow[] {
    return (this.db.prepare(`SELECT * FROM images WHERE state = 'complete' AND substr(id, 1, ?) = ?`)
      .all(7 + hexPrefix.length, `sha256:${hexPrefix}`) as RawImage[]).map(toImage);
  }

  /** Inserts (or revives) a row as 'pending' before its layers are unpacked. */
  insertPending(id: string, config: string, layers: readonly string[]): void {
    this.db.prepare(`INSERT INTO images (id, config, layers, size, created_at, state) VALUES (?, ?, ?, 0, ?, 'pending')
      ON CONFLICT(id) DO UPDATE SET state = 'pending'`).run(id, config, JSON.stringify(layers), new Date().toISOString());
  }

  setState(id: string, state: ImageRow['state'], size?: number): void {
    if (size === undefined) this.db.prepare('UPDATE images SET state = ? WHERE id = ?').run(state, id);
    else this.db.prepare('UPDATE images SET state = ?, size = ? WHERE id = ?').run(state, size, id);
  }

  deleteImage(id: string): void {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  refsOf(imageId: string): RefRow[] {
    return (this.db.prepare('SELECT ref, image_id AS imageId, kind FROM image_refs WHERE image_id = ? ORDER BY ref').all(imageId) as RefRow[]);
  }

  allRefs(): RefRow[] {
    return this.db.prepare('SELECT ref, image_id AS imageId, kind FROM image_refs ORDER BY ref').all() as RefRow[];
  }

  lookupRef(ref: string): string | undefined {
    const r = this.db.prepare('SELECT image_id AS imageId FROM image_refs WHERE ref = ?').get(ref) as { imageId: string } | undefined;
    return r?.imageId;
  }

  /** Points ref at imageId; returns the image it pointed at before, if another. */
  setRef(ref: string, imageId: string, kind: RefRow['kind']): string | undefined {
    const prev = this.lookupRef(ref);
    this.db.prepare('INSERT INTO image_refs (ref, image_id, kind) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id, kind = excluded.kind')
      .run(ref, imageId, kind);
    return prev !== undefined && prev !== imageId ? prev : undefined;
  }

  deleteRef(ref: string): void {
    this.db.prepare('DELETE FROM image_refs WHERE ref = ?').run(ref);
  }

  layer(chainId: string): LayerRow | undefined {
    const r = this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as RawLayer | undefined;
    return r && toLayer(r);
  }

  layers(state: LayerRow['state']): LayerRow[] {
    return (this.db.prepare('SELECT * FROM layers WHERE state = ?').all(state) as RawLayer[]).map(toLayer);
  }

  upsertLayer(l: LayerRow): void {
    this.db.prepare(`INSERT INTO layers (chain_id, diff_id, parent, blob, blob_size, media_type, size, state)
      VALUES (@chainId, @diffId, @parent, @blob, @blobSize, @mediaType, @size, @state)
      ON CONFLICT(chain_id) DO UPDATE SET diff_id = excluded.diff_id, parent = excluded.parent, blob = excluded.blob,
        blob_size = excluded.blob_size, media_type = excluded.media_type, size = excluded.size, state = excluded.state`).run(l);
  }

  deleteLayer(chainId: string): void {
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }

  /** Chain IDs referenced by any image row (any state). */
  usedChainIds(): Set<string> {
    const out = new Set<string>();
    for (const r of this.db.prepare('SELECT layers FROM images').all() as { layers: string }[]) {
      for (const c of JSON.parse(r.layers) as string[]) out.add(c);
    }
    return out;
  }

  /** True when some layer row other than chainId keeps blob. */
  blobUsedElsewhere(blob: string, chainId: string): boolean {
    return this.db.prepare('SELECT 1 FROM layers WHERE blob = ? AND chain_id != ? LIMIT 1').get(blob, chainId) !== undefined;
  }
}
