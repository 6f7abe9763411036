import type { Orphan } from '../system/gc.ts';
import type { VolumeRecord } from '../volumes/record.ts';
import type { ContainerDetails } from './containers.ts';
import type { Image } from './images.ts';

/** Facts about the engine and the host, disk usage and the collection of orphaned files. */
export interface SystemEngine {
  /** Versions of the engine and of the binaries it runs, read from them once at start. */
  version(): Promise<EngineVersion>;
  info(): Promise<EngineInfo>;
  /** `system df`; `types` (container, image, volume, build-cache) narrows it, empty means all. */
  diskUsage(types: readonly DiskUsageType[]): Promise<DiskUsage>;
  /** Files on disk that no record owns; removed unless `dryRun`. */
  gc(opts: { dryRun: boolean }): Promise<GcResult>;
}

export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache';

export interface ComponentVersion {
  name: string;
  /** Empty when the binary could not be asked. */
  version: string;
  commit: string;
}

export interface EngineVersion {
  version: string;
  /** conmon, the default OCI runtime, tini. */
  components: ComponentVersion[];
  os: string;
  /** Go's name of the architecture (amd64, arm64). */
  arch: string;
  kernel: string;
  /** The Node.js berth runs on ("node20.19.0"). */
  runtime: string;
}

export interface EngineInfo {
  version: string;
  hostname: string;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
  dataRoot: string;
  /** Filesystem under the data root, as overlay2's "Backing Filesystem" names it. */
  backingFilesystem: string;
  cgroupVersion: '1' | '2';
  kernel: string;
  operatingSystem: string;
  /** uname's machine name (x86_64). */
  architecture: string;
  cpus: number;
  memTotal: number;
  defaultRuntime: string;
  runtimes: Record<string, string>;
  logDriver: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  seccomp: boolean;
}

export interface DiskUsage {
  layersSize: number;
  images: Array<{ image: Image; containers: number; sharedSize: number; size: number }>;
  /** With sizes. */
  containers: ContainerDetails[];
  volumes: Array<{ volume: VolumeRecord; mountpoint: string; size: number; refCount: number }>;
  logs: { count: number; bytes: number };
  orphans: Orphan[];
}

export interface GcResult {
  found: Orphan[];
  removed: Orphan[];
  failed: { orphan: Orphan; error: string }[];
}
