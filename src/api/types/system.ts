/** Docker Engine API wire types: Version, errors, system df and berth's gc. */
import type { ContainerSummary } from './containers.ts';
import type { ImageSummary } from './images.ts';
import type { Volume } from './networks-volumes.ts';

export interface VersionResponse {
  Platform: { Name: string };
  Components: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

export interface ErrorResponse { message: string }

/** GET /system/df; `Berth*` fields are berth's additions (docker clients ignore them). */
export interface SystemDfResponse {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: Volume[];
  BuildCache: unknown[];
  /** Container log files, current and rotated (Docker does not count them). */
  BerthLogs?: { Count: number; Size: number };
  /** Files in the data root no object refers to (`berth system gc` removes them). */
  BerthOrphans?: { Count: number; Size: number };
}

export interface GcOrphan { Kind: string; Path: string; Size: number }

/** POST /system/gc (berth's own endpoint): what was found, removed, and what resisted. */
export interface GcResponse { Found: GcOrphan[]; Removed: GcOrphan[]; Failed: { Path: string; Error: string }[]; SpaceReclaimed: number }

/** One line of GET /events (API W16): legacy status/id/from first for containers and images, as dockerd's events.Message. */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}
