import type { Readable, Writable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import type { RegistryAuth } from '../../registry/client/contract.ts';
import { ImageArchives, type CommitImageOptions, type ImportOptions, type StoreBuiltOptions } from './archives.ts';
import { ImageDistribution, type PullOptions, type PushOptions } from './distribution.ts';
import { ImageStore, type ImageServiceDeps } from './image-store.ts';
import { LocalImages, type ResolvedImage } from './local-images.ts';

export type { ImageServiceDeps } from './image-store.ts';
export type { CommitImageOptions, ImportOptions, StoreBuiltOptions } from './archives.ts';
export type { PullOptions, PushOptions } from './distribution.ts';
export { recoverImages, type ResolvedImage } from './local-images.ts';

/**
 * The image engine: local images (local-images.ts), registries (distribution.ts) and archives
 * (archives.ts) over one store (image-store.ts) whose lock serialises every mutation. Each
 * load/import/pull records its intent first (image row 'pending', layer rows 'pending') so
 * `recover` can roll back after a crash. Errors: NotFound ("No such image: …"), Conflict (Docker's
 * delete wording), InvalidParameter (bad references, filters, archives), NotImplemented (zstd layers).
 */
export class ImageService {
  readonly #local: LocalImages;
  readonly #dist: ImageDistribution;
  readonly #archives: ImageArchives;

  constructor(deps: ImageServiceDeps) {
    const store = new ImageStore(deps);
    this.#local = new LocalImages(store);
    this.#dist = new ImageDistribution(store);
    this.#archives = new ImageArchives(store);
  }

  resolve(ref: string): Promise<ResolvedImage> { return this.#local.resolve(ref); }
  count(): number { return this.#local.count(); }
  matches(ref: string, imageId: string): boolean { return this.#local.matches(ref, imageId); }
  list(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<api.ImageSummary[]> { return this.#local.list(opts); }
  inspect(ref: string): Promise<api.ImageInspect> { return this.#local.inspect(ref); }
  history(ref: string): Promise<api.ImageHistoryEntry[]> { return this.#local.history(ref); }
  tag(source: string, target: string): Promise<void> { return this.#local.tag(source, target); }
  remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<api.ImageDeleteEntry[]> { return this.#local.remove(ref, opts); }
  prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<{ ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number }> { return this.#local.prune(opts); }
  gc(): Promise<void> { return this.#local.gc(); }
  recover(): Promise<void> { return this.#local.recover(); }

  pull(input: string, opts: PullOptions = {}): AsyncIterable<Progress> { return this.#dist.pull(input, opts); }
  push(name: string, opts: PushOptions = {}): AsyncIterable<Progress> { return this.#dist.push(name, opts); }
  login(serverAddress: string, auth: RegistryAuth, signal?: AbortSignal): Promise<api.AuthResponse> { return this.#dist.login(serverAddress, auth, signal); }
  search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryAuth; signal?: AbortSignal }): Promise<api.ImageSearchResult[]> { return this.#dist.search(term, opts); }

  load(stream: Readable, opts: { quiet?: boolean; signal?: AbortSignal } = {}): AsyncIterable<Progress> { return this.#archives.load(stream, opts); }
  save(refs: readonly string[], out: Writable): Promise<void> { return this.#archives.save(refs, out); }
  import(stream: Readable, opts: ImportOptions = {}): Promise<string> { return this.#archives.import(stream, opts); }
  commit(opts: CommitImageOptions): Promise<string> { return this.#archives.commit(opts); }
  storeBuilt(opts: StoreBuiltOptions): Promise<string> { return this.#archives.storeBuilt(opts); }
}
