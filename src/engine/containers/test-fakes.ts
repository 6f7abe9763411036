import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openDb, type Db } from '../../store/db.ts';
import { FakeMonitor, FakeOciRuntime } from '../../runtime/fakes.ts';
import { EventBus } from '../events.ts';
import type { ContainerServiceDeps, ImageLookup, NetworkHooks, RootfsProvider, SandboxInfo, VolumeHooks } from './deps.ts';
import type { ContainerRecord } from './record.ts';

/** One log line as the engine wrote it. */
export interface LogLine { level: 'info' | 'warn' | 'error' | 'debug'; fields: Record<string, unknown>; message: string }

/** A logger that keeps its lines, for tests that check a failure was logged, not swallowed. */
export class RecordingLog {
  readonly lines: LogLine[] = [];
  info(o: object, m = ''): void { this.#add('info', o, m); }
  warn(o: object, m = ''): void { this.#add('warn', o, m); }
  error(o: object, m = ''): void { this.#add('error', o, m); }
  debug(o: object, m = ''): void { this.#add('debug', o, m); }
  /** The warnings and errors with this message. */
  problems(message: string): LogLine[] {
    return this.lines.filter((l) => (l.level === 'warn' || l.level === 'error') && l.message === message);
  }
  #add(level: LogLine['level'], o: object, message: string): void { this.lines.push({ level, fields: o as Record<string, unknown>, message }); }
}

type Fallible<Op extends string> = { failNext(op: Op, err?: Error): void };

/** Planned failures: `failNext(op)` makes the next `op` throw; `failAlways(op)` every one until `heal(op)`. */
class Failures<Op extends string> implements Fallible<Op> {
  readonly #next = new Map<Op, Error>();
  readonly #always = new Map<Op, Error>();
  failNext(op: Op, err: Error = new Error(`${op} failed`)): void { this.#next.set(op, err); }
  failAlways(op: Op, err: Error = new Error(`${op} failed`)): void { this.#always.set(op, err); }
  heal(op: Op): void { this.#always.delete(op); }
  check(op: Op): void {
    const err = this.#next.get(op) ?? this.#always.get(op);
    this.#next.delete(op);
    if (err) throw err;
  }
}

/** Writable rootfs per container, in memory: what is prepared and what is mounted. */
export class FakeRootfs extends Failures<'prepare' | 'mount' | 'unmount' | 'remove'> implements RootfsProvider {
  readonly prepared = new Set<string>();
  readonly mounted = new Set<string>();
  async prepare(id: string, _chainIds: string[]): Promise<void> { this.check('prepare'); this.prepared.add(id); }
  async mount(id: string): Promise<string> { this.check('mount'); this.mounted.add(id); return `/fake/rootfs/${id}`; }
  async unmount(id: string): Promise<void> { this.check('unmount'); this.mounted.delete(id); }
  async remove(id: string): Promise<void> {
    this.check('remove');
    if (this.mounted.has(id)) throw new Error(`remove rootfs ${id}: EBUSY (still mounted)`);
    this.prepared.delete(id);
  }
  async mountedContainers(): Promise<string[]> { return [...this.mounted]; }
}

/** Networking in memory: which containers hold a network now. `ready` lets a test fail the host side after setUp. */
export class FakeNetwork extends Failures<'plan' | 'setUp' | 'tearDown'> implements NetworkHooks {
  readonly held = new Set<string>();
  /** When set, the next setUp's sandbox reports its host side failed with this error. */
  readyFailure: Error | undefined;
  plan(_c: ContainerRecord): string[] { this.check('plan'); return []; }
  async setUp(c: ContainerRecord): Promise<SandboxInfo> {
    this.check('setUp');
    this.held.add(c.id);
    const failure = this.readyFailure;
    this.readyFailure = undefined;
    if (!failure) return { embeddedDns: false, links: [], ip: '10.0.0.2' };
    const ready = Promise.reject(failure);
    // Awaited by the start only once conmon is up; marked handled so node does not report it before.
    ready.catch(() => undefined);
    return { embeddedDns: false, links: [], ip: '10.0.0.2', ready };
  }
  async tearDown(c: ContainerRecord): Promise<void> { this.check('tearDown'); this.held.delete(c.id); }
  refreshDns(): void { /* no DNS in the fake */ }
  async connect(): Promise<void> { /* not exercised */ }
  async disconnect(): Promise<void> { /* not exercised */ }
  removeLink(): boolean { return false; }
  hostGateway(): string | undefined { return undefined; }
}

/** Volumes in memory: containers with volumes set up, and those forgotten (with `anonymous` or not). */
export class FakeVolumes extends Failures<'plan' | 'setUp' | 'release' | 'forget'> implements VolumeHooks {
  readonly inUse = new Set<string>();
  readonly forgotten: { id: string; anonymous: boolean }[] = [];
  async plan(): Promise<void> { this.check('plan'); }
  async setUp(c: ContainerRecord): Promise<[]> { this.check('setUp'); this.inUse.add(c.id); return []; }
  async release(c: ContainerRecord): Promise<void> { this.check('release'); this.inUse.delete(c.id); }
  async forget(c: ContainerRecord, opts: { anonymous: boolean }): Promise<void> { this.check('forget'); this.forgotten.push({ id: c.id, ...opts }); }
}

/** cgroups by container ID: a start makes one (the runtime would), releaseCgroup removes it. */
export class FakeCgroups extends Failures<'release'> {
  readonly live = new Set<string>();
  readonly release = async (id: string): Promise<void> => { this.check('release'); this.live.delete(id); };
  readonly ids = async (): Promise<string[]> => [...this.live];
}

const image: Awaited<ReturnType<ImageLookup['resolve']>> = {
  id: 'sha256:' + 'a'.repeat(64),
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'] } },
  chainIds: ['sha256:' + 'b'.repeat(64)],
};

/** Everything a ContainerService needs, faked, over a fresh database and directories; `fakes` to steer and inspect them. */
export interface FakeEngine {
  deps: ContainerServiceDeps;
  db: Db;
  runtime: FakeOciRuntime;
  monitor: FakeMonitor;
  rootfs: FakeRootfs;
  network: FakeNetwork;
  volumes: FakeVolumes;
  cgroups: FakeCgroups;
  log: RecordingLog;
  events: EventBus;
  /** The spec writer: it fails with `spec.failure` when that is set. */
  spec: { failure: Error | undefined };
}

/** A FakeEngine whose directories go when the test ends. Its database is a file: a second service (a daemon restart) opens it again. */
export function fakeEngine(t: TestContext): FakeEngine {
  const root = mkdtempSync(join(tmpdir(), 'berth-ctr-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const db = openDb(join(root, 'berth.db'));
  t.after(() => db.close());
  const runtime = new FakeOciRuntime('crun');
  const monitor = new FakeMonitor([runtime]);
  const [rootfs, network, volumes, cgroups] = [new FakeRootfs(), new FakeNetwork(), new FakeVolumes(), new FakeCgroups()];
  const [log, events] = [new RecordingLog(), new EventBus()];
  const spec: { failure: Error | undefined } = { failure: undefined };
  const deps: ContainerServiceDeps = {
    db, images: { resolve: async () => image }, rootfs, runtimes: new Map([['crun', runtime]]), monitor,
    writeSpec: async (c) => {
      if (spec.failure) throw spec.failure;
      // The runtime makes the cgroup at create; the spec is written just before.
      cgroups.live.add(c.id);
      return {};
    },
    events, network, volumes, releaseCgroup: cgroups.release, cgroupIds: cgroups.ids, log,
    config: { dataRoot: join(root, 'data'), execRoot: join(root, 'exec'), defaultRuntime: 'crun', defaultLogMaxSize: 0, defaultLogMaxFile: 1 },
  };
  return { deps, db, runtime, monitor, rootfs, network, volumes, cgroups, log, events, spec };
}
