import { readFile, readlink, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ExecCreateBody } from '../../api/types/index.ts';
import type { ExecDetails } from '../contracts/execs.ts';
import { EngineError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { NativeHelper } from '../../lib/native-helper.ts';
import { execFailureReason, execStarted } from '../../runtime/exec-start.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import { execFailedMessage, isInvalidStartConfig } from '../../runtime/runtime-errors.ts';
import type { OciProcess } from '../../runtime/spec/types.ts';
import { execProcess } from './exec-process.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerService } from './service.ts';
import { LimitedBuffer, type ProbeOutcome } from './health.ts';
import { existsSync } from 'node:fs';
import { IntentLog } from '../../store/intents.ts';
import { EXEC_INTENT, type ExecIntent } from './recovery.ts';
import { killIfAlive } from '../../lib/fs-probes.ts';

interface ExecSession {
  id: string;
  containerId: string;
  body: ExecCreateBody;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  resize?: (rows: number, cols: number) => void;
}

export interface ExecStreams {
  stdout: Readable;
  stderr: Readable | null;
  stdin: Writable | null;
  /** Exit code of the process. */
  done: Promise<number>;
}

/**
 * Exec sessions: processes started inside a running container with `<runtime> exec`. Without a tty
 * the runtime is our child with plain pipes; with a tty the native helper receives the pty master
 * over the console socket. Sessions live in memory (as Docker's do) and are forgotten with the
 * container.
 */
export class ExecService {
  readonly #sessions = new Map<string, ExecSession>();

  readonly #intents: IntentLog;

  constructor(private readonly deps: { containers: ContainerService; helper: NativeHelper }) {
    this.#intents = new IntentLog(deps.containers.deps.db);
  }

  /**
   * Start-up, after the containers' recovery: sessions of the previous daemon are gone with it.
   * The process of an attached one is killed (its client and streams went with the daemon, and
   * nobody can read its output or exit code); a detached one runs on, as under dockerd. Their
   * process spec and pid files go.
   */
  async recover(): Promise<void> {
    const containers = this.deps.containers;
    for (const { id, data } of this.#intents.list<ExecIntent>(EXEC_INTENT)) {
      if (!data.detach && containers.isRunning(data.containerId)) await killExecProcess(data, containers.repo.get(data.containerId)?.state.pid ?? 0);
      for (const f of [data.processFile, data.pidFile, data.logFile]) if (f) await rm(f, { force: true });
      this.#intents.clear(EXEC_INTENT, id);
    }
  }

  create(containerRef: string, body: ExecCreateBody): string {
    const c = this.deps.containers.resolve(containerRef);
    if (c.state.status === 'paused') throw new EngineError('Conflict', `Container ${c.id} is paused, unpause the container before exec`);
    if (!this.deps.containers.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw new EngineError('InvalidParameter', 'No exec command specified');
    const id = newId();
    this.#sessions.set(id, { id, containerId: c.id, body, running: false, exitCode: null, pid: 0, started: false });
    this.deps.containers.deps.events.publish('container', `exec_create: ${body.Cmd.join(' ')}`, c.id, { execID: id, image: c.imageRef, name: c.name });
    return id;
  }

  /**
   * A health probe: runs `cmd` in the container without a tty, collecting stdout and stderr (the
   * first 4 KB, as dockerd keeps), killing it after `timeoutMs` or on `signal`. The session is
   * forgotten when it ends. Throws Conflict if the container is not running.
   */
  async runProbe(containerId: string, cmd: string[], opts: { timeoutMs: number; user?: string; workingDir?: string; signal?: AbortSignal }): Promise<ProbeOutcome> {
    const id = this.create(containerId, {
      Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(opts.user ? { User: opts.user } : {}), ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
    });
    try {
      const streams = await this.start(id, { detach: false });
      const out = new LimitedBuffer();
      const ended = Promise.all([streams.stdout, streams.stderr].map((r) => new Promise<void>((resolve) => {
        if (!r) { resolve(); return; }
        r.on('data', (b: Buffer) => out.write(b));
        r.once('end', resolve);
        r.once('error', () => resolve());
      })));
      let timedOut = false;
      const kill = () => { void this.#killSession(id); };
      const timer = setTimeout(() => { timedOut = true; kill(); }, opts.timeoutMs);
      opts.signal?.addEventListener('abort', kill);
      const exitCode = await streams.done.finally(() => { clearTimeout(timer); opts.signal?.removeEventListener('abort', kill); });
      await Promise.race([ended, new Promise((r) => setTimeout(r, 200))]);
      return { exitCode, output: out.toString(), timedOut };
    } finally {
      this.#sessions.delete(id);
    }
  }

  /** SIGKILL to an exec's process (its pid from the runtime's pid file). */
  async #killSession(id: string): Promise<void> {
    const s = this.#sessions.get(id);
    if (!s) return;
    const pidFile = join(this.deps.containers.paths(s.containerId).bundleDir, `exec-${id}.pid`);
    // The runtime writes the pid file just after the process starts: wait for it a little.
    for (let i = 0; i < 50 && s.running; i++) {
      const pid = s.pid || Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || 0;
      if (pid > 0) {
        killIfAlive(pid);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #get(id: string): ExecSession {
    const s = this.#sessions.get(id);
    if (!s) throw new EngineError('NotFound', `No such exec instance: ${id}`);
    return s;
  }

  inspect(id: string): ExecDetails {
    const s = this.#get(id);
    const b = s.body;
    return {
      id: s.id, containerId: s.containerId, cmd: [...b.Cmd], user: b.User ?? '', privileged: !!b.Privileged, tty: !!b.Tty,
      detachKeys: b.DetachKeys ?? '', attachStdin: !!b.AttachStdin, attachStdout: !!b.AttachStdout, attachStderr: !!b.AttachStderr,
      running: s.running, exitCode: s.exitCode, pid: s.pid,
    };
  }

  resize(id: string, rows: number, cols: number): void {
    const s = this.#get(id);
    if (!s.running) throw new EngineError('Conflict', `exec ${id} is not running`);
    s.resize?.(rows, cols);
  }

  /**
   * Starts the session's process and resolves once it runs, with its streams. The terminal is the
   * one asked for at create (`Tty`), whatever the start request says. Throws Conflict if the exec
   * was started before or the container is not running. A process the runtime cannot start (a
   * missing binary, no x bit) throws with dockerd's words, never the runtime's, and the exec's exit
   * code becomes 126, as dockerd records a failed exec start.
   */
  async start(id: string, opts: { detach: boolean; consoleSize?: [number, number] | null }): Promise<ExecStreams> {
    const s = this.#get(id);
    if (s.started) throw new EngineError('Conflict', `exec ${id} has already been started`);
    const containers = this.deps.containers;
    const c = containers.resolve(s.containerId);
    if (!containers.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
    s.started = true;
    try {
      return await this.#launch(s, c, opts);
    } catch (err) {
      // dockerd records 126 for an exec that failed to start, whatever the reason.
      s.running = false;
      s.exitCode ??= 126;
      throw err;
    }
  }

  async #launch(s: ExecSession, c: ContainerRecord, opts: { detach: boolean; consoleSize?: [number, number] | null }): Promise<ExecStreams> {
    const containers = this.deps.containers;
    const id = s.id;
    const paths = containers.paths(c.id);
    const files = {
      processFile: join(paths.bundleDir, `exec-${id}.json`),
      pidFile: join(paths.bundleDir, `exec-${id}.pid`),
      logFile: join(paths.bundleDir, `exec-${id}.log`),
    };
    const cleanUp = () => {
      void Promise.all(Object.values(files).map((f) => rm(f, { force: true })));
      this.#intents.clear(EXEC_INTENT, id);
    };
    const containerSpec = JSON.parse(await readFile(paths.configPath, 'utf8')) as { process: OciProcess; root: { path: string } };
    const consoleSize = opts.consoleSize ?? s.body.ConsoleSize ?? null;
    const spec = await execProcess(containerSpec, s.body, { configEnv: c.config.Env ?? [], consoleSize });
    // Intent first: a daemon killed during the session leaves a process recovery must find.
    this.#intents.record(EXEC_INTENT, id, { containerId: c.id, ...files, detach: opts.detach } satisfies ExecIntent);
    // Until the launch, a failure has no process to wait for: the intent and files go with it.
    const launched = await (async () => {
      await writeFile(files.processFile, JSON.stringify(spec));
      const runtime = containers.runtimeFor(c.runtime);
      const launch = { ...files, spec, stdinWanted: !!s.body.AttachStdin && !opts.detach };
      return s.body.Tty ? this.#launchTty(s, runtime, c.id, { ...launch, consoleSize }) : this.#launchPiped(runtime, c.id, launch);
    })().catch((err: unknown) => { cleanUp(); throw err; });
    s.running = true;
    containers.deps.events.publish('container', `exec_start: ${s.body.Cmd.join(' ')}`, c.id, { execID: id, image: c.imageRef, name: c.name });
    // The outputs are not read before the process runs: a runtime's failure is not the process's output.
    if (!await execStarted(files.pidFile, launched.exited)) {
      // Only its end matters here: how it failed is what execFailureReason reads next.
      await Promise.allSettled([launched.exited]);
      const reason = await execFailureReason(files.logFile, launched.runtimeStderr());
      launched.stdout.resume();
      launched.stderr?.resume();
      s.running = false;
      s.exitCode = 126;
      cleanUp();
      const message = execFailedMessage(reason, s.body.Cmd[0] ?? '');
      throw new EngineError(isInvalidStartConfig(message) ? 'InvalidParameter' : 'Internal', message);
    }
    s.pid = Number((await readFile(files.pidFile, 'utf8').catch(() => '')).trim()) || 0;
    const finish = (code: number) => {
      s.running = false;
      s.exitCode = code;
      cleanUp();
      containers.deps.events.publish('container', 'exec_die', c.id, { execID: id, exitCode: String(code), image: c.imageRef, name: c.name });
      return code;
    };
    const done = launched.exited.then(finish, (err: unknown) => { finish(126); throw err; });
    return { stdout: launched.stdout, stderr: launched.stderr, stdin: launched.stdin, done };
  }

  /** `<runtime> exec` as our child with plain pipes: once the process runs, the runtime's stderr is the process's. */
  #launchPiped(runtime: OciRuntime, containerId: string, o: LaunchFiles): LaunchedExec {
    const child = runtime.spawnExec(containerId, o.processFile, {
      stdin: o.stdinWanted, pidFile: o.pidFile, logFile: o.logFile, ...(o.spec.oomScoreAdj ? { oomScoreAdj: o.spec.oomScoreAdj } : {}),
    });
    const exited = new Promise<number>((resolve) => {
      child.on('error', () => resolve(126));
      child.on('close', (code, sig) => resolve(code ?? (sig ? 128 + 9 : 1)));
    });
    const stderr = held(child.stderr!);
    return { stdout: held(child.stdout!), stderr, stdin: child.stdin ?? null, exited, runtimeStderr: () => Buffer.concat(drain(stderr)).toString() };
  }

  /** `<runtime> exec` under the helper's pty: one output, the terminal; the runtime's stderr stays its own. */
  #launchTty(s: ExecSession, runtime: OciRuntime, containerId: string, o: LaunchFiles & { consoleSize: [number, number] | null }): LaunchedExec {
    const [rows, cols] = o.consoleSize ?? [0, 0];
    const argv = runtime.ttyExecArgv(containerId, o.processFile, { pidFile: o.pidFile, logFile: o.logFile, ...(o.spec.oomScoreAdj ? { oomScoreAdj: o.spec.oomScoreAdj } : {}) });
    const pty = this.deps.helper.ptyExec(argv, rows && cols ? { rows, cols } : {});
    s.resize = (r, cl) => pty.resize(r, cl);
    let runtimeErr = '';
    pty.stderr.on('data', (b: Buffer) => { if (runtimeErr.length < 8192) runtimeErr += b.toString(); });
    return { stdout: held(pty.stdout), stderr: null, stdin: o.stdinWanted ? pty.stdin : null, exited: pty.exitCode, runtimeStderr: () => runtimeErr };
  }

  /** IDs of the container's exec sessions (inspect's ExecIDs). */
  idsFor(containerId: string): string[] {
    return [...this.#sessions.values()].filter((s) => s.containerId === containerId).map((s) => s.id);
  }

  /** Forgets the sessions of a removed container. */
  forgetContainer(containerId: string): void {
    for (const [id, s] of this.#sessions) if (s.containerId === containerId) this.#sessions.delete(id);
  }
}

/** What launching an exec needs besides the runtime. */
interface LaunchFiles {
  processFile: string;
  pidFile: string;
  logFile: string;
  spec: OciProcess;
  stdinWanted: boolean;
}

/** A runtime exec just spawned: its streams (not yet read), its exit, and what the runtime itself said. */
interface LaunchedExec {
  stdout: Readable;
  stderr: Readable | null;
  stdin: Writable | null;
  exited: Promise<number>;
  /** The runtime's own stderr: only meaningful when the process never started. */
  runtimeStderr(): string;
}

/**
 * A child's output, read at once into a buffer of our own until the caller takes it: Node discards
 * a child's unread stdio when the child exits (flushStdio), and a quick exec exits before its
 * start has been answered. Backpressure still reaches the process once the buffer is full.
 */
function held(r: Readable): PassThrough {
  return r.pipe(new PassThrough());
}

/** Whatever an unread readable holds now. */
function drain(r: Readable): Buffer[] {
  const out: Buffer[] = [];
  for (let b = r.read() as Buffer | null; b !== null; b = r.read() as Buffer | null) out.push(b);
  return out;
}

/**
 * SIGKILL to an orphaned exec session's process: the pid from the runtime's pid file, checked to
 * be in the container's PID namespace (a pid reused by another process is left alone). A runtime
 * still starting the process (no pid file yet) is given a moment.
 */
async function killExecProcess(e: ExecIntent, containerPid: number): Promise<void> {
  if (containerPid <= 0) return;
  const ns = (pid: number) => readlink(`/proc/${pid}/ns/pid`).catch(() => '');
  const want = await ns(containerPid);
  for (let i = 0; i < 10; i++) {
    const pid = Number((await readFile(e.pidFile, 'utf8').catch(() => '')).trim()) || 0;
    if (pid > 0) {
      if (want !== '' && await ns(pid) === want) {
        killIfAlive(pid);
      }
      return;
    }
    if (!existsSync(e.processFile)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
