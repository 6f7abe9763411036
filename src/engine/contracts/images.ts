import type { Readable, Writable } from 'node:stream';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';
import type { ImageConfig } from '../../image/index.ts';

/** Credentials for a registry, in the engine's terms. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

/** A local image: what berthd stores of it and the names that point at it. */
export interface Image {
  /** "sha256:" + the config's digest. */
  id: string;
  /** Tags in their familiar form ("busybox:latest", "localhost:5000/app:v1"). */
  repoTags: string[];
  /** Digest references in their familiar form ("busybox@sha256:…"). */
  repoDigests: string[];
  /** The image config exactly as stored (its sha256 is the ID). */
  config: ImageConfig;
  /** Bytes of its unpacked layers. */
  size: number;
  /** Its layers unpacked (the snapshotter's diff directories), base first. */
  layerDirs: string[];
  /** When berthd stored it (RFC 3339). */
  storedAt: string;
}

/** One step of an image's history, newest first (`docker history`). */
export interface ImageHistoryItem {
  /** The image's ID on the newest step; older steps have no image of their own. */
  id?: string;
  /** RFC 3339, as the config records it ('' when absent). */
  created: string;
  createdBy: string;
  /** The image's tags, on the newest step only. */
  tags: string[];
  /** Bytes the step's layer adds; 0 for steps that made no layer. */
  size: number;
  comment: string;
}

/** What removing an image did, in order: a reference dropped, or an image or layer deleted. */
export type ImageRemoval = { untagged: string } | { deleted: string };

/** What an image prune removed, and the bytes it freed. */
export interface ImagePruneResult {
  removed: ImageRemoval[];
  spaceReclaimed: number;
}

/** A repository found by a registry search. */
export interface ImageSearchHit {
  name: string;
  description: string;
  stars: number;
  official: boolean;
  automated: boolean;
}

/** What the container and build engines get for an image reference. */
export interface ResolvedImage {
  id: string;
  config: ImageConfig;
  /** Chain IDs, base first: what Snapshotter.prepare takes. */
  chainIds: string[];
}

export interface ImageListOptions {
  /** Include a build's untagged intermediate images. */
  all?: boolean;
  /** before, dangling, label, reference, since, until. InvalidParameter for others. */
  filters?: Filters;
  digests?: boolean;
}

export interface ImportImageOptions {
  /** "repo[:tag]" to tag the new image with. */
  ref?: string;
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL). */
  changes?: readonly string[];
  message?: string;
  /** "linux/amd64"; the host's when absent. */
  platform?: string;
  signal?: AbortSignal;
}

export interface PullImageOptions {
  auth?: RegistryCredentials;
  /** Pull every tag of a reference that names no tag (`pull -a`). */
  allTags?: boolean;
  /** "linux/arm64"; the host's when absent. */
  platform?: string;
  signal?: AbortSignal;
}

export interface PushImageOptions {
  /** Push only this tag; all of the repository's tags when absent. */
  tag?: string;
  auth?: RegistryCredentials;
  signal?: AbortSignal;
}

/**
 * Local images, their distribution (pull, push, login, search) and archives (load, save,
 * import). References are "name[:tag]", "name@digest", a full ID or a unique ID prefix.
 * Errors: NotFound ("No such image: …"), Conflict (Docker's delete wording), InvalidParameter
 * (bad references, filters, archives), Unauthorized and Unavailable from registries,
 * NotImplemented (zstd layers, no registry client). Streams end by throwing their error.
 */
export interface ImageEngine {
  /** Images, newest first; untagged intermediate images of builds only with `all`. */
  list(opts?: ImageListOptions): Promise<Image[]>;
  inspect(ref: string): Promise<Image>;
  history(ref: string): Promise<ImageHistoryItem[]>;
  /** A local image's ID, config and layers; NotFound when absent. */
  resolve(ref: string): Promise<ResolvedImage>;
  /** Points target ("repo[:tag]") at source. InvalidParameter for a digest target. */
  tag(source: string, target: string): Promise<void>;
  remove(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<ImageRemoval[]>;
  /** Dangling images (every unused one with `all`) that no container uses and the filters select. */
  prune(opts?: { all?: boolean; filters?: Filters }): Promise<ImagePruneResult>;
  /** A docker-archive or OCI layout (plain or gzip); images loaded before a failure stay. */
  load(archive: Readable, opts?: { quiet?: boolean; signal?: AbortSignal }): AsyncIterable<Progress>;
  /** A docker-archive of the named images, written to `out`. */
  save(refs: readonly string[], out: Writable): Promise<void>;
  /** A single-layer image from a rootfs tar; returns its ID. */
  import(rootfs: Readable, opts?: ImportImageOptions): Promise<string>;
  /** Errors before the first event (unknown image, bad credentials) are thrown by the iteration's first step. */
  pull(ref: string, opts?: PullImageOptions): AsyncIterable<Progress>;
  push(name: string, opts?: PushImageOptions): AsyncIterable<Progress>;
  /** Checks credentials with a registry (Docker Hub when serverAddress is empty); an identity token when it gives one. */
  login(serverAddress: string, auth: RegistryCredentials, signal?: AbortSignal): Promise<{ identityToken?: string }>;
  search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryCredentials; signal?: AbortSignal }): Promise<ImageSearchHit[]>;
}
