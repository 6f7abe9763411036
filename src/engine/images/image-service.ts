import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Transform, type Readable, type Writable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import { EngineError, invalid, isErrno, kindOf, notFound } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import { familiarName, familiarString, parseRefKey, parseReference, refKey, registryDomainOf, repositoryName, type ImageReference } from '../../lib/reference.ts';
import { chainIds, hostArchitecture, imageIdOf, parseImageConfig, readImageArchive, writeImageArchive, type MakeWhiteouts } from '../../image/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { Db } from '../../store/db.ts';
import { applyChanges } from './changes.ts';
import { listPredicate, listedReferences, prunePredicate } from './filters.ts';
import { ingestLayer, removeUnusedLayers, type LayerDeps } from './layers.ts';
import { ImageRecords, type ImageRow } from './records.ts';
import { planRemove, untaggedRecords, type ImageUser } from './remove.ts';
import { DistributionRecords } from './distribution-records.ts';
import { checkPlatform, downloadBlob, parsePlatform, pullError, resolveImageManifest } from './pull.ts';
import { pushedMessages, pushImage } from './push.ts';
import { layerStatus, shortId, streamOf, throttled, type MessageChannel } from './progress.ts';
import { Semaphore } from '../../lib/semaphore.ts';
import type { Descriptor, RegistryAuth, RegistryClientApi, RepositorySession } from '../../registry/client/contract.ts';
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
  /** True for a build's intermediate image (a build step's parent): `images` without -a hides it untagged. */
  isIntermediate?: (imageId: string) => boolean;
  /** The distribution client; pull, push and login need it. */
  registry?: RegistryClientApi;
  /** Layers downloaded at once per pull (Docker's max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Layers uploaded at once per push (max-concurrent-uploads, default 5). */
  maxConcurrentUploads?: number;
}

export interface PullOptions {
  auth?: RegistryAuth;
  /** Pull every tag of a reference that names no tag (`pull -a`). */
  allTags?: boolean;
  /** "linux/arm64"; the host's when absent. */
  platform?: string;
  signal?: AbortSignal;
}

export interface PushOptions {
  /** Push only this tag; all of the repository's tags when absent. */
  tag?: string;
  auth?: RegistryAuth;
  signal?: AbortSignal;
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
  readonly #dist: DistributionRecords;

