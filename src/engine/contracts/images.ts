import type { Readable, Writable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import type { Filters } from '../../lib/filters.ts';
import type { Progress } from '../../lib/progress.ts';

/** Credentials for a registry, in the engine's terms. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

/**
 * Local images, their distribution (pull, push, login, search) and archives (load, save, import).
 * TODO(#12): the images helper turns the wire shapes below into domain types and Progress events.
 */
export interface ImageEngine {
  list(opts: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<api.ImageSummary[]>;
  inspect(ref: string): Promise<api.ImageInspect>;
  history(ref: string): Promise<api.ImageHistoryEntry[]>;
  /** Resolves a local image; NotFound when absent. */
  resolve(ref: string): Promise<{ id: string }>;
  tag(source: string, target: string): Promise<void>;
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<api.ImageDeleteEntry[]>;
  prune(opts: { all?: boolean; filters?: Filters }): Promise<{ ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number }>;
  load(body: Readable, opts: { quiet?: boolean; signal?: AbortSignal }): AsyncIterable<Progress>;
  save(refs: readonly string[], out: Writable): Promise<void>;
  import(body: Readable, opts: { ref?: string; changes?: readonly string[]; message?: string; platform?: string; signal?: AbortSignal }): Promise<string>;
  /** A registry pull; `allTags` pulls every tag of a reference that names none. */
  pull(ref: string, opts: { auth?: RegistryCredentials; platform?: string; allTags?: boolean; signal?: AbortSignal }): AsyncIterable<Progress>;
  push(name: string, opts: { tag?: string; auth?: RegistryCredentials; signal?: AbortSignal }): AsyncIterable<Progress>;
  login(serverAddress: string, auth: RegistryCredentials, signal?: AbortSignal): Promise<api.AuthResponse>;
  search(term: string, opts: { limit: number; filters: Filters; auth?: RegistryCredentials; signal?: AbortSignal }): Promise<api.ImageSearchResult[]>;
}
