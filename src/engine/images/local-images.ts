import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, invalid, isErrno } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { familiarString, parseReference, refKey } from '../../lib/reference.ts';
import { parseImageConfig } from '../../image/index.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import { listPredicate, listedReferences, prunePredicate } from './filters.ts';
import type { ImageServiceDeps, ImageStore } from './image-store.ts';
import { ImageRecords } from './records.ts';
import { planRemove, untaggedRecords } from './remove.ts';
import type { ImageView } from './views.ts';
import { historyOf, labelsOf, toImage, unixSeconds } from './views.ts';
import type { Image, ImageHistoryItem, ImageListOptions, ImagePruneResult, ImageRemoval, ResolvedImage } from '../contracts/images.ts';

/**
 * The images on this host: resolution for the container engine, list/inspect/history,
 * tag/remove/prune, collection of force-removed images and start-up recovery. Errors: NotFound
 * ("No such image: …"), Conflict (Docker's delete wording), InvalidParameter (bad references, filters).
 */
export class LocalImages {
  constructor(private readonly s: ImageStore) {}

  /** An image's ID, config and chain IDs for creating a container. NotFound: "No such image: busybox:latest". */
  async resolve(ref: string): Promise<ResolvedImage> {
    const row = this.s.find(ref);
    return { id: row.id, config: parseImageConfig(row.config), chainIds: row.layers };
  }

  /** Number of images (GET /info's Images). */
  count(): number {
    return this.s.records.list().length;
  }

  /**
   * True when ref names the image imageId (`ps --filter ancestor=`); an unknown or invalid ref
   * matches nothing. Layer parents are not tracked, so descendants do not match.
   */
  matches(ref: string, imageId: string): boolean {
    try {
      return this.s.find(ref).id === imageId;
    } catch (err) {
      if (err instanceof EngineError) return false;
      throw err;
    }
  }

  /** GET /images/json. Filters: before, dangling, label, reference, since, until. */
  async list(opts: ImageListOptions = {}): Promise<Image[]> {
    const filters = opts.filters ?? new Map();
    const pred = listPredicate(filters, (ref) => unixSeconds(parseImageConfig(this.s.find(ref).config).created));
    return this.s.records.list()
      .map((row) => this.s.view(row))
      .filter((v) => pred({ id: v.row.id, created: unixSeconds(v.config.created), labels: labelsOf(v), refs: [...v.tags, ...v.digests] }))
      .filter((v) => opts.all || v.tags.length + v.digests.length > 0 || !this.s.d.isIntermediate?.(v.row.id))
      .map((v) => this.#image({ ...v, tags: listedReferences(filters, v.tags), digests: listedReferences(filters, v.digests) }))
      .sort((a, b) => unixSeconds(b.config.created) - unixSeconds(a.config.created));
  }

  async inspect(ref: string): Promise<Image> {
    return this.#image(this.s.view(this.s.find(ref)));
  }

  async history(ref: string): Promise<ImageHistoryItem[]> {
    const v = this.s.view(this.s.find(ref));
    return historyOf(v, v.row.layers.map((c) => this.s.records.layer(c)?.size ?? 0));
  }

  #image(v: ImageView): Image {
    return toImage(v, (c) => this.s.d.snapshotter.diffPath(c));
  }

  /** Points target ("repo[:tag]") at source. InvalidParameter for a digest target. */
  async tag(source: string, target: string): Promise<void> {
    await this.s.exclusive(async () => {
      const row = this.s.find(source);
      const ref = parseReference(target);
      if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
      this.s.records.setRef(refKey(ref), row.id, 'tag');
      this.s.event('tag', row.id, { name: familiarString(ref) });
    });
  }

  /** DELETE /images/{name}: Docker's untag/delete records. See planRemove for the rules. */
  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageRemoval[]> {
    return this.s.exclusive(async () => {
      const row = this.s.find(ref);
      const users = this.s.d.containersUsingImage(row.id);
      const plan = planRemove(this.s.records, { input: ref, imageId: row.id, force: opts.force ?? false, users });
      const records = untaggedRecords(plan);
      this.s.records.tx(() => { for (const r of plan.untag) this.s.records.deleteRef(r.ref); });
      for (const r of records) if ('untagged' in r) this.s.event('untag', row.id, { name: r.untagged });
      if (plan.deleteImage) records.push(...(await this.s.delete(row, users.length > 0)).records);
      return records;
    });
  }

  /** POST /images/prune: dangling images (all unused ones with `all`) that no container uses. */
  async prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<ImagePruneResult> {
    const pred = prunePredicate(opts.filters ?? new Map(), opts.all ?? false);
    return this.s.exclusive(async () => {
      const removed: ImageRemoval[] = [];
      let space = 0;
      for (const row of this.s.records.list()) {
        const v = this.s.view(row);
        if (this.s.d.containersUsingImage(row.id).length > 0) continue;
        if (!pred({ id: row.id, created: unixSeconds(v.config.created), labels: labelsOf(v), refs: [...v.tags, ...v.digests] })) continue;
        for (const t of [...v.tags, ...v.digests]) {
          removed.push({ untagged: familiarString(t) });
          this.s.event('untag', row.id, { name: familiarString(t) });
        }
        const gone = await this.s.delete(row, false);
        removed.push(...gone.records);
        space += gone.freed;
      }
      await this.s.collectDeleted();
      space += await this.s.dropOrphanLayerBlobs();
      this.s.event('prune', '', { reclaimed: String(space) });
      return { removed, spaceReclaimed: space };
    });
  }

  /** Drops images removed with force once no container uses them. Call after removing a container. */
  gc(): Promise<void> {
    return this.s.exclusive(() => this.s.collectDeleted());
  }

  /** Start-up recovery: see recoverImages. */
  recover(): Promise<void> {
    return this.s.exclusive(async () => {
      await recoverImages(this.s.d);
      await this.s.collectDeleted();
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
