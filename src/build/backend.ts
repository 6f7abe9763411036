import type { Readable } from 'node:stream';
import type { ImageConfig } from '../image/index.ts';

/** A file system view inside a writable build snapshot; every path resolves inside its root. */
export interface BuildRootFs {
  /** The host path of the mounted root (for reading only through `resolve`). */
  readonly root: string;
  /** Host path of `path` inside the root (symlinks resolved in the root); NotFound when absent. */
  resolve(path: string, opts?: { followSymlinks?: boolean }): Promise<string>;
  /** lstat-like facts of `path` (symlinks on the way resolved in the root), null when absent. */
  stat(path: string): Promise<{ isDir: boolean; mode: number } | null>;
  /** mkdir -p inside the root; new directories get `owner` (default root). */
  mkdirp(path: string, owner?: { uid: number; gid: number }): Promise<void>;
  /** Extracts a tar into directory `dir` (which must exist); `owner` overrides the entries' owner. */
  extract(dir: string, tar: Readable, owner?: { uid: number; gid: number }): Promise<void>;
  /** A file's text, or "" when absent. */
  readText(path: string): Promise<string>;
  /** Names in directory `path` (sorted); [] when it is not a directory. */
  readdir(path: string): Promise<string[]>;
  /** A tar of `path` (chrooted), entries named `name`, `name/child`… (`name` "" for a directory's children). */
  tar(path: string, name: string): Readable;
}

/** One mount of a RUN container, resolved to host paths. */
export interface RunMountSpec {
  source: string;
  target: string;
  readonly: boolean;
  /** 'tmpfs' mounts have no source. */
  type: 'bind' | 'tmpfs';
}

export interface RunRequest {
  /** The image the container starts from (null: scratch, an empty root). */
  parent: string | null;
  argv: string[];
  env: string[];
  user: string;
  workdir: string;
  networkMode: string;
  extraHosts: string[];
  mounts: RunMountSpec[];
  /** The RUN's output as it comes. */
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** The container's id (12 hex shown by " ---> Running in"). */
  started(containerId: string): void;
  /** Builds the new image's config from the new layer's diffID (called only on exit code 0). */
  config(diffId: string): ImageConfig;
  signal: AbortSignal;
}

/**
 * What the executor needs from the engine: images, the cache, writable snapshots and containers.
 * Engine glue (src/engine/builds) implements it over ImageService, ContainerService, the
 * snapshotter and the native helper. Every method cleans up after itself on failure.
 */
export interface BuildBackend {
  /** A FROM image by reference: local, or pulled when absent or `pull`. NotFound in Docker's words. */
  baseImage(ref: string, opts: { pull: boolean; signal: AbortSignal }): Promise<{ id: string; config: ImageConfig }>;
  /** The config of a (possibly untagged) image by ID. NotFound when it has gone. */
  imageConfig(id: string): Promise<ImageConfig>;
  /** The image stored for a cache key, when it is still there. */
  cacheGet(key: string): Promise<string | undefined>;
  /** Records a step's result; `parentId` is the image the step started from (null: scratch). */
  cachePut(key: string, imageId: string, parentId: string | null): void;
  /** Stores an image whose layers all exist already (a metadata-only step). Returns its ID. */
  storeConfig(blob: ImageConfig): Promise<string>;
  /**
   * Runs `edit` on a writable snapshot over `parent`'s layers, then stores the snapshot's upper
   * dir as a new layer and the image `config(diffId)`. The snapshot is gone afterwards.
   */
  mutate(parent: string | null, edit: (fs: BuildRootFs) => Promise<void>, config: (diffId: string) => ImageConfig, signal: AbortSignal): Promise<string>;
  /** Read-only access to an image's root file system for the length of `use`. */
  withImageRoot<T>(imageId: string | null, use: (fs: BuildRootFs) => Promise<T>): Promise<T>;
  /** Runs a RUN container; on exit 0 its upper dir becomes the new image. The container is always removed. */
  run(req: RunRequest): Promise<{ exitCode: number; imageId?: string }>;
  /** Tags an image ("repo:tag"). */
  tag(imageId: string, ref: string): Promise<void>;
  /** A read-only view of a plain host directory (the build context) with the same chrooted rules. */
  dirFs(dir: string): BuildRootFs;
  /** A persistent directory for `RUN --mount=type=cache,id=…` (created on first use). */
  cacheMountDir(id: string): Promise<string>;
  /** Fetches an ADD URL into a file under `dir`; returns its path. Clear error when unreachable. */
  download(url: string, dir: string, signal: AbortSignal): Promise<string>;
}