  constructor(deps: ImageServiceDeps) {
    this.#d = deps;
    this.#records = new ImageRecords(deps.db);
    this.#dist = new DistributionRecords(deps.db);
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
    const filters = opts.filters ?? new Map();
    return this.#records.list()
      .map((row) => this.#view(row))
      .filter((v) => pred({ id: v.row.id, created: unixSeconds(v.config.created), labels: labelsOf(v), refs: [...v.tags, ...v.digests] }))
      .filter((v) => opts.all || v.tags.length + v.digests.length > 0 || !this.#d.isIntermediate?.(v.row.id))
      .map((v) => toApiSummary({ ...v, tags: listedReferences(filters, v.tags), digests: listedReferences(filters, v.digests) }))
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
    // The images loaded before a failure stay loaded (as in dockerd): their messages come first.
    const out: api.JsonMessage[] = [];
    let failure: { err: unknown } | undefined;
    await this.#exclusive(() => this.#load(stream, opts.signal, out)).catch((err: unknown) => { failure = { err }; });
    yield* out;
    if (failure) throw failure.err;
  }

  async #load(stream: Readable, signal: AbortSignal | undefined, out: api.JsonMessage[]): Promise<void> {
    const archive = await readImageArchive(stream, { tmpRoot: join(this.#d.dataRoot, 'tmp'), ...(signal ? { signal } : {}) });
    try {
      for (const img of archive.images) {
        const refs = img.refs.map((r) => parseReference(r));
        const diffIds = img.config.rootfs.diff_ids;
        // Layers spooled as blobs/sha256/<diffID> were verified on the way in: the store takes the files over.
        const verified = (i: number) => (img.layerDigests[i] === diffIds[i] ? img.layerPaths[i] : undefined);
        await this.#store(img.configBytes, diffIds, (i) => Promise.resolve(createReadStream(img.layerPaths[i]!)), signal, undefined, verified);
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
  }

  /** Stores an image (config + layers) unless complete already; pending first, complete last. */
  async #store(configBytes: Buffer, diffIds: readonly string[], open: (i: number) => Promise<Readable>, signal?: AbortSignal, layerDone?: (i: number) => void, verifiedFile?: (i: number) => string | undefined, prepared?: (i: number) => string | undefined): Promise<string> {
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
        const file = verifiedFile?.(i);
        const dir = prepared?.(i);
        const r = await ingestLayer(this.#layers, { open: () => open(i), diffId: diffIds[i]!, chainId: chains[i]!, parent: chains[i - 1] ?? null, ...(file !== undefined ? { verifiedFile: file } : {}), ...(dir !== undefined ? { prepared: dir } : {}), ...(signal ? { signal } : {}) });
        size += r.size;
        layerDone?.(i);
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
   * A build step's image (untagged): `config(diffId)` over layers already stored, plus one new
   * top layer read from `layer` (a layer tar) when given; `layerDir` is that layer already unpacked
   * (an unmounted snapshot's upper dir), moved into place instead of unpacking the tar. Returns the image ID.
   */
  async storeBuilt(opts: { layer?: Readable; layerDir?: string; config: (diffId: string | undefined) => api.ImageConfigBlob; signal?: AbortSignal }): Promise<string> {
    return this.#exclusive(async () => {
      const diffId = opts.layer ? (await this.#d.blobs.put(opts.layer, undefined, opts.signal ? { signal: opts.signal } : {})).digest : undefined;
      const blob = opts.config(diffId);
      const top = blob.rootfs.diff_ids.length - 1;
      // The layer `layer` was read from is already unpacked in `layerDir`: moved, not unpacked again.
      const prepared = (i: number) => (diffId !== undefined && i === top && opts.layerDir !== undefined ? opts.layerDir : undefined);
      return this.#store(Buffer.from(JSON.stringify(blob)), blob.rootfs.diff_ids, async (i) => this.#d.blobs.open(blob.rootfs.diff_ids[i]!), opts.signal, undefined, undefined, prepared);
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

  /**
   * POST /images/create?fromImage=: pulls an image from its registry, yielding Docker's progress
   * messages. Layers download in parallel (max-concurrent-downloads) and are unpacked in order as
   * soon as each one's turn comes; the image appears only once complete. Errors before the first
   * message (unknown image, bad credentials, registry down) are thrown: the client gets a status.
   */
  pull(input: string, opts: PullOptions = {}): AsyncIterable<api.JsonMessage> {
    if (!opts.allTags) return streamOf((out) => this.#pull(input, opts, out));
    return streamOf(async (out) => {
      const repo = parseReference(input, { defaultTag: false });
      const session = this.#requireRegistry().repository({ domain: repo.domain, path: repo.path }, opts.auth, 'pull');
      const tags = await session.listTags(opts.signal).catch((err: unknown) => { throw pullError(err, familiarName(repo), familiarName(repo)); });
      if (tags.length === 0) throw notFound(`repository ${familiarName(repo)} has no tags`);
      for (const tag of tags) await this.#pull(familiarString({ ...repo, tag }), { ...opts, allTags: false }, out);
    });
  }

  /** POST /auth: checks credentials with the registry at serverAddress (Docker Hub when empty). */
  async login(serverAddress: string, auth: RegistryAuth, signal?: AbortSignal): Promise<api.AuthResponse> {
    const r = await this.#requireRegistry().login(registryDomainOf(serverAddress), auth, signal);
    return { Status: 'Login Succeeded', ...(r.identityToken ? { IdentityToken: r.identityToken } : {}) };
  }

  /**
   * GET /images/search: "term" is searched on Docker Hub, or on the registry it names
   * ("localhost:5000/app"). Filters: is-official, stars (at least N).
   */
  async search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryAuth; signal?: AbortSignal }): Promise<api.ImageSearchResult[]> {
    const slash = term.indexOf('/');
    const first = slash > 0 ? term.slice(0, slash) : '';
    const named = /[.:]/.test(first) || first === 'localhost';
    const domain = named ? registryDomainOf(first) : 'docker.io';
    const query = named ? term.slice(slash + 1) : term;
    const results = await this.#requireRegistry().search(domain, query, opts.limit, opts.auth, opts.signal);
    const official = opts.filters.get('is-official')?.[0];
    const stars = Number(opts.filters.get('stars')?.[0] ?? 0);
    if (!Number.isFinite(stars)) throw invalid(`invalid filter 'stars=${opts.filters.get('stars')?.[0]}'`);
    return results.filter((r) => (official === undefined || String(r.is_official) === official) && r.star_count >= stars);
  }

  async #pull(input: string, opts: PullOptions, out: MessageChannel): Promise<void> {
    const registry = this.#requireRegistry();
    const ref = parseReference(input);
    const platform = parsePlatform(opts.platform);
    const signal = opts.signal;
    const session = registry.repository({ domain: ref.domain, path: ref.path }, opts.auth, 'pull');
    const resolved = await resolveImageManifest(session, ref.digest ?? ref.tag!, platform, signal)
      .catch((err: unknown) => { throw pullError(err, familiarString(ref), familiarName(ref)); });
    const configBytes = await session.getBlobBytes(resolved.config, signal);
    const config = parseImageConfig(configBytes);
    if (opts.platform && !resolved.fromIndex) checkPlatform(config, platform, familiarString(ref));
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== resolved.layers.length) {
      throw invalid(`manifest ${resolved.manifest.digest}: ${resolved.layers.length} layers but the image config has ${diffIds.length}`);
    }
    out.push({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag! });
    const id = imageIdOf(configBytes);
    const fresh = !this.#records.get(id);
    if (fresh) await this.#exclusive(() => this.#pullLayers(session, resolved.layers, configBytes, out, signal));
    // Docker's wording: "Downloaded newer image" when the name now points somewhere new.
    const updated = await this.#exclusive(async () => {
      if (!this.#records.get(id)) throw notFound(`image ${id} was removed while it was pulled`);
      const named = ref.tag !== undefined ? refKey(ref) : refKey({ domain: ref.domain, path: ref.path, digest: resolved.digest });
      const before = this.#records.lookupRef(named);
      const prev = ref.tag !== undefined ? this.#records.setRef(refKey(ref), id, 'tag') : undefined;
      this.#records.setRef(refKey({ domain: ref.domain, path: ref.path, digest: resolved.digest }), id, 'digest');
      if (prev) this.#event('untag', prev, {});
      return before !== id;
    });
    out.push({ status: `Digest: ${resolved.digest}` });
    out.push({ status: fresh || updated ? `Status: Downloaded newer image for ${familiarString(ref)}` : `Status: Image is up to date for ${familiarString(ref)}` });
    this.#event('pull', familiarString(ref), { name: familiarName(ref) });
  }

  /** Downloads and unpacks the layers the store lacks; holds the image lock (pending rows are ours). */
  async #pullLayers(session: RepositorySession, layers: readonly Descriptor[], configBytes: Buffer, out: MessageChannel, signal?: AbortSignal): Promise<void> {
    const config = parseImageConfig(configBytes);
    const diffIds = config.rootfs.diff_ids;
    const chains = chainIds(diffIds);
    const have = await Promise.all(chains.map(async (c, i) => {
      const row = this.#records.layer(c);
      return row?.state === 'complete' && (await this.#d.snapshotter.hasLayer(c)) && (await this.#d.blobs.has(diffIds[i]!));
    }));
    const limit = new Semaphore(this.#d.maxConcurrentDownloads ?? 3);
    const downloads = new Map<number, Promise<void>>();
    const download = (i: number): Promise<void> => {
      let p = downloads.get(i);
      if (p) return p;
      const desc = layers[i]!;
      const id = shortId(desc.digest);
      if (limit.busy) out.push(layerStatus(id, 'Waiting'));
      p = limit.run(async () => {
        if (!(await this.#d.blobs.has(desc.digest))) {
          const report = throttled(100, (n) => out.push(layerStatus(id, 'Downloading', { current: n, total: desc.size })));
          await downloadBlob(session, desc, this.#d.blobs, { onProgress: report, ...(signal ? { signal } : {}) });
          out.push(layerStatus(id, 'Verifying Checksum'));
        }
        this.#dist.addLayerBlob({ digest: desc.digest, diffId: diffIds[i]!, mediaType: desc.mediaType, size: desc.size });
        this.#dist.addSource(desc.digest, session.repo.domain, session.repo.path);
        out.push(layerStatus(id, 'Download complete'));
      });
      downloads.set(i, p);
      // Awaited by open() in layer order; a failure also surfaces there or in #store's rollback.
      p.catch(() => undefined);
      return p;
    };
    layers.forEach((l, i) => out.push(layerStatus(shortId(l.digest), have[i] ? 'Already exists' : 'Pulling fs layer')));
    layers.forEach((_, i) => { if (!have[i]) void download(i); });
    const open = async (i: number): Promise<Readable> => {
      const desc = layers[i]!;
      await download(i);
      const id = shortId(desc.digest);
      const report = throttled(100, (n) => out.push(layerStatus(id, 'Extracting', { current: n, total: desc.size })));
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) { seen += chunk.length; report(seen); cb(null, chunk); },
      });
      pipeline(await this.#d.blobs.open(desc.digest), counter, () => undefined);
      return counter;
    };
    try {
      await this.#store(configBytes, diffIds, open, signal, (i) => { if (!have[i]) out.push(layerStatus(shortId(layers[i]!.digest), 'Pull complete')); });
    } catch (err) {
      // A failed pull still waits for its transfers, so none writes after the lock is released.
      await Promise.allSettled(downloads.values());
      // Downloads are kept for the next try, unless the content itself was refused (a
      // decompression bomb, a broken tar): those would only fail again.
      if (kindOf(err) === 'InvalidParameter') {
        const mine = new Set(layers.map((l) => l.digest));
        for (const b of this.#dist.orphanLayerBlobs()) {
          if (!mine.has(b.digest)) continue;
          this.#dist.deleteLayerBlob(b.digest);
          await this.#d.blobs.delete(b.digest);
        }
      }
      throw err;
    } finally {
      await Promise.allSettled(downloads.values());
    }
  }

  /**
   * POST /images/{name}/push: uploads the named tag (or every tag of the repository) to its
   * registry with Docker's progress messages, then records the pushed digest as a repo digest.
   */
  push(name: string, opts: PushOptions = {}): AsyncIterable<api.JsonMessage> {
    return streamOf((out) => this.#push(name, opts, out));
  }

  async #push(name: string, opts: PushOptions, out: MessageChannel): Promise<void> {
    const registry = this.#requireRegistry();
    const repo = parseReference(name, { defaultTag: false });
    const base = { domain: repo.domain, path: repo.path };
    const tag = opts.tag || repo.tag;
    const prefix = `${repositoryName(base)}:`;
    const tags = tag !== undefined ? [tag] : this.#records.allRefs().filter((r) => r.kind === 'tag' && r.ref.startsWith(prefix)).map((r) => r.ref.slice(prefix.length));
    if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    const rows = tags.map((t) => {
      const id = this.#records.lookupRef(refKey({ ...base, tag: t }));
      const row = id && this.#records.get(id);
      if (!row) throw notFound(`An image does not exist locally with the tag: ${familiarString({ ...base, tag: t })}`);
      return { tag: t, row };
    });
    const session = registry.repository(base, opts.auth, 'pull,push');
    out.push({ status: `The push refers to repository [${repositoryName(base)}]` });
    for (const { tag: t, row } of rows) {
      const configBytes = Buffer.from(row.config, 'utf8');
      const img = { configBytes, imageId: row.id, diffIds: parseImageConfig(configBytes).rootfs.diff_ids };
      const pushed = await pushImage({ blobs: this.#d.blobs, dist: this.#dist, maxConcurrentUploads: this.#d.maxConcurrentUploads ?? 5 }, session, img, t, out, opts.signal);
      this.#records.setRef(refKey({ ...base, digest: pushed.digest }), row.id, 'digest');
      for (const m of pushedMessages(t, pushed)) out.push(m);
      this.#event('push', familiarString({ ...base, tag: t }), { name: familiarName(base as ImageReference) });
    }
  }

  #requireRegistry(): RegistryClientApi {
    if (!this.#d.registry) throw new EngineError('NotImplemented', 'this daemon has no registry client');
    return this.#d.registry;
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
      freed += await this.#dropOrphanLayerBlobs();
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
      space += await this.#dropOrphanLayerBlobs();
      this.#event('prune', '', { reclaimed: String(space) });
      return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: space };
    });
  }

  /**
   * Deletes the compressed forms of layers no layer row holds any more. Not part of a failed
   * pull's rollback: the blobs it completed stay, so the next pull of the image reuses them.
   */
  async #dropOrphanLayerBlobs(): Promise<number> {
    let freed = 0;
    for (const b of this.#dist.orphanLayerBlobs()) {
      this.#dist.deleteLayerBlob(b.digest);
      await this.#d.blobs.delete(b.digest);
      freed += b.size;
    }
    return freed;
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
