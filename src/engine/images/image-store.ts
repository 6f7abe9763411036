import type { Readable } from 'node:stream';
import { invalid, notFound } from '../../lib/errors.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import { familiarString, parseRefKey, parseReference, refKey } from '../../lib/reference.ts';
import { chainIds, imageIdOf, parseImageConfig, type MakeWhiteouts } from '../../image/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { Db } from '../../store/db.ts';
import type { RegistryClientApi } from '../../registry/client/contract.ts';
import { DistributionRecords } from './distribution-records.ts';
import { ingestLayer, removeUnusedLayers, type LayerDeps } from './layers.ts';
import { ImageRecords, type ImageRow } from './records.ts';
import type { ImageRemoval } from '../contracts/images.ts';
import type { ImageUser } from './remove.ts';
import type { ImageView } from './views.ts';

export interface ImageServiceDeps {
  db: Db;
  blobs: BlobStore;
  snapshotter: Snapshotter;
  makeWhiteouts: MakeWhiteouts;
  /** Containers whose image is this ID (running or not); the container engine answers. */
  containersUsingImage(imageId: string): ImageUser[];
  /** Publishes an image event (load, import, tag, untag, delete, save, prune). */
  events?: (action: string, id: string, attrs: Record<string, string>) => void;
  dataRoot: string;
  maxLayerBytes?: number;
  /** True for a build's intermediate image (a build step's parent): `images` without -a hides it untagged. */
  isIntermediate?: (imageId: string) => boolean;
  /** The distribution client; pull, push and login need it. */
  registry?: RegistryClientApi;
  /** Layers downloaded at once per pull (Docker's max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Layers uploaded at once per push (max-concurrent-uploads, default 5). */
  maxConcurrentUploads?: number;
}

/** How `store` gets an image's layers, and what it reports while it works. */
export interface StoreLayersOptions {
  /** Opens layer i as found (plain or gzip); called only for layers the store lacks. */
  open: (i: number) => Promise<Readable>;
  signal?: AbortSignal;
  /** Called as each layer is in place. */
  layerDone?: (i: number) => void;
  /** Layer i as a file already verified against its diffID, taken over by the blob store (a load's spool). */
  verifiedFile?: (i: number) => string | undefined;
  /** Layer i already unpacked in a directory, moved into place (a build step's upper dir). */
  prepared?: (i: number) => string | undefined;
}

export const HEX_PREFIX = /^(?:sha256:)?([0-9a-f]{1,64})$/;

/**
 * What local images, distribution and archives share: the rows, the one image lock under which
 * every mutation runs, name resolution, and storing an image with its intent recorded first
 * (image row 'pending', layer rows 'pending') so a crash is rolled back by recovery.
 */
export class ImageStore {
  readonly d: ImageServiceDeps;
  readonly records: ImageRecords;
  readonly dist: DistributionRecords;
  readonly layers: LayerDeps;
  readonly #lock = new KeyedMutex();

  constructor(deps: ImageServiceDeps) {
    this.d = deps;
    this.records = new ImageRecords(deps.db);
    this.dist = new DistributionRecords(deps.db);
    this.layers = { ...deps, records: this.records };
  }

  /** Runs fn holding the image lock: mutations of images and layers happen one at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run('images', fn);
  }

  event(action: string, id: string, attrs: Record<string, string> = {}): void {
    this.d.events?.(action, id, attrs);
  }

  /** The image row for a name:tag, name@digest, full or prefix ID; NotFound in Docker's words. */
  find(input: string): ImageRow {
    const full = /^(?:sha256:)?([0-9a-f]{64})$/.exec(input);
    if (full) {
      const row = this.records.get(`sha256:${full[1]}`);
      if (row) return row;
      throw notFound(`No such image: ${input}`);
    }
    let shown = input;
    if (!input.startsWith('sha256:')) {
      const ref = parseReference(input);
      shown = familiarString(ref);
      const id = this.records.lookupRef(refKey(ref));
      const row = id && this.records.get(id);
      if (row) return row;
    }
    const prefix = HEX_PREFIX.exec(input);
    if (prefix) {
      const rows = this.records.byPrefix(prefix[1]!);
      if (rows.length === 1) return rows[0]!;
      if (rows.length > 1) throw invalid(`multiple images found with prefix ${input}`);
    }
    throw notFound(`No such image: ${shown}`);
  }

