import type { Readable } from 'node:stream';
import type * as api from '../../api/types/index.ts';
import { EngineError, kindOf } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import { toApiPorts } from '../../network/index.ts';
import type {
  AttachOptions, CommitRequest, ContainerAttachment, ContainerExit, ContainerDetails, ContainerEngine, ContainerListOptions, ContainerLogs,
  ContainerNetworking, ContainerSizes, ContainerStats, ExtractOptions, FileChange, LogsOptions, PathStat, StopOptions, WaitCondition,
} from '../contracts/containers.ts';
import type { EventBus } from '../events.ts';
import type { Attached } from '../networks/container-networks.ts';
import { assignedPortMap } from '../networks/host-ports.ts';
import type { ContainerFiles } from './archive.ts';
import type { Monitor } from '../../runtime/monitor.ts';
import { PendingAttach } from './attach.ts';
import { removeLink } from './links.ts';
import { selectContainers } from './list.ts';
import { followLogs, readLogs, type LogEntry } from './logs.ts';
import type { ContainerRecord } from './record.ts';
import type { MountRecord } from '../volumes/record.ts';
import type { ContainerService } from './service.ts';
import type { ContainerStatsReader } from './stats.ts';
import { topProcesses } from './top.ts';

/** The exposed ports with their host bindings while the container runs (NetworkSettings.Ports). */
export function containerPortMap(c: Pick<ContainerRecord, 'config'>, n: ContainerNetworking | undefined): api.PortMap {
  const first = n?.attached[0];
  return n?.running && first?.ep.ip ? assignedPortMap(c.config.ExposedPorts, first.ep.ports) : {};
}

/** Exposed and published ports of a running container (ContainerSummary.Ports, `ps --filter publish`). */
export function containerPorts(c: Pick<ContainerRecord, 'config'>, n: ContainerNetworking | undefined): api.Port[] {
  return n?.running ? toApiPorts(c.config.ExposedPorts, containerPortMap(c, n)) : [];
}

/** What the container engine composes; built in engine/create-engine.ts. */
export interface ContainerEngineDeps {
  containers: ContainerService;
  files: Pick<ContainerFiles, 'stat' | 'archive' | 'extract' | 'export' | 'changes'>;
  stats: Pick<ContainerStatsReader, 'frames'>;
  /** Attaches to and resizes a running container. */
  monitor: Pick<Monitor, 'attach' | 'resize'>;
  events: EventBus;
  execIdsOf(containerId: string): string[];
  /** The ID of a local image, if the reference names one (`ps --filter ancestor`). */
  imageIdOf(ref: string): Promise<string | undefined>;
  sizes(c: ContainerRecord): Promise<ContainerSizes>;
  mountsOf(containerId: string): MountRecord[];
  attached(containerId: string): Attached[];
  sandboxKey(containerId: string): string;
  graphData(containerId: string): Record<string, string>;
  update(ref: string, body: api.ContainerUpdateBody): Promise<string[]>;
  commit(ref: string, opts: CommitRequest): Promise<string>;
}

/**
 * ContainerEngine (contracts/containers.ts) over the container service and its helpers: the
 * logic the HTTP handlers used to hold (listing with filters, logs, attach, top, resize) lives here.
 */
export class ContainerEngineImpl implements ContainerEngine {
  readonly #d: ContainerEngineDeps;
  readonly #svc: ContainerService;

  constructor(deps: ContainerEngineDeps) {
    this.#d = deps;
    this.#svc = deps.containers;
  }

