import type { Readable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import type { Filters } from '../../lib/filters.ts';
import type { AttachStreams } from '../containers/attach.ts';
import type { LogEntry } from '../containers/logs.ts';
import type { ContainerPaths } from '../containers/paths.ts';
import type { ContainerRecord } from '../containers/record.ts';
import type { MountRecord } from '../volumes/record.ts';
import type { Attached } from '../networks/container-networks.ts';

/**
 * The containers part of the engine's public surface (engine/index.ts). A container moves through
 * created → running ⇄ paused → exited (or restarting between runs), and removing → gone; the
 * lifecycle methods refuse a transition its state does not allow with Conflict. References are
 * IDs, ID prefixes or names: an unknown one is NotFound.
 */
export interface ContainerEngine {
  /** `ps`: newest first, running only unless `all`, then the filters (InvalidParameter for bad ones). */
  list(opts: ContainerListOptions): Promise<ContainerDetails[]>;
  inspect(ref: string, opts?: { size?: boolean }): Promise<ContainerDetails>;
  /** Validates and records a new container (body in the Engine API's shape, already version-adapted). */
  create(body: api.ContainerCreateBody, name?: string): Promise<{ id: string; warnings: string[] }>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts?: StopOptions): Promise<void>;
  restart(ref: string, opts?: StopOptions): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  rename(ref: string, newName: string): void;
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** `rm --link /web/db`: drops a legacy link, not a container. */
  removeLink(linkName: string): Promise<void>;
  /** Stopped containers matching `label=`, `label!=` and `until=`. */
  prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }>;
  /** Settles when the condition is met or `signal` aborts. */
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<ContainerExit>;
  /** `top`: the host's ps with `psArgs`, rows of the container's processes only. Conflict when not running. */
  top(ref: string, psArgs: string): Promise<{ titles: string[]; processes: string[][] }>;
  /** Resizes the container's terminal. Conflict when not running. */
  resize(ref: string, size: { height: number; width: number }): Promise<void>;
  /** The log, checked (InvalidParameter) before the first entry is read. */
  logs(ref: string, opts: LogsOptions): Promise<ContainerLogs>;
  /** Prepares an attach: checks the state (Conflict), registers the live session when `stream`. */
  attach(ref: string, opts: AttachOptions): Promise<ContainerAttachment>;
  /** Stats frames, ending when the container goes, `stream` is false or `signal` aborts. */
  stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<ContainerStats>;
  /** `update`: resources and restart policy; returns warnings. */
  update(ref: string, body: api.ContainerUpdateBody): Promise<string[]>;
  /** Files: `cp` (stat, archive, extract), `export`, `diff` (changes) and `commit`. */
  statPath(ref: string, path: string): Promise<PathStat>;
  archive(ref: string, path: string): Promise<{ stat: PathStat; stream: Readable }>;
  extract(ref: string, path: string, input: Readable, opts: ExtractOptions): Promise<void>;
  export(ref: string): Promise<Readable>;
  changes(ref: string): Promise<FileChange[]>;
  /** Returns the new image's ID. */
  commit(ref: string, opts: CommitRequest): Promise<string>;
}

/** A path in a container's filesystem, as `cp` stats it (symlinks on the way resolved inside the container). */
export interface PathStat {
  /** Base name of the path as asked ("/" for the root). */
  name: string;
  size: number;
  /** st_mode: type and permission bits. */
  mode: number;
  /** Seconds since the epoch, fractional. */
  mtime: number;
  /** For a symlink: its ultimate target, resolved inside the container; "" otherwise. */
  linkTarget: string;
}

/** One entry of `diff`: a path the writable layer adds, changes or deletes. */
export interface FileChange {
  path: string;
  kind: 'modified' | 'added' | 'deleted';
}

/**
 * One stats frame of a container: its latest sample and, in a stream, the CPU counters of the
 * sample before (for a rate). The counters keep the names dockerd gives the cgroup files' values
 * (api/types' CpuStats, MemoryStats, BlkioStats, NetworkStats): that shape is the data.
 */
export interface ContainerStats {
  id: string;
  name: string;
  /** Null while the container is not running (or its cgroup is gone): nothing was read. */
  sample: StatsSample | null;
  /** The previous sample's CPU counters; null for the first (or only) one. */
  previous: { readAt: string; cpu: api.CpuStats } | null;
}

/** What one read of a running container's cgroup, /proc/stat and network devices gives. */
export interface StatsSample {
  /** RFC 3339 time of the read. */
  readAt: string;
  /** The cgroup's CPU counters with the host's (system_cpu_usage, online_cpus). */
  cpu: api.CpuStats;
  memory: api.MemoryStats;
  pids: { current?: number; limit?: number };
  blkio: api.BlkioStats;
  /** By interface; absent for host and none networking, or when there is none. */
  networks?: Record<string, api.NetworkStats>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** How a run ended, as `wait` reports it. */
export interface ContainerExit {
  statusCode: number;
  /** Why the container could not run or be waited for, when that is the case. */
  error?: string;
}

export interface StopOptions { timeout?: number; signal?: string }

export interface ContainerListOptions {
  all?: boolean;
  /** Most recent N, stopped ones included (`ps -n`). */
  limit?: number;
  filters?: Filters;
  /** Fill `sizes` (slow: walks writable layers). */
  size?: boolean;
}

/** A container with what `inspect` and `ps` show besides its record. */
export interface ContainerDetails {
  record: ContainerRecord;
  running: boolean;
  paths: ContainerPaths;
  execIds: string[];
  /** overlay2's GraphDriver data: MergedDir, UpperDir, WorkDir. */
  graphData: Record<string, string>;
  networking: ContainerNetworking;
  /** Its volume, bind and tmpfs mounts, in the order they were set up. */
  mounts: MountRecord[];
  /** Only when asked for (`size`). */
  sizes?: ContainerSizes;
}

/** A container's networks as its views need them. */
export interface ContainerNetworking {
  attached: Attached[];
  /** The namespace file while it runs on a bridge network. */
  sandboxKey: string;
  running: boolean;
}

/** Bytes of the writable layer, and of it plus the image. */
export interface ContainerSizes { rw: number; rootFs: number }

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** Last N lines (before following); absent: all. */
  tail?: number;
  /** Nanoseconds since the epoch. */
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Go on with live output while the container runs (not with `untilNs`). */
  follow?: boolean;
  signal?: AbortSignal;
}

export interface ContainerLogs {
  /** A terminal's output is one stream, sent raw. */
  tty: boolean;
  entries: AsyncIterable<LogEntry>;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Relay live streams (else only the log replay). */
  stream: boolean;
  /** Replay the log first. */
  logs: boolean;
}

/**
 * An attach being set up. `replay` must be iterated once (it may be empty): the attach is
 * announced (the `attach` event) when it ends, as dockerd does after replaying logs. `session` is
 * null without `stream`; with one, it connects to the container's next (or current) run.
 */
export interface ContainerAttachment {
  tty: boolean;
  replay: AsyncIterable<LogEntry>;
  session: AttachStreams | null;
}

export interface ExtractOptions { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal }

export interface CommitRequest {
  /** "repo[:tag]". */
  ref?: string;
  comment?: string;
  author?: string;
  /** Pause a running container while its layer is read (default true). */
  pause?: boolean;
  changes?: readonly string[];
  /** The request body: Config overrides. */
  config?: api.ContainerConfig | null;
}
