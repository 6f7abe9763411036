import type { Readable, Writable } from 'node:stream';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import type {
  Image, ImageEngine, ImageHistoryItem, ImageListOptions, ImagePruneResult, ImageRemoval, ImageSearchHit,
  ImportImageOptions, PullImageOptions, PushImageOptions, RegistryCredentials, ResolvedImage,
} from '../contracts/images.ts';
import { ImageArchives, type CommitImageOptions, type StoreBuiltOptions } from './archives.ts';
import { ImageDistribution } from './distribution.ts';
import { ImageStore, type ImageServiceDeps } from './image-store.ts';
import { LocalImages } from './local-images.ts';

export type { ImageServiceDeps } from './image-store.ts';
export type { CommitImageOptions, ImportOptions, StoreBuiltOptions } from './archives.ts';
export type { PullOptions, PushOptions } from './distribution.ts';
export { recoverImages } from './local-images.ts';

/**
 * The image engine: local images (local-images.ts), registries (distribution.ts) and archives
 * (archives.ts) over one store (image-store.ts) whose lock serialises every mutation. Each
 * load/import/pull records its intent first (image row 'pending', layer rows 'pending') so
 * `recover` can roll back after a crash. Besides ImageEngine it serves the other engines:
 * commit and build steps store images, `gc` runs after a container is removed, `matches` answers
 * `ps --filter ancestor=`. Errors: see ImageEngine.
 */
export class ImageService implements ImageEngine {
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
  list(opts: ImageListOptions = {}): Promise<Image[]> { return this.#local.list(opts); }
  inspect(ref: string): Promise<Image> { return this.#local.inspect(ref); }
  history(ref: string): Promise<ImageHistoryItem[]> { return this.#local.history(ref); }
  tag(source: string, target: string): Promise<void> { return this.#local.tag(source, target); }
  remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageRemoval[]> { return this.#local.remove(ref, opts); }
  prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<ImagePruneResult> { return this.#local.prune(opts); }
  gc(): Promise<void> { return this.#local.gc(); }
  recover(): Promise<void> { return this.#local.recover(); }

  pull(input: string, opts: PullImageOptions = {}): AsyncIterable<Progress> { return this.#dist.pull(input, opts); }
  push(name: string, opts: PushImageOptions = {}): AsyncIterable<Progress> { return this.#dist.push(name, opts); }
  login(serverAddress: string, auth: RegistryCredentials, signal?: AbortSignal): Promise<{ identityToken?: string }> { return this.#dist.login(serverAddress, auth, signal); }
  search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryCredentials; signal?: AbortSignal }): Promise<ImageSearchHit[]> { return this.#dist.search(term, opts); }

  load(stream: Readable, opts: { quiet?: boolean; signal?: AbortSignal } = {}): AsyncIterable<Progress> { return this.#archives.load(stream, opts); }
  save(refs: readonly string[], out: Writable): Promise<void> { return this.#archives.save(refs, out); }
  import(stream: Readable, opts: ImportImageOptions = {}): Promise<string> { return this.#archives.import(stream, opts); }
  commit(opts: CommitImageOptions): Promise<string> { return this.#archives.commit(opts); }
  storeBuilt(opts: StoreBuiltOptions): Promise<string> { return this.#archives.storeBuilt(opts); }
}
