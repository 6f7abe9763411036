/**
 * The registry client's surface, as the image engine uses it (pull, push, login, search).
 * Implemented by RegistryClient (client.ts); everything here speaks the OCI distribution
 * protocol with Docker's conventions. Errors are EngineErrors with Docker's wording:
 * NotFound "manifest unknown" / "pull access denied for X, repository does not exist or may
 * require 'docker login'", Unauthorized for bad credentials, Unavailable for a registry that is
 * down (after retries), InvalidParameter for malformed manifests and digest mismatches.
 */
import type { Readable } from 'node:stream';

/** Credentials as the Engine API carries them (X-Registry-Auth / POST /auth body). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** Registry-issued refresh token (`IdentityToken`), used instead of a password. */
  identityToken?: string;
  /** A bearer token given directly (`registrytoken`). */
  registryToken?: string;
}

/** Daemon settings that decide how a registry host is reached. */
export interface RegistryOptions {
  /** `insecure-registries`: host[:port] names and CIDR ranges; 127.0.0.0/8 is always insecure. */
  insecureRegistries: readonly string[];
  /** `registry-mirrors` for docker.io, tried in order before the origin. */
  mirrors: readonly string[];
  /** Attempts for transient errors (connection reset, 5xx, 429), with exponential back-off. */
  retries?: number;
}

/** A repository on a registry: domain as in a reference ("docker.io", "127.0.0.1:5000"), path "library/busybox". */
export interface RepositoryRef {
  domain: string;
  path: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] };
}

/** A fetched manifest or index: its bytes as served (digest verified), parsed JSON, media type. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** Parsed body: an image manifest ({config, layers}) or an index/list ({manifests}). */
  json: { schemaVersion: number; mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
}

export interface BlobFetchOptions {
  /** Resume from this byte (Range request) when the previous attempt stopped part-way. */
  offset?: number;
  signal?: AbortSignal;
}

/** Upload outcome per blob, for push progress ("Pushed", "Layer already exists", "Mounted from x"). */
export type UploadOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export interface UploadOptions {
  /** Repository on the same registry that has the blob, to try a cross-repository mount first. */
  mountFrom?: string;
  /** Called with bytes sent so far. */
  onProgress?: (sent: number) => void;
  /** Force chunked upload with this chunk size (default: monolithic PUT after POST). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** One session with one repository (auth tokens are cached per scope inside). */
export interface RepositorySession {
  readonly repo: RepositoryRef;
  /** GET manifest by tag or digest; Accepts schema2, manifest list, OCI manifest and index. */
  getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest>;
  /** The whole blob, digest-verified (configs). */
  getBlobBytes(desc: Pick<Descriptor, 'digest' | 'size'>, signal?: AbortSignal): Promise<Buffer>;
  /**
   * A blob's bytes from `offset`, following redirects to blob storage. The caller verifies the
   * digest of the whole (it may have resumed); `size` is the total length when known.
   */
  openBlob(digest: string, opts?: BlobFetchOptions): Promise<{ stream: Readable; size: number | undefined }>;
  /** HEAD: true when the repository has the blob. */
  hasBlob(digest: string, signal?: AbortSignal): Promise<boolean>;
  /** Uploads a blob unless present (HEAD first); `open` is called only when bytes must be sent. */
  pushBlob(desc: Pick<Descriptor, 'digest' | 'size'>, open: () => Promise<Readable>, opts?: UploadOptions): Promise<UploadOutcome>;
  /** PUT a manifest under a tag or digest; returns the digest the registry reports. */
  putManifest(reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<string>;
  /** GET /v2/<name>/tags/list (all pages). */
  listTags(signal?: AbortSignal): Promise<string[]>;
}

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export interface RegistryClientApi {
  /** A session for pull ("pull") or push ("pull,push") on a repository. */
  repository(repo: RepositoryRef, auth: RegistryAuth | undefined, actions: 'pull' | 'pull,push'): RepositorySession;
  /**
   * Checks credentials against a registry (GET /v2/ then the token flow); resolves with an
   * identity token when the registry returns one. Unauthorized with Docker's wording on failure.
   */
  login(domain: string, auth: RegistryAuth, signal?: AbortSignal): Promise<{ identityToken?: string }>;
  /** The registry's v1 search endpoint; NotImplemented with a clear message where it has none. */
  search(domain: string, term: string, limit: number, auth?: RegistryAuth, signal?: AbortSignal): Promise<SearchResult[]>;
}
