import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../lib/errors.ts';
import type { ExecFn } from '../lib/exec.ts';
import { RuntimeCallError, runtimeMessage } from './runtime-errors.ts';

/** Files and settings of one `<runtime> exec`. */
export interface ExecArgs {
  /** Written by the runtime once the process runs. */
  pidFile?: string;
  /** The runtime's own errors, as JSON lines. */
  logFile?: string;
  oomScoreAdj?: number;
}

export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
}

/**
 * Runs `argv` with the container's oom_score_adj. crun applies process.oomScoreAdj when it starts
 * a container but not on exec, where the new process inherits crun's own value (berthd's, 0): an
 * exec'd process, and each health probe, would be the one process of the container the OOM killer
 * ranks differently. A process inherits its parent's value at fork, so the runtime is started
 * through a shell that sets it first (runc sets it itself; the same value again is harmless).
 */
export function withOomScoreAdj(argv: string[], oomScoreAdj: number | undefined): string[] {
  if (!oomScoreAdj) return argv;
  return ['/bin/sh', '-c', 'echo "$0" > /proc/self/oom_score_adj && exec "$@"', String(Math.trunc(oomScoreAdj)), ...argv];
}

/**
 * An OCI runtime (crun, runc) as the engine drives it: the port for that host edge.
 * A container's runtime record goes: (none) → created → running ⇄ paused → stopped → (none).
 * `create` is not here: the monitor (conmon, monitor.ts) runs `<runtime> create` itself, with
 * `path` and `globalArgs`, so that the container outlives berthd; every later step is a call here.
 * Calls throw EngineError: NotFound when the runtime keeps no record of the ID, else Internal
 * (RuntimeCallError, with the runtime's cleaned message). Implemented by OciRuntimeCli; tests use
 * FakeOciRuntime (fakes.ts).
 */
export interface OciRuntime {
  /** The name the daemon's config gives it (`crun`, `runc`, or another). */
  readonly name: string;
  /** The binary, for the monitor's `-r`. */
  readonly path: string;
  /** Global arguments every call carries; the monitor passes them as --runtime-arg. */
  readonly globalArgs: string[];
  /** Whether the runtime keeps a record of `id`; no process spawned. */
  hasState(id: string): boolean;
  /** IDs the runtime keeps a record of; no process spawned. */
  ids(): string[];
  /** Lets a created container's process run. */
  start(id: string): Promise<void>;
  /** Signals the process (`all`: every process of the container). */
  kill(id: string, signal: string | number, all?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Changes a live container's cgroup limits from an OCI linux.resources document in `resourcesFile`. */
  update(id: string, resourcesFile: string): Promise<void>;
  /** Deletes the record (and cgroup); `force` kills a live container first. A missing record is no error. */
  delete(id: string, force?: boolean): Promise<void>;
  /** The runtime's view of the container; null when it keeps no record. */
  state(id: string): Promise<RuntimeState | null>;
  /** Host PIDs of every process in the container. */
  pids(id: string): Promise<number[]>;
  /** Starts `<runtime> exec` of a process spec as the caller's child, stdio piped (see OciRuntimeCli). */
  spawnExec(id: string, processFile: string, opts: ExecArgs & { detach?: boolean; stdin: boolean }): ChildProcess;
  /** The argv of a detached tty exec, for the native helper's pty-exec. */
  ttyExecArgv(id: string, processFile: string, opts: ExecArgs & { pidFile: string }): string[];
  /** The runtime's version, from `<binary> --version` ('' when it cannot say). */
  version(): Promise<string>;
}

/** The version in a `--version` banner ("crun version 1.14.1", "runc version 1.1.12", "conmon version 2.1.6"). */
export function versionFromBanner(stdout: string): string {
  return /version\s+(\S+)/.exec(stdout)?.[1] ?? '';
}

/**
 * One driver for crun and runc (they share the OCI runtime CLI). `root` is the runtime's state
 * directory, per daemon, so two daemons never see each other's containers. exec is injected so the
 * error mapping is unit-testable.
 */
export class OciRuntimeCli implements OciRuntime {
  constructor(private readonly deps: { name: string; path: string; root: string; exec: ExecFn }) {}

