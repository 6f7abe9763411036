/** Docker Engine API wire types: Images (inspect, list, history, delete), progress messages, registry auth and search. */
import type { ContainerConfig, Labels } from './containers.ts';

/** GET /images/{name}/json */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig;
  /** The committed container's ID (legacy: API < 1.45 only). */
  Container?: string;
  /** The committed container's config (legacy: API < 1.45 only). */
  ContainerConfig?: ContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  /** = Size (legacy: API < 1.44 only). */
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** An entry of GET /images/json */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Labels;
  Containers: number;
}

export interface ImageHistoryEntry { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export type ImageDeleteEntry = { Untagged: string } | { Deleted: string };

/** One line of a JSON progress stream (pull, push, load, import, build). */
export interface JsonMessage {
  status?: string;
  id?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message: string; code?: number };
  aux?: unknown;
}

/** POST /auth body and the decoded X-Registry-Auth header (docker's AuthConfig). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** "user:password" base64, as config.json stores it (docker sends it in some versions). */
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** POST /auth answer. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** GET /images/search entry. */
export interface ImageSearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}
