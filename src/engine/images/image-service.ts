import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import { EngineError, invalid, isErrno, notFound } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import { familiarString, parseRefKey, parseReference, refKey, type ImageReference } from '../../lib/reference.ts';
import { chainIds, hostArchitecture, imageIdOf, parseImageConfig, readImageArchive, writeImageArchive, type MakeWhiteouts } from '../../image/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { Db } from '../../store/db.ts';
import { applyChanges } from './changes.ts';
import { listPredicate, prunePredicate } from './filters.ts';
import { ingestLayer, removeUnusedLayers, type LayerDeps } from './layers.ts';
import { ImageRecords, type ImageRow } from './records.ts';
import { planRemove, untaggedRecords, type ImageUser } from './remove.ts';
import { labelsOf, toApiHistory, toApiInspect, toApiSummary, unixSeconds, type ImageView } from './views.ts';

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
}

/** What the container engine gets for an image reference. */
export interface ResolvedImage {
  id: string;
  config: api.ImageConfigBlob;
  /** Chain IDs, base first: what Snapshotter.prepare takes. */
  chainIds: string[];
}

export interface ImportOptions {
  /** "repo[:tag]" to tag the new image with. */
  ref?: string;
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL). */
  changes?: readonly string[];
  message?: string;
  /** "linux/amd64"; the host's when absent. */
  platform?: string;
  signal?: AbortSignal;
}

const HEX_PREFIX = /^(?:sha256:)?([0-9a-f]{1,64})$/;

/**
 * Local images: load/save/import, list/inspect/history, tag/remove/prune, and resolution for
 * the container engine. Mutations run one at a time (one image lock); each load/import records
 * its intent first (image row 'pending', layer rows 'pending') so `recover` can roll back after a
 * crash. Errors: NotFound ("No such image: …"), Conflict (Docker's delete wording),
 * InvalidParameter (bad references, filters, archives), NotImplemented (zstd layers).
 */
export class ImageService {
  readonly #d: ImageServiceDeps;
  readonly #records: ImageRecords;
  readonly #layers: LayerDeps;
  readonly #lock = new KeyedMutex();

  constructor(deps: ImageServiceDeps) {
    this.#d = deps;
    this.#records = new ImageRecords(deps.db);
    this.#layers = { ...deps, records: this.#records };
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run('images', fn);
  }

