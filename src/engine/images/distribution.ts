import { pipeline, Transform, type Readable } from 'node:stream';
import { EngineError, invalid, kindOf, notFound } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { familiarName, familiarString, parseReference, refKey, registryDomainOf, repositoryName, type ImageReference } from '../../lib/reference.ts';
import { Semaphore } from '../../lib/semaphore.ts';
import { chainIds, imageIdOf, parseImageConfig } from '../../image/index.ts';
import type { Descriptor, RegistryAuth, RegistryClientApi, RepositorySession } from '../../registry/client/contract.ts';
import type { ImageSearchHit, PullImageOptions, PushImageOptions } from '../contracts/images.ts';
import type { ImageStore } from './image-store.ts';
import { layerProgress, progressMessage, type Progress } from '../../lib/progress.ts';
import { shortId, streamOf, throttled, type MessageChannel } from './progress.ts';
import { checkPlatform, downloadBlob, parsePlatform, pullError, resolveImageManifest, type ResolvedManifest } from './pull.ts';
import { pushedMessages, pushImage } from './push.ts';

export type PullOptions = PullImageOptions;
export type PushOptions = PushImageOptions;

/** One pull's layers: what it downloads, in which session, and where it reports. */
interface LayerPull {
  session: RepositorySession;
  layers: readonly Descriptor[];
  diffIds: readonly string[];
  out: MessageChannel;
  signal?: AbortSignal | undefined;
}

/**
 * Images and registries: pull (Docker's progress messages, layers downloaded in parallel and
 * unpacked in order), push, login and search. Errors: NotFound in Docker's pull wording,
 * Unauthorized, Unavailable (registry down), NotImplemented without a registry client.
 */
export class ImageDistribution {
  constructor(private readonly s: ImageStore) {}