  async list(o: ContainerListOptions): Promise<ContainerDetails[]> {
    const filters: Filters = o.filters ?? new Map();
    const ancestors = new Map<string, string | undefined>();
    for (const a of filters.get('ancestor') ?? []) ancestors.set(a, await this.#d.imageIdOf(a));
    const list = selectContainers(this.#svc.list(), { all: !!o.all, filters, ...(o.limit !== undefined ? { limit: o.limit } : {}) }, {
      resolve: (r) => this.#svc.resolve(r),
      imageMatches: (ref, c) => ancestors.get(ref) === c.imageId,
      networksOf: (c) => this.#d.attached(c.id).flatMap((a) => [a.net.name, a.net.id]),
      portsOf: (c) => {
        const ports = containerPorts(c, this.#networking(c));
        return { published: ports.filter((p) => p.PublicPort).map((p) => `${p.PrivatePort}/${p.Type}`), exposed: ports.map((p) => `${p.PrivatePort}/${p.Type}`) };
      },
      volumesOf: (c) => this.#d.mountsOf(c.id).flatMap((m) => [m.type === 'volume' ? m.name ?? '' : '', m.destination].filter(Boolean)),
    });
    return Promise.all(list.map((c) => this.#details(c, !!o.size)));
  }

  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerDetails> {
    return this.#details(this.#svc.resolve(ref), !!opts.size);
  }

  create(body: api.ContainerCreateBody, name?: string): Promise<{ id: string; warnings: string[] }> { return this.#svc.create(body, name); }
  start(ref: string): Promise<void> { return this.#svc.start(ref); }
  stop(ref: string, opts: StopOptions = {}): Promise<void> { return this.#svc.stop(ref, opts); }
  restart(ref: string, opts: StopOptions = {}): Promise<void> { return this.#svc.restart(ref, opts); }
  kill(ref: string, signal = 'SIGKILL'): Promise<void> { return this.#svc.kill(ref, signal); }
  pause(ref: string): Promise<void> { return this.#svc.pause(ref); }
  unpause(ref: string): Promise<void> { return this.#svc.unpause(ref); }
  rename(ref: string, newName: string): void { this.#svc.rename(ref, newName); }
  remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> { return this.#svc.remove(ref, opts); }
  prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }> { return this.#svc.prune(filters); }
  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<ContainerExit> {
    const r = await this.#svc.wait(ref, condition, signal);
    return { statusCode: r.StatusCode, ...(r.Error ? { error: r.Error.Message } : {}) };
  }

  removeLink(linkName: string): Promise<void> {
    const svc = this.#svc;
    return removeLink({ repo: svc.repo, network: svc.deps.network, liveHostsPath: (id) => (svc.isRunning(id) ? svc.paths(id).hostsPath : undefined) }, linkName);
  }

  async top(ref: string, psArgs: string): Promise<{ titles: string[]; processes: string[][] }> {
    const c = this.#running(ref);
    const pids = await this.#svc.runtimeFor(c.runtime).pids(c.id);
    return topProcesses(pids, psArgs);
  }

  async resize(ref: string, size: { height: number; width: number }): Promise<void> {
    const c = this.#running(ref);
    await this.#d.monitor.resize(this.#svc.paths(c.id).ctlFifo, size.height, size.width);
  }

  async logs(ref: string, o: LogsOptions): Promise<ContainerLogs> {
    const svc = this.#svc;
    const c = svc.resolve(ref);
    if (!o.stdout && !o.stderr) throw new EngineError('InvalidParameter', 'Bad parameters: you must choose at least one stream');
    if (c.hostConfig.LogConfig?.Type === 'none') throw new EngineError('InvalidParameter', `configured logging driver does not support reading`);
    const read = {
      stdout: o.stdout, stderr: o.stderr, ...(o.tail !== undefined ? { tail: o.tail } : {}),
      ...(o.sinceNs !== undefined && o.sinceNs > 0n ? { sinceNs: o.sinceNs } : {}), ...(o.untilNs !== undefined && o.untilNs > 0n ? { untilNs: o.untilNs } : {}),
    };
    const path = svc.paths(c.id).logPath;
    const signal = o.signal ?? new AbortController().signal;
    async function* entries(): AsyncGenerator<LogEntry> {
      for await (const e of readLogs(path, read)) {
        if (signal.aborted) return;
        yield e;
      }
      if (o.follow && svc.isRunning(c.id) && o.untilNs === undefined) {
        yield* followLogs(path, { ...read, tail: undefined } as typeof read, svc.exited(c.id), signal);
      }
    }
    return { tty: !!c.config.Tty, entries: entries() };
  }

  async attach(ref: string, o: AttachOptions): Promise<ContainerAttachment> {
    const svc = this.#svc;
    const c = svc.resolve(ref);
    const status = c.state.status;
    if (status === 'removing' || status === 'dead') throw new EngineError('Conflict', `container ${c.id} is marked for removal and cannot be attached to`);
    if (status === 'paused') throw new EngineError('Conflict', `container ${ref} is paused, unpause the container before attach`);
    if (status === 'restarting') throw new EngineError('Conflict', `container ${ref} is restarting, wait until the container is running`);
    // Registered before the caller answers the client: it may send `start` at once.
    const session = o.stream ? new PendingAttach(o.stdin && !!c.config.OpenStdin) : null;
    if (session) svc.whenAttachable(c.id, (socketPath) => this.#connect(c.id, session, socketPath));
    const replayed = o.logs && (o.stdout || o.stderr) && c.hostConfig.LogConfig?.Type !== 'none';
    const events = this.#d.events;
    const logPath = svc.paths(c.id).logPath;
    async function* replay(): AsyncGenerator<LogEntry> {
      try {
        if (replayed) yield* readLogs(logPath, { stdout: o.stdout, stderr: o.stderr });
      } finally {
        // dockerd announces the attach once the log is replayed.
        events.publish('container', 'attach', c.id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name });
      }
    }
    return { tty: !!c.config.Tty, replay: replay(), session };
  }

  stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<ContainerStats> {
    this.#svc.resolve(ref);
    return this.#d.stats.frames(ref, opts);
  }

  update(ref: string, body: api.ContainerUpdateBody): Promise<string[]> { return this.#d.update(ref, body); }
  statPath(ref: string, path: string): Promise<PathStat> { return this.#d.files.stat(ref, path); }
  archive(ref: string, path: string): Promise<{ stat: PathStat; stream: Readable }> { return this.#d.files.archive(ref, path); }
  extract(ref: string, path: string, input: Readable, opts: ExtractOptions): Promise<void> { return this.#d.files.extract(ref, path, input, opts); }
  export(ref: string): Promise<Readable> { return this.#d.files.export(ref); }
  changes(ref: string): Promise<FileChange[]> { return this.#d.files.changes(ref); }
  commit(ref: string, opts: CommitRequest): Promise<string> { return this.#d.commit(ref, opts); }

  /** A container with its views' facts; `withSizes` walks its writable layer. */
  async #details(c: ContainerRecord, withSizes: boolean): Promise<ContainerDetails> {
    return {
      record: c, running: this.#svc.isRunning(c.id), paths: this.#svc.paths(c.id), execIds: this.#d.execIdsOf(c.id),
      graphData: this.#d.graphData(c.id), networking: this.#networking(c), mounts: this.#d.mountsOf(c.id),
      ...(withSizes ? { sizes: await this.#d.sizes(c) } : {}),
    };
  }

  #networking(c: ContainerRecord): ContainerNetworking {
    return { attached: this.#d.attached(c.id), sandboxKey: this.#d.sandboxKey(c.id), running: this.#svc.isRunning(c.id) };
  }

  #running(ref: string): ContainerRecord {
    const c = this.#svc.resolve(ref);
    if (!this.#svc.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
    return c;
  }

  /**
   * Connects a session to conmon. A monitor that has already gone (the process exited and its exit
   * is not settled yet) ends the session with that run, as dockerd's attach to a finishing container
   * ends when its streams close; a start that failed (null) ends it at once.
   */
  async #connect(id: string, session: PendingAttach, socketPath: string | null): Promise<void> {
    try {
      await session.connect(this.#d.monitor, socketPath);
    } catch (err) {
      if (kindOf(err) === 'NotFound') await this.#svc.exited(id);
      await session.connect(this.#d.monitor, null);
      if (kindOf(err) !== 'NotFound') throw err;
    }
  }
}