  #event(action: string, id: string, attrs: Record<string, string> = {}): void {
    this.#d.events?.(action, id, attrs);
  }

  /** The image row for a name:tag, name@digest, full or prefix ID; NotFound in Docker's words. */
  #find(input: string): ImageRow {
    const full = /^(?:sha256:)?([0-9a-f]{64})$/.exec(input);
    if (full) {
      const row = this.#records.get(`sha256:${full[1]}`);
      if (row) return row;
      throw notFound(`No such image: ${input}`);
    }
    let shown = input;
    if (!input.startsWith('sha256:')) {
      const ref = parseReference(input);
      shown = familiarString(ref);
      const id = this.#records.lookupRef(refKey(ref));
      const row = id && this.#records.get(id);
      if (row) return row;
    }
    const prefix = HEX_PREFIX.exec(input);
    if (prefix) {
      const rows = this.#records.byPrefix(prefix[1]!);
      if (rows.length === 1) return rows[0]!;
      if (rows.length > 1) throw invalid(`multiple images found with prefix ${input}`);
    }
    throw notFound(`No such image: ${shown}`);
  }

  #view(row: ImageRow): ImageView {
    const refs = this.#records.refsOf(row.id).map((r) => ({ kind: r.kind, ref: parseRefKey(r.ref) }));
    return {
      row,
      config: parseImageConfig(row.config),
      tags: refs.filter((r) => r.kind === 'tag').map((r) => r.ref),
      digests: refs.filter((r) => r.kind === 'digest').map((r) => r.ref),
    };
  }

  /** An image's ID, config and chain IDs for creating a container. NotFound: "No such image: busybox:latest". */
  async resolve(ref: string): Promise<ResolvedImage> {
    const row = this.#find(ref);
    return { id: row.id, config: parseImageConfig(row.config), chainIds: row.layers };
  }

  /** Number of images (GET /info's Images). */
  count(): number {
    return this.#records.list().length;
  }

  /**
   * True when ref names the image imageId (`ps --filter ancestor=`); an unknown or invalid ref
   * matches nothing. Layer parents are not tracked, so descendants do not match.
   */
  matches(ref: string, imageId: string): boolean {
    try {
      return this.#find(ref).id === imageId;
    } catch (err) {
      if (err instanceof EngineError) return false;
      throw err;
    }
  }

  /** GET /images/json. Filters: before, dangling, label, reference, since, until. */
  async list(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<api.ImageSummary[]> {
    const pred = listPredicate(opts.filters ?? new Map(), (ref) => unixSeconds(parseImageConfig(this.#find(ref).config).created));
    return this.#records.list()
      .map((row) => this.#view(row))
      .filter((v) => pred({ id: v.row.id, created: unixSeconds(v.config.created), labels: labelsOf(v), refs: [...v.tags, ...v.digests] }))
      .map(toApiSummary)
      .sort((a, b) => b.Created - a.Created);
  }

  async inspect(ref: string): Promise<api.ImageInspect> {
    return toApiInspect(this.#view(this.#find(ref)), (c) => this.#d.snapshotter.diffPath(c));
  }

  async history(ref: string): Promise<api.ImageHistoryEntry[]> {
    const v = this.#view(this.#find(ref));
    return toApiHistory(v, v.row.layers.map((c) => this.#records.layer(c)?.size ?? 0));
  }

  /** Points target ("repo[:tag]") at source. InvalidParameter for a digest target. */
  async tag(source: string, target: string): Promise<void> {
    await this.#exclusive(async () => {
      const row = this.#find(source);
      const ref = parseReference(target);
      if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
      this.#records.setRef(refKey(ref), row.id, 'tag');
      this.#event('tag', row.id, { name: familiarString(ref) });
    });
  }

  /**
   * POST /images/load: reads a docker-archive or OCI layout (plain or gzip) and yields Docker's
   * messages ("Loaded image: busybox:latest", "Loaded image ID: sha256:…" for untagged ones).
   */
  async *load(stream: Readable, opts: { quiet?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<api.JsonMessage> {
    const messages = await this.#exclusive(() => this.#load(stream, opts.signal));
    yield* messages;
  }

  async #load(stream: Readable, signal: AbortSignal | undefined): Promise<api.JsonMessage[]> {
    const archive = await readImageArchive(stream, { tmpRoot: join(this.#d.dataRoot, 'tmp'), ...(signal ? { signal } : {}) });
    const out: api.JsonMessage[] = [];
    try {
      for (const img of archive.images) {
        const refs = img.refs.map((r) => parseReference(r));
        await this.#store(img.configBytes, img.config.rootfs.diff_ids, (i) => Promise.resolve(createReadStream(img.layerPaths[i]!)), signal);
        for (const ref of refs) {
          const prev = this.#records.setRef(refKey(ref), img.id, 'tag');
          if (prev) out.push({ stream: `The image ${familiarString(ref)} already exists, renaming the old one with ID ${prev} to empty string\n` });
          out.push({ stream: `Loaded image: ${familiarString(ref)}\n` });
          this.#event('load', img.id, { name: familiarString(ref) });
        }
        if (refs.length === 0) {
          out.push({ stream: `Loaded image ID: ${img.id}\n` });
          this.#event('load', img.id, { name: img.id });
        }
      }
    } finally {
      await archive.cleanup();
    }
    return out;
  }

  /** Stores an image (config + layers) unless complete already; pending first, complete last. */
  async #store(configBytes: Buffer, diffIds: readonly string[], open: (i: number) => Promise<Readable>, signal?: AbortSignal): Promise<string> {
    const id = imageIdOf(configBytes);
    const text = configBytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(configBytes)) throw invalid('invalid image config: not UTF-8');
    if (this.#records.get(id)) return id;
    const chains = chainIds(diffIds);
    const revived = this.#records.getAny(id)?.state === 'deleted';
    this.#records.insertPending(id, text, chains);
    let size = 0;
    try {
      for (let i = 0; i < diffIds.length; i++) {
        const r = await ingestLayer(this.#layers, { open: () => open(i), diffId: diffIds[i]!, chainId: chains[i]!, parent: chains[i - 1] ?? null, ...(signal ? { signal } : {}) });
        size += r.size;
      }
    } catch (err) {
      // A 'deleted' row kept for its containers goes back to that state, not away.
      if (revived) this.#records.setState(id, 'deleted');
      await this.#rollback(id, chains);
      throw err;
    }
    this.#records.setState(id, 'complete', size);
    return id;
  }

  /**
   * Undoes a failed load or import at once rather than at the next start: the pending image row,
   * then every layer no image uses among its chains and the pending ones (#exclusive holds, so
   * all pending layers are this operation's), with their blobs and snapshots.
   */
  async #rollback(id: string | undefined, chains: readonly string[]): Promise<void> {
    if (id !== undefined && this.#records.getAny(id)?.state === 'pending') this.#records.deleteImage(id);
    await removeUnusedLayers(this.#layers, [...chains, ...this.#records.layers('pending').map((l) => l.chainId)]);
  }

  /**
   * POST /images/create?fromSrc=-: a single-layer image from a rootfs tarball (plain or gzip),
   * with `changes` applied to its config. Returns the new image ID.
   */
  async import(stream: Readable, opts: ImportOptions = {}): Promise<string> {
    const ref = opts.ref ? parseReference(opts.ref) : undefined;
    if (ref?.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
    const config = applyChanges({}, opts.changes ?? []);
    const [os = 'linux', arch = hostArchitecture(), variant] = (opts.platform ?? '').split('/').map((s) => s || undefined);
    if (os !== 'linux') throw invalid(`operating system is not supported: ${os}`);
    return this.#exclusive(async () => {
      const layer = await ingestLayer(this.#layers, { open: async () => stream, parent: null, ...(opts.signal ? { signal: opts.signal } : {}) })
        .catch(async (err: unknown) => { await this.#rollback(undefined, []); throw err; });
      const created = new Date().toISOString();
      const comment = opts.message || 'Imported from -';
      const blob: api.ImageConfigBlob = {
        architecture: arch, os, ...(variant ? { variant } : {}), created, comment,
        ...(Object.keys(config).length > 0 ? { config } : {}),
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created, comment }],
      };
      const id = await this.#store(Buffer.from(JSON.stringify(blob)), [layer.diffId], async () => { throw new EngineError('Internal', 'layer already stored'); });
      if (ref) this.#records.setRef(refKey(ref), id, 'tag');
      this.#event('import', id, ref ? { name: familiarString(ref) } : {});
      return id;
    });
  }

  /**
   * POST /commit: a new image made of the image `parentId` (found even when removed with force
   * while a container used it) plus one layer read from `layer`, a layer tar in the Docker/OCI
   * format. `layerRead` runs once the layer is stored and before it is unpacked (commit unpauses
   * the container there). `config` builds the config blob from the new layer's diffID.
   */
  async commit(opts: { parentId: string; layer: Readable; layerRead?: () => Promise<void>; config: (parent: api.ImageConfigBlob, diffId: string) => api.ImageConfigBlob; ref?: string }): Promise<string> {
    const ref = opts.ref ? parseReference(opts.ref) : undefined;
    if (ref?.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
    const parentRow = this.#records.getAny(opts.parentId);
    if (!parentRow) throw notFound(`No such image: ${opts.parentId}`);
    const parent = parseImageConfig(parentRow.config);
    return this.#exclusive(async () => {
      let diffId: string;
      try {
        diffId = (await this.#d.blobs.put(opts.layer)).digest;
      } finally {
        await opts.layerRead?.();
      }
      const blob = opts.config(parent, diffId);
      const id = await this.#store(Buffer.from(JSON.stringify(blob)), blob.rootfs.diff_ids, async (i) => this.#d.blobs.open(blob.rootfs.diff_ids[i]!));
      if (ref) this.#records.setRef(refKey(ref), id, 'tag');
      return id;
    });
  }

  /**
   * GET /images/get: a docker-archive of the named images to `out`. A bare repository name
   * ("busybox") saves all its tags; an ID saves the image untagged. NotFound for an unknown name.
   */
  async save(refs: readonly string[], out: Writable): Promise<void> {
    const byId = new Map<string, { row: ImageRow; tags: ImageReference[] }>();
    const add = (row: ImageRow, tag?: ImageReference) => {
      const e = byId.get(row.id) ?? { row, tags: [] };
      if (tag && !e.tags.some((t) => refKey(t) === refKey(tag))) e.tags.push(tag);
      byId.set(row.id, e);
    };
    for (const input of refs) {
      const bare = HEX_PREFIX.test(input) ? undefined : parseReference(input, { defaultTag: false });
      if (bare && bare.tag === undefined && bare.digest === undefined) {
        const prefix = `${bare.domain}/${bare.path}:`;
        const tags = this.#records.allRefs().filter((r) => r.kind === 'tag' && r.ref.startsWith(prefix));
        for (const t of tags) add(this.#records.get(t.imageId)!, parseRefKey(t.ref));
        if (tags.length > 0) continue;
      }
      const row = this.#find(input);
      add(row, bare && bare.digest === undefined ? parseReference(input) : undefined);
    }
    await writeImageArchive(
      [...byId.values()].map((e) => ({ configBytes: Buffer.from(e.row.config, 'utf8'), tags: e.tags })),
      async (diffId) => ({ stream: await this.#d.blobs.open(diffId), size: await this.#d.blobs.size(diffId) }),
      out,
    );
    for (const id of byId.keys()) this.#event('save', id, {});
  }

  /** DELETE /images/{name}: Docker's untag/delete records. See planRemove for the rules. */
  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<api.ImageDeleteEntry[]> {
    return this.#exclusive(async () => {
      const row = this.#find(ref);
      const users = this.#d.containersUsingImage(row.id);
      const plan = planRemove(this.#records, { input: ref, imageId: row.id, force: opts.force ?? false, users });
      const records = untaggedRecords(plan);
      this.#records.tx(() => { for (const r of plan.untag) this.#records.deleteRef(r.ref); });
      for (const r of records) if ('Untagged' in r) this.#event('untag', row.id, { name: r.Untagged });
      if (plan.deleteImage) records.push(...(await this.#delete(row, users.length > 0)).records);
      return records;
    });
  }

  /** Deletes an image and its unused layers; one still used by a container is only hidden. */
  async #delete(row: ImageRow, used: boolean): Promise<{ records: api.ImageDeleteEntry[]; freed: number }> {
    this.#records.tx(() => {
      for (const r of this.#records.refsOf(row.id)) this.#records.deleteRef(r.ref);
      if (used) this.#records.setState(row.id, 'deleted');
      else this.#records.deleteImage(row.id);
    });
    this.#event('delete', row.id, {});
    const records: api.ImageDeleteEntry[] = [{ Deleted: row.id }];
    let freed = 0;
    if (!used) {
      for (const l of await removeUnusedLayers(this.#layers, row.layers)) {
        records.push({ Deleted: l.chainId });
        freed += l.size;
      }
    }
    return { records, freed };
  }

  /** POST /images/prune: dangling images (all unused ones with `all`) that no container uses. */
  async prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<{ ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number }> {
    const pred = prunePredicate(opts.filters ?? new Map(), opts.all ?? false);
    return this.#exclusive(async () => {
      const deleted: api.ImageDeleteEntry[] = [];
      let space = 0;
      for (const row of this.#records.list()) {
        const v = this.#view(row);
        if (this.#d.containersUsingImage(row.id).length > 0) continue;
        if (!pred({ id: row.id, created: unixSeconds(v.config.created), labels: labelsOf(v), refs: [...v.tags, ...v.digests] })) continue;
        for (const t of [...v.tags, ...v.digests]) {
          deleted.push({ Untagged: familiarString(t) });
          this.#event('untag', row.id, { name: familiarString(t) });
        }
        const removed = await this.#delete(row, false);
        deleted.push(...removed.records);
        space += removed.freed;
      }
      await this.#gc();
      this.#event('prune', '', { reclaimed: String(space) });
      return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: space };
    });
  }

  /** Drops images removed with force once no container uses them. Call after removing a container. */
  gc(): Promise<void> {
    return this.#exclusive(() => this.#gc());
  }

  async #gc(): Promise<void> {
    for (const row of this.#records.list('deleted')) {
      if (this.#d.containersUsingImage(row.id).length > 0) continue;
      this.#records.deleteImage(row.id);
      await removeUnusedLayers(this.#layers, row.layers);
    }
  }

  /** Start-up recovery: see recoverImages. */
  recover(): Promise<void> {
    return this.#exclusive(async () => {
      await recoverImages(this.#d);
      await this.#gc();
    });
  }
}

/**
 * Rolls back what a crash interrupted, before the daemon serves: pending image rows, pending
 * layers (row, snapshot, blob), snapshot temp dirs, blob temp files and archive spools.
 */
export async function recoverImages(d: Pick<ImageServiceDeps, 'db' | 'blobs' | 'snapshotter' | 'dataRoot'>): Promise<void> {
  const records = new ImageRecords(d.db);
  for (const row of records.list('pending')) records.deleteImage(row.id);
  // Pending layers, and complete ones no image refers to (an import interrupted between its
  // layer and its image row, or the layers of a pending image just dropped).
  const used = records.usedChainIds();
  const doomed = [...records.layers('pending'), ...records.layers('complete').filter((l) => !used.has(l.chainId))];
  for (const l of doomed) {
    await d.snapshotter.removeLayer(l.chainId);
    records.deleteLayer(l.chainId);
    if (l.blob && !records.blobUsedElsewhere(l.blob, l.chainId)) await d.blobs.delete(l.blob);
  }
  await d.snapshotter.recover();
  const blobs = d.blobs as BlobStore & { cleanTemp?: () => Promise<void> };
  await blobs.cleanTemp?.();
  const tmp = join(d.dataRoot, 'tmp');
  const names = await readdir(tmp).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return [] as string[];
    throw err;
  });
  for (const n of names) if (n.startsWith('load-')) await rm(join(tmp, n), { recursive: true, force: true });
}
