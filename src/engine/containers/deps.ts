import type { EndpointSettings, NetworkingConfig } from '../../api/types/index.ts';
import type { Db } from '../../store/db.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import type { Monitor } from '../../runtime/monitor.ts';
import type { EventBus } from '../events.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerPaths } from './paths.ts';
import type { MountInput } from '../../runtime/spec/mounts.ts';
import type { ImageConfig } from '../../image/index.ts';

/** What the container service needs from the image store. */
export interface ImageLookup {
  resolve(ref: string): Promise<{ id: string; config: ImageConfig; chainIds: string[] }>;
}

/** What it needs from the snapshotter: a writable rootfs per container on top of image layers. */
export interface RootfsProvider {
  prepare(containerId: string, chainIds: string[]): Promise<void>;
  /** Mounts (if not mounted) and returns the merged rootfs path. */
  mount(containerId: string): Promise<string>;
  unmount(containerId: string): Promise<void>;
  remove(containerId: string): Promise<void>;
  /** IDs whose rootfs is mounted now; start-up recovery unmounts those of containers not running. */
  mountedContainers?(): Promise<string[]>;
}

/** Writes the OCI config.json for a container about to start; returns the spec object. */
export type SpecWriter = (c: ContainerRecord, ctx: { rootfs: string; paths: ContainerPaths; netnsPath?: string; mounts?: MountInput[]; linkEnv?: string[] }) => Promise<object>;

/** What a start learns from the network setup. */
export interface SandboxInfo {
  netnsPath?: string;
  /** The host side of the network; awaited before the container's process is started. */
  ready?: Promise<void>;
  ip?: string;
  /** The IPv6 address on the first network, when it is dual-stack. */
  ip6?: string;
  embeddedDns: boolean;
  links: { ip: string; names: string[] }[];
  /** Legacy links' environment variables, set before the container's own Env. */
  linkEnv?: string[];
}

/** The container service's view of networking (engine/networks ContainerNetworks). */
export interface NetworkHooks {
  /** Validates and records a new container's attachments; returns warnings. Throws on bad input. */
  plan(c: ContainerRecord, nc: NetworkingConfig | undefined): string[];
  /** Builds the network for a start; nothing is left on failure. */
  setUp(c: ContainerRecord): Promise<SandboxInfo>;
  /** Releases it after the run (idempotent). */
  tearDown(c: ContainerRecord): Promise<void>;
  /** The container's names changed. */
  refreshDns(c: ContainerRecord): void;
  /** network connect/disconnect; the container service holds the container's lock. */
  connect(c: ContainerRecord, running: boolean, network: string, cfg: EndpointSettings): Promise<void>;
  disconnect(c: ContainerRecord, running: boolean, network: string): Promise<void>;
  /** `rm --link`: the link with this alias leaves the container's endpoints (from its next start); false if none had it. */
  removeLink(c: ContainerRecord, alias: string): boolean;
  /** What --add-host host-gateway resolves to. */
  hostGateway(): string | undefined;
}

/** The container service's view of volumes (engine/volumes VolumeService). */
export interface VolumeHooks {
  /** Checks and records a new container's mount points, making the volumes it names. Throws on bad input. */
  plan(c: ContainerRecord): Promise<void>;
  /** Mounts what a start needs; returns the OCI mount inputs. Nothing is held on failure. */
  setUp(c: ContainerRecord, rootfs: string): Promise<MountInput[]>;
  /** A run ended (idempotent). */
  release(c: ContainerRecord): Promise<void>;
  /** The container is going; with `anonymous`, its anonymous volumes too (`rm -v`, `--rm`). */
  forget(c: ContainerRecord, opts: { anonymous: boolean }): Promise<void>;
}

/** The container service's view of the health monitor. */
export interface HealthHooks {
  /** The container runs (again): probe it. `reset: false` (unpause) keeps its health as it was. */
  begin(c: ContainerRecord, opts?: { reset?: boolean }): void;
  /** It stopped or paused: no more probes, no late results. */
  end(id: string): void;
}

/** The slice of daemon config the container service reads. */
export interface ContainerServiceConfig {
  dataRoot: string;
  execRoot: string;
  defaultRuntime: string;
  /** The daemon's `log-driver` and `log-opts`: what a container that names no driver gets. */
  defaultLogConfig?: { Type: string; Config: Record<string, string> };
  /** Default log cap (Docker's json-file is unbounded by default; ours is not). */
  defaultLogMaxSize: number;
  defaultLogMaxFile: number;
}

export interface ContainerServiceDeps {
  db: Db;
  images: ImageLookup;
  rootfs: RootfsProvider;
  /** The OCI runtimes by name (crun, runc): OciRuntimeCli in the daemon, FakeOciRuntime in tests. */
  runtimes: ReadonlyMap<string, OciRuntime>;
  /** The per-container monitor (conmon): ConmonMonitor in the daemon, FakeMonitor in tests. */
  monitor: Monitor;
  writeSpec: SpecWriter;
  events: EventBus;
  config: ContainerServiceConfig;
  network?: NetworkHooks;
  volumes?: VolumeHooks;
  /** Removes whatever is left of a container's cgroup (a failed `crun create` can leave it). */
  releaseCgroup?: (id: string) => Promise<void>;
  /** IDs that have a cgroup under the daemon's cgroup parent (start-up recovery removes stray ones). */
  cgroupIds?: () => Promise<string[]>;
  /** Called after a container is gone: exec sessions forgotten, unreferenced image layers collected. */
  afterRemove?: (id: string) => void;
  /** Bytes in the container's writable layer (what a prune reports as reclaimed). */
  writableLayerSize?: (id: string) => Promise<number>;
  /** Health checks (health.ts): probing begins with each run and ends with it, or with a pause. */
  health?: HealthHooks;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void; debug(o: object, m?: string): void };
}
