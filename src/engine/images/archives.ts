import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { EngineError, invalid, notFound } from '../../lib/errors.ts';
import { familiarString, parseRefKey, parseReference, refKey, type ImageReference } from '../../lib/reference.ts';
import { hostArchitecture, parseImageConfig, readImageArchive, writeImageArchive } from '../../image/index.ts';
import { outputProgress, type Progress } from '../../lib/progress.ts';
import type { ImportImageOptions } from '../contracts/images.ts';
import { applyChanges } from './changes.ts';
import { HEX_PREFIX, type ImageStore } from './image-store.ts';
import { ingestLayer } from './layers.ts';
import type { ImageRow } from './records.ts';
import type { ImageConfig } from '../../image/index.ts';

export type ImportOptions = ImportImageOptions;

/** POST /commit's input: see ImageArchives.commit. */
export interface CommitImageOptions {
  parentId: string;
  layer: Readable;
  layerRead?: () => Promise<void>;
  config: (parent: ImageConfig, diffId: string) => ImageConfig;
  ref?: string;
}

/** A build step's image: see ImageArchives.storeBuilt. */
export interface StoreBuiltOptions {
  layer?: Readable;
  layerDir?: string;
  config: (diffId: string | undefined) => ImageConfig;
  signal?: AbortSignal;
}