  get name(): string { return this.deps.name; }
  get path(): string { return this.deps.path; }
  /** Global arguments every call carries; conmon gets them as --runtime-arg. */
  get globalArgs(): string[] { return ['--root', this.deps.root]; }

  /** Whether the runtime keeps a record of `id` (its state directory exists); no process spawned. */
  hasState(id: string): boolean {
    return existsSync(join(this.deps.root, id));
  }

  /** IDs the runtime keeps a record of (its state directories); none before its first container. */
  ids(): string[] {
    try {
      return readdirSync(this.deps.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async version(): Promise<string> {
    const r = await this.deps.exec(this.deps.path, ['--version']);
    return r.exitCode === 0 ? versionFromBanner(r.stdout) : '';
  }

  async start(id: string): Promise<void> { await this.#run(['start', id]); }
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    await this.#run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }
  async pause(id: string): Promise<void> { await this.#run(['pause', id]); }
  /** Changes a live container's cgroup limits from an OCI linux.resources document in `resourcesFile`. */
  async update(id: string, resourcesFile: string): Promise<void> { await this.#run(['update', '--resources', resourcesFile, id]); }
  async resume(id: string): Promise<void> { await this.#run(['resume', id]); }
  /** Deletes the runtime's record (and cgroup); `force` kills a live container first. Missing is fine. */
  async delete(id: string, force = false): Promise<void> {
    try {
      await this.#run(['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'NotFound')) throw err;
    }
  }
  async state(id: string): Promise<RuntimeState | null> {
    try {
      return JSON.parse(await this.#run(['state', id])) as RuntimeState;
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'NotFound') return null;
      throw err;
    }
  }
  /** Host PIDs of every process in the container. */
  async pids(id: string): Promise<number[]> {
    const out = await this.#run(['ps', '--format', 'json', id]);
    return (JSON.parse(out) as number[] | null) ?? [];
  }

  /**
   * Starts `exec` of a process spec (a JSON file) as our own child with piped stdio.
   * The caller owns the returned process. With `detach` the runtime returns once the process runs.
   * `logFile` takes the runtime's own errors as JSON lines (see execFailureReason); `oomScoreAdj`
   * is the container's (see withOomScoreAdj).
   */
  spawnExec(id: string, processFile: string, opts: ExecArgs & { detach?: boolean; stdin: boolean }): ChildProcess {
    const [file, ...argv] = this.#execArgv(id, processFile, opts, opts.detach ? ['--detach'] : []);
    return spawn(file!, argv, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  }

  /**
   * The argv for a tty exec, run under the native helper's pty-exec (it adds --console-socket).
   * Detached: runc refuses a console socket otherwise; the helper then waits, as subreaper, for
   * the process named in the pid file, so `pidFile` is required.
   */
  ttyExecArgv(id: string, processFile: string, opts: ExecArgs & { pidFile: string }): string[] {
    return this.#execArgv(id, processFile, opts, ['--detach']);
  }

  #execArgv(id: string, processFile: string, o: ExecArgs, extra: string[]): string[] {
    const log = o.logFile ? ['--log', o.logFile, '--log-format', 'json'] : [];
    const pid = o.pidFile ? ['--pid-file', o.pidFile] : [];
    return withOomScoreAdj([this.deps.path, ...this.globalArgs, ...log, 'exec', '--process', processFile, ...extra, ...pid, id], o.oomScoreAdj);
  }

  async #run(args: string[]): Promise<string> {
    const r = await this.deps.exec(this.deps.path, [...this.globalArgs, ...args]);
    if (r.exitCode === 0) return r.stdout;
    const msg = runtimeMessage(r.stderr);
    // Both runtimes say "does not exist" (runc) or "No such file" / "not found" (crun) for unknown ids.
    const kind = /does not exist|not found|No such file/i.test(msg) ? 'NotFound' : 'Internal';
    throw new RuntimeCallError(kind, this.deps.name, args[0] ?? '', msg);
  }
}
