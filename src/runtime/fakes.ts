import type { ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../lib/errors.ts';
import type { AttachSession } from '../lib/native-helper.ts';
import type { Monitor, MonitorLaunch, MonitorProcess, MonitorResult } from './monitor.ts';
import type { ExecArgs, OciRuntime, RuntimeState } from './oci-runtime.ts';
import { RuntimeCallError, RuntimeCreateError } from './runtime-errors.ts';

/** The runtime calls a test can make fail. */
export type FakeRuntimeOp = 'start' | 'kill' | 'pause' | 'resume' | 'update' | 'delete' | 'state';

interface FakeContainer {
  status: RuntimeState['status'];
  pid: number;
  exitDir: string;
  persistDir: string;
}

/** Exit codes of the signals the fake's processes die of (128 + the signal's number). */
const FATAL: Readonly<Record<string, number>> = { SIGKILL: 137, KILL: 137, '9': 137, SIGTERM: 143, TERM: 143, '15': 143, SIGINT: 130, INT: 130, '2': 130 };

/**
 * An OCI runtime in memory, for unit tests of the engine (no root, no crun). FakeMonitor creates
 * its containers; `start` runs them; a fatal signal (KILL, TERM, INT) or `exit()` ends them the
 * way conmon reports an exit: `<exitDir>/<id>` holds the code, `<persistDir>/exit` too. Calls are
 * recorded in `calls` ("start <id>"); `failNext(op)` makes the next such call throw.
 */
export class FakeOciRuntime implements OciRuntime {
  readonly path: string;
  readonly globalArgs: string[] = ['--root', '/fake'];
  readonly calls: string[] = [];
  readonly #containers = new Map<string, FakeContainer>();
  readonly #failures = new Map<FakeRuntimeOp, Error>();
  #nextPid = 1000;

  constructor(readonly name = 'crun') {
    this.path = `/fake/bin/${name}`;
  }

  /** The next `op` call throws `err` (default: the runtime's Internal error). */
  failNext(op: FakeRuntimeOp, err: Error = new RuntimeCallError('Internal', this.name, op, `${op} failed`)): void {
    this.#failures.set(op, err);
  }

  /** What the monitor's `<runtime> create` does: a record in `created`, its process waiting. */
  created(id: string, l: Pick<MonitorLaunch, 'exitDir' | 'persistDir'>): number {
    const pid = this.#nextPid++;
    this.#containers.set(id, { status: 'created', pid, exitDir: l.exitDir, persistDir: l.persistDir });
    return pid;
  }

  /** The container's process ends with `code`, reported as conmon reports it. */
  exit(id: string, code: number): void {
    const c = this.#containers.get(id);
    if (!c || c.status === 'stopped') return;
    c.status = 'stopped';
    mkdirSync(c.persistDir, { recursive: true });
    writeFileSync(join(c.persistDir, 'exit'), String(code));
    // conmon writes then renames: the watcher never reads a half-written file.
    const tmp = join(c.exitDir, `.${id}.tmp`);
    writeFileSync(tmp, String(code));
    renameSync(tmp, join(c.exitDir, id));
  }

  /** The runtime's status of `id`, or undefined when it keeps no record. */
  statusOf(id: string): RuntimeState['status'] | undefined {
    return this.#containers.get(id)?.status;
  }

  hasState(id: string): boolean { return this.#containers.has(id); }
  ids(): string[] { return [...this.#containers.keys()]; }

  async start(id: string): Promise<void> {
    const c = this.#call('start', id);
    if (c.status !== 'created') throw new RuntimeCallError('Internal', this.name, 'start', `container ${id} is not in created state`);
    c.status = 'running';
  }

  async kill(id: string, signal: string | number, _all?: boolean): Promise<void> {
    const c = this.#call('kill', id, String(signal));
    if (c.status === 'stopped') throw new RuntimeCallError('Internal', this.name, 'kill', 'container not running');
    const code = FATAL[String(signal)];
    // A frozen process acts on no signal until it is thawed, except SIGKILL.
    if (code !== undefined && (c.status !== 'paused' || code === 137)) this.exit(id, code);
  }

  async pause(id: string): Promise<void> {
    const c = this.#call('pause', id);
    if (c.status !== 'running') throw new RuntimeCallError('Internal', this.name, 'pause', 'container not running');
    c.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    const c = this.#call('resume', id);
    if (c.status !== 'paused') throw new RuntimeCallError('Internal', this.name, 'resume', 'container not paused');
    c.status = 'running';
  }

  async update(id: string, _resourcesFile: string): Promise<void> { this.#call('update', id); }

  async delete(id: string, force = false): Promise<void> {
    this.#fail('delete', id);
    this.calls.push(`delete ${id}${force ? ' --force' : ''}`);
    const c = this.#containers.get(id);
    if (!c) return;
    if (!force && (c.status === 'running' || c.status === 'paused')) throw new RuntimeCallError('Internal', this.name, 'delete', 'container is running');
    if (c.status === 'running' || c.status === 'paused') this.exit(id, 137);
    this.#containers.delete(id);
  }

  async state(id: string): Promise<RuntimeState | null> {
    this.#fail('state', id);
    const c = this.#containers.get(id);
    return c ? { id, pid: c.pid, status: c.status } : null;
  }

  async pids(id: string): Promise<number[]> {
    const c = this.#containers.get(id);
    return c && c.status !== 'stopped' ? [c.pid] : [];
  }

  spawnExec(_id: string, _processFile: string, _opts: ExecArgs & { detach?: boolean; stdin: boolean }): ChildProcess {
    throw new EngineError('NotImplemented', 'FakeOciRuntime runs no processes');
  }

  ttyExecArgv(id: string, processFile: string, _opts: ExecArgs & { pidFile: string }): string[] {
    return [this.path, 'exec', '--process', processFile, id];
  }

  async version(): Promise<string> { return '0.0-fake'; }

  /** A recorded call on a container the runtime knows (NotFound otherwise), after any planned failure. */
  #call(op: FakeRuntimeOp, id: string, ...args: string[]): FakeContainer {
    this.#fail(op, id);
    this.calls.push([op, id, ...args].join(' '));
    const c = this.#containers.get(id);
    if (!c) throw new RuntimeCallError('NotFound', this.name, op, `container ${id} does not exist`);
    return c;
  }

  #fail(op: FakeRuntimeOp, id: string): void {
    const err = this.#failures.get(op);
    if (!err) return;
    this.#failures.delete(op);
    this.calls.push(`${op} ${id} (failed)`);
    throw err;
  }
}

/**
 * conmon in memory: `launch` creates the container in the FakeOciRuntime whose `path` it is given
 * (as conmon runs `<runtime> create`), or fails as `<runtime> create` would after `failNextLaunch`.
 * Resize and reopen requests are recorded in `controls`; `find` lists the monitors of containers
 * the runtime has not seen stop.
 */
export class FakeMonitor implements Monitor {
  readonly launches: MonitorLaunch[] = [];
  readonly controls: string[] = [];
  readonly killed: number[] = [];
  readonly #runtimes: Map<string, FakeOciRuntime>;
  readonly #monitors = new Map<string, { pid: number; exitDir: string; runtime: FakeOciRuntime }>();
  #launchFailure: string | undefined;
  #nextPid = 5000;

  constructor(runtimes: FakeOciRuntime[]) {
    this.#runtimes = new Map(runtimes.map((r) => [r.path, r]));
  }

  /** The next launch fails as a `<runtime> create` that printed `message`. */
  failNextLaunch(message = 'create failed: fake'): void {
    this.#launchFailure = message;
  }

  async launch(runtime: Pick<OciRuntime, 'path' | 'globalArgs'>, l: MonitorLaunch): Promise<MonitorResult> {
    this.launches.push(l);
    const fake = this.#runtimes.get(runtime.path);
    if (!fake) throw new RuntimeCreateError(`no fake runtime at ${runtime.path}`);
    if (this.#launchFailure !== undefined) {
      const message = this.#launchFailure;
      this.#launchFailure = undefined;
      throw new RuntimeCreateError(message);
    }
    const pid = fake.created(l.id, l);
    const conmonPid = this.#nextPid++;
    this.#monitors.set(l.id, { pid: conmonPid, exitDir: l.exitDir, runtime: fake });
    return { pid, conmonPid };
  }

  async attach(socketPath: string): Promise<AttachSession> {
    throw new EngineError('NotFound', `attach ${socketPath}: FakeMonitor has no attach socket`);
  }

  async resize(ctlFifo: string, rows: number, cols: number): Promise<void> { this.controls.push(`resize ${ctlFifo} ${rows} ${cols}`); }
  async reopenLog(ctlFifo: string): Promise<void> { this.controls.push(`reopen ${ctlFifo}`); }

  find(exitDir: string): MonitorProcess[] {
    return [...this.#monitors].filter(([id, m]) => m.exitDir === exitDir && m.runtime.statusOf(id) !== undefined && m.runtime.statusOf(id) !== 'stopped')
      .map(([id, m]) => ({ id, pid: m.pid }));
  }

  kill(pid: number): boolean {
    this.killed.push(pid);
    for (const [id, m] of this.#monitors) if (m.pid === pid) { this.#monitors.delete(id); return true; }
    return false;
  }

  async version(): Promise<string> { return '0.0-fake'; }
}