  /** A row with its parsed config and its tag and digest references. */
  view(row: ImageRow): ImageView {
    const refs = this.records.refsOf(row.id).map((r) => ({ kind: r.kind, ref: parseRefKey(r.ref) }));
    return {
      row,
      config: parseImageConfig(row.config),
      tags: refs.filter((r) => r.kind === 'tag').map((r) => r.ref),
      digests: refs.filter((r) => r.kind === 'digest').map((r) => r.ref),
    };
  }

  /**
   * Stores an image (config + layers) unless complete already; pending first, complete last.
   * Returns its ID. A failure rolls back what this call added. Caller holds the image lock.
   */
  async store(configBytes: Buffer, diffIds: readonly string[], opts: StoreLayersOptions): Promise<string> {
    const id = imageIdOf(configBytes);
    const text = configBytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(configBytes)) throw invalid('invalid image config: not UTF-8');
    if (this.records.get(id)) return id;
    const chains = chainIds(diffIds);
    const revived = this.records.getAny(id)?.state === 'deleted';
    this.records.insertPending(id, text, chains);
    let size = 0;
    try {
      for (let i = 0; i < diffIds.length; i++) {
        const file = opts.verifiedFile?.(i);
        const dir = opts.prepared?.(i);
        const r = await ingestLayer(this.layers, {
          open: () => opts.open(i), diffId: diffIds[i]!, chainId: chains[i]!, parent: chains[i - 1] ?? null,
          ...(file !== undefined ? { verifiedFile: file } : {}),
          ...(dir !== undefined ? { prepared: dir } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        size += r.size;
        opts.layerDone?.(i);
      }
    } catch (err) {
      // A 'deleted' row kept for its containers goes back to that state, not away.
      if (revived) this.records.setState(id, 'deleted');
      await this.rollback(id, chains);
      throw err;
    }
    this.records.setState(id, 'complete', size);
    return id;
  }

  /**
   * Undoes a failed load or import at once rather than at the next start: the pending image row,
   * then every layer no image uses among its chains and the pending ones (the lock is held, so
   * all pending layers are this operation's), with their blobs and snapshots.
   */
  async rollback(id: string | undefined, chains: readonly string[]): Promise<void> {
    if (id !== undefined && this.records.getAny(id)?.state === 'pending') this.records.deleteImage(id);
    await removeUnusedLayers(this.layers, [...chains, ...this.records.layers('pending').map((l) => l.chainId)]);
  }

  /** Deletes an image and its unused layers; one still used by a container is only hidden. */
  async delete(row: ImageRow, used: boolean): Promise<{ records: ImageRemoval[]; freed: number }> {
    this.records.tx(() => {
      for (const r of this.records.refsOf(row.id)) this.records.deleteRef(r.ref);
      if (used) this.records.setState(row.id, 'deleted');
      else this.records.deleteImage(row.id);
    });
    this.event('delete', row.id, {});
    const records: ImageRemoval[] = [{ deleted: row.id }];
    let freed = 0;
    if (!used) {
      for (const l of await removeUnusedLayers(this.layers, row.layers)) {
        records.push({ deleted: l.chainId });
        freed += l.size;
      }
      freed += await this.dropOrphanLayerBlobs();
    }
    return { records, freed };
  }

  /**
   * Deletes the compressed forms of layers no layer row holds any more. Not part of a failed
   * pull's rollback: the blobs it completed stay, so the next pull of the image reuses them.
   */
  async dropOrphanLayerBlobs(): Promise<number> {
    let freed = 0;
    for (const b of this.dist.orphanLayerBlobs()) {
      this.dist.deleteLayerBlob(b.digest);
      await this.d.blobs.delete(b.digest);
      freed += b.size;
    }
    return freed;
  }

  /** Drops images removed with force once no container uses them. Caller holds the image lock. */
  async collectDeleted(): Promise<void> {
    for (const row of this.records.list('deleted')) {
      if (this.d.containersUsingImage(row.id).length > 0) continue;
      this.records.deleteImage(row.id);
      await removeUnusedLayers(this.layers, row.layers);
    }
  }
}