/** A target reference for a new image; InvalidParameter for a digest. */
function tagTarget(ref: string | undefined): ImageReference | undefined {
  const parsed = ref ? parseReference(ref) : undefined;
  if (parsed?.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
  return parsed;
}

/**
 * Images that come from or go to files and streams: docker-archive / OCI layout load and save,
 * rootfs import, container commit and build steps. Each records its intent first (see
 * ImageStore.store) and rolls back on failure. Errors: InvalidParameter (bad archives and
 * references), NotFound for unknown names to save, NotImplemented (zstd layers).
 */
export class ImageArchives {
  constructor(private readonly s: ImageStore) {}

  /**
   * POST /images/load: reads a docker-archive or OCI layout (plain or gzip) and yields Docker's
   * messages ("Loaded image: busybox:latest", "Loaded image ID: sha256:…" for untagged ones).
   */
  async *load(stream: Readable, opts: { quiet?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<Progress> {
    // The images loaded before a failure stay loaded (as in dockerd): their messages come first.
    const out: Progress[] = [];
    let failure: { err: unknown } | undefined;
    await this.s.exclusive(() => this.#load(stream, opts.signal, out)).catch((err: unknown) => { failure = { err }; });
    yield* out;
    if (failure) throw failure.err;
  }

  async #load(stream: Readable, signal: AbortSignal | undefined, out: Progress[]): Promise<void> {
    const archive = await readImageArchive(stream, { tmpRoot: join(this.s.d.dataRoot, 'tmp'), ...(signal ? { signal } : {}) });
    try {
      for (const img of archive.images) {
        const refs = img.refs.map((r) => parseReference(r));
        const diffIds = img.config.rootfs.diff_ids;
        // Layers spooled as blobs/sha256/<diffID> were verified on the way in: the store takes the files over.
        const verifiedFile = (i: number) => (img.layerDigests[i] === diffIds[i] ? img.layerPaths[i] : undefined);
        const open = (i: number) => Promise.resolve(createReadStream(img.layerPaths[i]!));
        await this.s.store(img.configBytes, diffIds, { open, verifiedFile, ...(signal ? { signal } : {}) });
        for (const ref of refs) {
          const prev = this.s.records.setRef(refKey(ref), img.id, 'tag');
          if (prev) out.push(outputProgress(`The image ${familiarString(ref)} already exists, renaming the old one with ID ${prev} to empty string\n`));
          out.push(outputProgress(`Loaded image: ${familiarString(ref)}\n`));
          this.s.event('load', img.id, { name: familiarString(ref) });
        }
        if (refs.length === 0) {
          out.push(outputProgress(`Loaded image ID: ${img.id}\n`));
          this.s.event('load', img.id, { name: img.id });
        }
      }
    } finally {
      await archive.cleanup();
    }
  }

  /**
   * POST /images/create?fromSrc=-: a single-layer image from a rootfs tarball (plain or gzip),
   * with `changes` applied to its config. Returns the new image ID.
   */
  async import(stream: Readable, opts: ImportOptions = {}): Promise<string> {
    const ref = tagTarget(opts.ref);
    const config = applyChanges({}, opts.changes ?? []);
    const [os = 'linux', arch = hostArchitecture(), variant] = (opts.platform ?? '').split('/').map((s) => s || undefined);
    if (os !== 'linux') throw invalid(`operating system is not supported: ${os}`);
    return this.s.exclusive(async () => {
      const layer = await ingestLayer(this.s.layers, { open: async () => stream, parent: null, ...(opts.signal ? { signal: opts.signal } : {}) })
        .catch(async (err: unknown) => { await this.s.rollback(undefined, []); throw err; });
      const created = new Date().toISOString();
      const comment = opts.message || 'Imported from -';
      const blob: ImageConfig = {
        architecture: arch, os, ...(variant ? { variant } : {}), created, comment,
        ...(Object.keys(config).length > 0 ? { config } : {}),
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created, comment }],
      };
      const id = await this.s.store(Buffer.from(JSON.stringify(blob)), [layer.diffId], {
        open: async () => { throw new EngineError('Internal', 'layer already stored'); },
      });
      if (ref) this.s.records.setRef(refKey(ref), id, 'tag');
      this.s.event('import', id, ref ? { name: familiarString(ref) } : {});
      return id;
    });
  }

  /**
   * POST /commit: a new image made of the image `parentId` (found even when removed with force
   * while a container used it) plus one layer read from `layer`, a layer tar in the Docker/OCI
   * format. `layerRead` runs once the layer is stored and before it is unpacked (commit unpauses
   * the container there). `config` builds the config blob from the new layer's diffID.
   */
  async commit(opts: CommitImageOptions): Promise<string> {
    const ref = tagTarget(opts.ref);
    const parentRow = this.s.records.getAny(opts.parentId);
    if (!parentRow) throw notFound(`No such image: ${opts.parentId}`);
    const parent = parseImageConfig(parentRow.config);
    return this.s.exclusive(async () => {
      let diffId: string;
      try {
        diffId = (await this.s.d.blobs.put(opts.layer)).digest;
      } finally {
        await opts.layerRead?.();
      }
      const blob = opts.config(parent, diffId);
      const diffIds = blob.rootfs.diff_ids;
      const id = await this.s.store(Buffer.from(JSON.stringify(blob)), diffIds, { open: async (i) => this.s.d.blobs.open(diffIds[i]!) });
      if (ref) this.s.records.setRef(refKey(ref), id, 'tag');
      return id;
    });
  }

  /**
   * A build step's image (untagged): `config(diffId)` over layers already stored, plus one new
   * top layer read from `layer` (a layer tar) when given; `layerDir` is that layer already unpacked
   * (an unmounted snapshot's upper dir), moved into place instead of unpacking the tar. Returns the image ID.
   */
  async storeBuilt(opts: StoreBuiltOptions): Promise<string> {
    return this.s.exclusive(async () => {
      const diffId = opts.layer ? (await this.s.d.blobs.put(opts.layer, undefined, opts.signal ? { signal: opts.signal } : {})).digest : undefined;
      const blob = opts.config(diffId);
      const diffIds = blob.rootfs.diff_ids;
      const top = diffIds.length - 1;
      // The layer `layer` was read from is already unpacked in `layerDir`: moved, not unpacked again.
      const prepared = (i: number) => (diffId !== undefined && i === top && opts.layerDir !== undefined ? opts.layerDir : undefined);
      return this.s.store(Buffer.from(JSON.stringify(blob)), diffIds, {
        open: async (i) => this.s.d.blobs.open(diffIds[i]!), prepared, ...(opts.signal ? { signal: opts.signal } : {}),
      });
    });
  }

  /**
   * GET /images/get: a docker-archive of the named images to `out`. A bare repository name
   * ("busybox") saves all its tags; an ID saves the image untagged. NotFound for an unknown name.
   */
  async save(refs: readonly string[], out: Writable): Promise<void> {
    const byId = this.#imagesToSave(refs);
    await writeImageArchive(
      [...byId.values()].map((e) => ({ configBytes: Buffer.from(e.row.config, 'utf8'), tags: e.tags })),
      async (diffId) => ({ stream: await this.s.d.blobs.open(diffId), size: await this.s.d.blobs.size(diffId) }),
      out,
    );
    for (const id of byId.keys()) this.s.event('save', id, {});
  }

  /** The images `save` writes, each with the tags it is saved under. */
  #imagesToSave(refs: readonly string[]): Map<string, { row: ImageRow; tags: ImageReference[] }> {
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
        const tags = this.s.records.allRefs().filter((r) => r.kind === 'tag' && r.ref.startsWith(prefix));
        for (const t of tags) add(this.s.records.get(t.imageId)!, parseRefKey(t.ref));
        if (tags.length > 0) continue;
      }
      const row = this.s.find(input);
      add(row, bare && bare.digest === undefined ? parseReference(input) : undefined);
    }
    return byId;
  }
}
