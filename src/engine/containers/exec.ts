import { readFile, readlink, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ExecCreateBody, ExecInspect } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { NativeHelper } from '../../lib/native-helper.ts';
import { parseCapabilityMask, toOciCapabilities } from '../../runtime/spec/capabilities.ts';
import { existsSync, readFileSync } from 'node:fs';
import type { OciProcess } from '../../runtime/spec/types.ts';
import { resolveUser } from '../../runtime/spec/user.ts';
import { mergeEnv } from './config-merge.ts';
import type { ContainerService } from './service.ts';
import { LimitedBuffer, type ProbeOutcome } from './health.ts';
import { IntentLog } from '../../store/intents.ts';
import { EXEC_INTENT, type ExecIntent } from './recovery.ts';

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
      await rm(data.processFile, { force: true });
      await rm(data.pidFile, { force: true });
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
      const streams = await this.start(id, { detach: false, tty: false });
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
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
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

  inspect(id: string): ExecInspect {
    const s = this.#get(id);
    const [entrypoint = '', ...args] = s.body.Cmd;
    return {
      CanRemove: false, DetachKeys: s.body.DetachKeys ?? '', ID: s.id, Running: s.running, ExitCode: s.exitCode,
      ProcessConfig: { privileged: !!s.body.Privileged, user: s.body.User ?? '', tty: !!s.body.Tty, entrypoint, arguments: args },
      OpenStdin: !!s.body.AttachStdin, OpenStderr: !!s.body.AttachStderr, OpenStdout: !!s.body.AttachStdout,
      ContainerID: s.containerId, Pid: s.pid,
    };
  }

  resize(id: string, rows: number, cols: number): void {
    const s = this.#get(id);
    if (!s.running) throw new EngineError('Conflict', `exec ${id} is not running`);
    s.resize?.(rows, cols);
  }

  /** Starts the session's process. Throws Conflict if it was started before. */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }): Promise<ExecStreams> {
    const s = this.#get(id);
    if (s.started) throw new EngineError('Conflict', `exec ${id} has already been started`);
    const containers = this.deps.containers;
    const c = containers.resolve(s.containerId);
    if (!containers.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
    s.started = true;
    const paths = containers.paths(c.id);
    const tty = opts.tty ?? !!s.body.Tty;
    const processFile = join(paths.bundleDir, `exec-${id}.json`);
    const pidFile = join(paths.bundleDir, `exec-${id}.pid`);
    const spec = await this.#processSpec(s, tty, paths.configPath, opts.consoleSize);
    // Intent first: a daemon killed during the session leaves a process recovery must find.
    this.#intents.record(EXEC_INTENT, id, { containerId: c.id, pidFile, processFile, detach: opts.detach } satisfies ExecIntent);
    await writeFile(processFile, JSON.stringify(spec));
    const runtime = containers.runtimeFor(c.runtime);
    s.running = true;
    const finish = (code: number) => {
      s.running = false;
      s.exitCode = code;
      this.#intents.clear(EXEC_INTENT, id);
      void rm(processFile, { force: true });
      void rm(pidFile, { force: true });
      containers.deps.events.publish('container', 'exec_die', c.id, { execID: id, exitCode: String(code), image: c.imageRef, name: c.name });
    };
    containers.deps.events.publish('container', `exec_start: ${s.body.Cmd.join(' ')}`, c.id, { execID: id, image: c.imageRef, name: c.name });
    const readPid = () => void readFile(pidFile, 'utf8').then((p) => { s.pid = Number(p.trim()) || 0; }, () => undefined);
    if (tty) {
      const [rows, cols] = opts.consoleSize ?? s.body.ConsoleSize ?? [0, 0];
      const pty = this.deps.helper.ptyExec(runtime.ttyExecArgv(c.id, processFile, pidFile, spec.oomScoreAdj), rows && cols ? { rows, cols } : {});
      s.resize = (r, cl) => pty.resize(r, cl);
      setTimeout(readPid, 50);
      const done = pty.exitCode.then((code) => { finish(code); return code; }, (err) => { finish(126); throw err; });
      const errOut = new PassThrough();
      pty.stderr.pipe(errOut);
      return { stdout: pty.stdout, stderr: errOut, stdin: s.body.AttachStdin && !opts.detach ? pty.stdin : null, done };
    }
    const child = runtime.spawnExec(c.id, processFile, { stdin: !!s.body.AttachStdin && !opts.detach, pidFile, ...(spec.oomScoreAdj ? { oomScoreAdj: spec.oomScoreAdj } : {}) });
    child.once('spawn', () => setTimeout(readPid, 50));
    const done = new Promise<number>((resolve) => {
      child.on('error', () => { finish(126); resolve(126); });
      child.on('close', (code, sig) => { const c2 = code ?? (sig ? 128 + 9 : 1); finish(c2); resolve(c2); });
    });
    return { stdout: child.stdout!, stderr: child.stderr!, stdin: child.stdin ?? null, done };
  }

  /** The container's own process spec, with the exec's command, env, user, cwd and terminal. */
  async #processSpec(s: ExecSession, tty: boolean, configPath: string, consoleSize?: [number, number] | null): Promise<OciProcess> {
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as { process: OciProcess; root: { path: string } };
    const p: OciProcess = { ...spec.process };
    p.args = s.body.Cmd;
    p.terminal = tty;
    if (tty && consoleSize && consoleSize[0] > 0) p.consoleSize = { height: consoleSize[0], width: consoleSize[1] };
    else delete p.consoleSize;
    p.env = mergeEnv(p.env, s.body.Env);
    if (s.body.WorkingDir) p.cwd = s.body.WorkingDir;
    if (s.body.User) {
      const root = spec.root.path;
      const [passwd, group] = await Promise.all([readFile(join(root, 'etc/passwd'), 'utf8').catch(() => ''), readFile(join(root, 'etc/group'), 'utf8').catch(() => '')]);
      const u = resolveUser(s.body.User, passwd, group);
      p.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
    }
    if (s.body.Privileged) p.capabilities = toOciCapabilities(hostCapabilities());
    return p;
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

let hostCaps: string[] | undefined;
/** The capabilities berthd itself holds (its bounding set): all a privileged process can get. */
function hostCapabilities(): string[] {
  if (!hostCaps) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    hostCaps = parseCapabilityMask(m?.[1] ?? '0');
  }
  return hostCaps;
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
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      return;
    }
    if (!existsSync(e.processFile)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