  /**
   * POST /images/create?fromImage=: pulls an image from its registry, yielding Docker's progress
   * messages. Layers download in parallel (max-concurrent-downloads) and are unpacked in order as
   * soon as each one's turn comes; the image appears only once complete. Errors before the first
   * message (unknown image, bad credentials, registry down) are thrown: the client gets a status.
   */
  pull(input: string, opts: PullOptions = {}): AsyncIterable<Progress> {
    if (!opts.allTags) return streamOf((out) => this.#pull(input, opts, out));
    return streamOf(async (out) => {
      const repo = parseReference(input, { defaultTag: false });
      const session = this.#registry().repository({ domain: repo.domain, path: repo.path }, opts.auth, 'pull');
      const tags = await session.listTags(opts.signal).catch((err: unknown) => { throw pullError(err, familiarName(repo), familiarName(repo)); });
      if (tags.length === 0) throw notFound(`repository ${familiarName(repo)} has no tags`);
      for (const tag of tags) await this.#pull(familiarString({ ...repo, tag }), { ...opts, allTags: false }, out);
    });
  }

  /** POST /auth: checks credentials with the registry at serverAddress (Docker Hub when empty). */
  async login(serverAddress: string, auth: RegistryAuth, signal?: AbortSignal): Promise<{ identityToken?: string }> {
    const r = await this.#registry().login(registryDomainOf(serverAddress), auth, signal);
    return r.identityToken ? { identityToken: r.identityToken } : {};
  }

  /**
   * GET /images/search: "term" is searched on Docker Hub, or on the registry it names
   * ("localhost:5000/app"). Filters: is-official, stars (at least N).
   */
  async search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryAuth; signal?: AbortSignal }): Promise<ImageSearchHit[]> {
    const slash = term.indexOf('/');
    const first = slash > 0 ? term.slice(0, slash) : '';
    const named = /[.:]/.test(first) || first === 'localhost';
    const domain = named ? registryDomainOf(first) : 'docker.io';
    const query = named ? term.slice(slash + 1) : term;
    const results = await this.#registry().search(domain, query, opts.limit, opts.auth, opts.signal);
    const official = opts.filters.get('is-official')?.[0];
    const stars = Number(opts.filters.get('stars')?.[0] ?? 0);
    if (!Number.isFinite(stars)) throw invalid(`invalid filter 'stars=${opts.filters.get('stars')?.[0]}'`);
    return results
      .filter((r) => (official === undefined || String(r.is_official) === official) && r.star_count >= stars)
      .map((r) => ({ name: r.name, description: r.description, stars: r.star_count, official: r.is_official, automated: r.is_automated }));
  }

  /**
   * POST /images/{name}/push: uploads the named tag (or every tag of the repository) to its
   * registry with Docker's progress messages, then records the pushed digest as a repo digest.
   */
  push(name: string, opts: PushOptions = {}): AsyncIterable<Progress> {
    return streamOf((out) => this.#push(name, opts, out));
  }

  #registry(): RegistryClientApi {
    if (!this.s.d.registry) throw new EngineError('NotImplemented', 'this daemon has no registry client');
    return this.s.d.registry;
  }

  async #pull(input: string, opts: PullOptions, out: MessageChannel): Promise<void> {
    const registry = this.#registry();
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
    out.push(progressMessage(`Pulling from ${ref.path}`, ref.digest ?? ref.tag!));
    const id = imageIdOf(configBytes);
    const fresh = !this.s.records.get(id);
    if (fresh) await this.s.exclusive(() => this.#pullLayers({ session, layers: resolved.layers, diffIds, out, signal }, configBytes));
    const updated = await this.s.exclusive(async () => this.#recordPulled(ref, id, resolved));
    out.push(progressMessage(`Digest: ${resolved.digest}`));
    // Docker's wording: "Downloaded newer image" when the name now points somewhere new.
    out.push(progressMessage(fresh || updated ? `Status: Downloaded newer image for ${familiarString(ref)}` : `Status: Image is up to date for ${familiarString(ref)}`));
    this.s.event('pull', familiarString(ref), { name: familiarName(ref) });
  }

  /** Points the pulled tag and repo digest at the image; true when the name now means another image. */
  #recordPulled(ref: ImageReference, id: string, resolved: ResolvedManifest): boolean {
    const records = this.s.records;
    if (!records.get(id)) throw notFound(`image ${id} was removed while it was pulled`);
    const byDigest = refKey({ domain: ref.domain, path: ref.path, digest: resolved.digest });
    const before = records.lookupRef(ref.tag !== undefined ? refKey(ref) : byDigest);
    const prev = ref.tag !== undefined ? records.setRef(refKey(ref), id, 'tag') : undefined;
    records.setRef(byDigest, id, 'digest');
    if (prev) this.s.event('untag', prev, {});
    return before !== id;
  }

  /** Downloads and unpacks the layers the store lacks; holds the image lock (pending rows are ours). */
  async #pullLayers(p: LayerPull, configBytes: Buffer): Promise<void> {
    const have = await this.#layersPresent(p.diffIds);
    const downloads = this.#downloads(p);
    p.layers.forEach((l, i) => p.out.push(layerProgress(shortId(l.digest), have[i] ? 'Already exists' : 'Pulling fs layer')));
    p.layers.forEach((_, i) => { if (!have[i]) void downloads.start(i); });
    const open = async (i: number): Promise<Readable> => {
      const desc = p.layers[i]!;
      await downloads.start(i);
      const id = shortId(desc.digest);
      const report = throttled(100, (n) => p.out.push(layerProgress(id, 'Extracting', { current: n, total: desc.size })));
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) { seen += chunk.length; report(seen); cb(null, chunk); },
      });
      pipeline(await this.s.d.blobs.open(desc.digest), counter, () => undefined);
      return counter;
    };
    const layerDone = (i: number) => { if (!have[i]) p.out.push(layerProgress(shortId(p.layers[i]!.digest), 'Pull complete')); };
    try {
      await this.s.store(configBytes, p.diffIds, { open, layerDone, ...(p.signal ? { signal: p.signal } : {}) });
    } catch (err) {
      // A failed pull still waits for its transfers, so none writes after the lock is released.
      await downloads.settled();
      // Downloads are kept for the next try, unless the content itself was refused (a
      // decompression bomb, a broken tar): those would only fail again.
      if (kindOf(err) === 'InvalidParameter') await this.#dropRefusedBlobs(p.layers);
      throw err;
    } finally {
      await downloads.settled();
    }
  }

  /** Per layer (by diffID, base first): true when it is stored complete, unpacked and as a blob. */
  #layersPresent(diffIds: readonly string[]): Promise<boolean[]> {
    return Promise.all(chainIds(diffIds).map(async (c, i) => {
      const row = this.s.records.layer(c);
      return row?.state === 'complete' && (await this.s.d.snapshotter.hasLayer(c)) && (await this.s.d.blobs.has(diffIds[i]!));
    }));
  }

  /**
   * The layer downloads of one pull, at most max-concurrent-downloads at once: `start(i)` begins
   * layer i's download (once) and resolves when its blob is stored; `settled()` waits for all.
   */
  #downloads(p: LayerPull): { start: (i: number) => Promise<void>; settled: () => Promise<unknown> } {
    const limit = new Semaphore(this.s.d.maxConcurrentDownloads ?? 3);
    const started = new Map<number, Promise<void>>();
    const start = (i: number): Promise<void> => {
      let done = started.get(i);
      if (done) return done;
      const desc = p.layers[i]!;
      const id = shortId(desc.digest);
      if (limit.busy) p.out.push(layerProgress(id, 'Waiting'));
      done = limit.run(async () => {
        if (!(await this.s.d.blobs.has(desc.digest))) {
          const report = throttled(100, (n) => p.out.push(layerProgress(id, 'Downloading', { current: n, total: desc.size })));
          await downloadBlob(p.session, desc, this.s.d.blobs, { onProgress: report, ...(p.signal ? { signal: p.signal } : {}) });
          p.out.push(layerProgress(id, 'Verifying Checksum'));
        }
        this.s.dist.addLayerBlob({ digest: desc.digest, diffId: p.diffIds[i]!, mediaType: desc.mediaType, size: desc.size });
        this.s.dist.addSource(desc.digest, p.session.repo.domain, p.session.repo.path);
        p.out.push(layerProgress(id, 'Download complete'));
      });
      started.set(i, done);
      // Awaited by open() in layer order; a failure also surfaces there or in store's rollback.
      done.catch(() => undefined);
      return done;
    };
    return { start, settled: () => Promise.allSettled(started.values()) };
  }

  /** Forgets the downloaded blobs of a pull whose content was refused, so the next try fetches them anew. */
  async #dropRefusedBlobs(layers: readonly Descriptor[]): Promise<void> {
    const mine = new Set(layers.map((l) => l.digest));
    for (const b of this.s.dist.orphanLayerBlobs()) {
      if (!mine.has(b.digest)) continue;
      this.s.dist.deleteLayerBlob(b.digest);
      await this.s.d.blobs.delete(b.digest);
    }
  }

  async #push(name: string, opts: PushOptions, out: MessageChannel): Promise<void> {
    const registry = this.#registry();
    const repo = parseReference(name, { defaultTag: false });
    const base = { domain: repo.domain, path: repo.path };
    const rows = this.#imagesToPush(repo, opts.tag || repo.tag);
    const session = registry.repository(base, opts.auth, 'pull,push');
    out.push(progressMessage(`The push refers to repository [${repositoryName(base)}]`));
    for (const { tag, row } of rows) {
      const configBytes = Buffer.from(row.config, 'utf8');
      const img = { configBytes, imageId: row.id, diffIds: parseImageConfig(configBytes).rootfs.diff_ids };
      const deps = { blobs: this.s.d.blobs, dist: this.s.dist, maxConcurrentUploads: this.s.d.maxConcurrentUploads ?? 5 };
      const pushed = await pushImage(deps, session, img, tag, out, opts.signal);
      this.s.records.setRef(refKey({ ...base, digest: pushed.digest }), row.id, 'digest');
      for (const m of pushedMessages(tag, pushed)) out.push(m);
      this.s.event('push', familiarString({ ...base, tag }), { name: familiarName(base as ImageReference) });
    }
  }

  /** The tag to push (or every tag of the repository) with its image; NotFound in Docker's words. */
  #imagesToPush(repo: ImageReference, tag: string | undefined) {
    const base = { domain: repo.domain, path: repo.path };
    const prefix = `${repositoryName(base)}:`;
    const tags = tag !== undefined
      ? [tag]
      : this.s.records.allRefs().filter((r) => r.kind === 'tag' && r.ref.startsWith(prefix)).map((r) => r.ref.slice(prefix.length));
    if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    return tags.map((t) => {
      const id = this.s.records.lookupRef(refKey({ ...base, tag: t }));
      const row = id && this.s.records.get(id);
      if (!row) throw notFound(`An image does not exist locally with the tag: ${familiarString({ ...base, tag: t })}`);
      return { tag: t, row };
    });
  }
}
