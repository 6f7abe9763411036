import { spawn } from 'node:child_process';
import { constants, readFileSync, readdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ExecFn } from '../lib/exec.ts';
import type { AttachSession } from '../lib/native-helper.ts';
import type { Monitor, MonitorLaunch, MonitorProcess, MonitorResult } from './monitor.ts';
import { versionFromBanner, type OciRuntime } from './oci-runtime.ts';
import { RuntimeCreateError, runtimeMessage } from './runtime-errors.ts';

/** Everything conmon needs to create one container: the monitor's launch and the runtime to run. */
export interface ConmonLaunch extends MonitorLaunch {
  runtimePath: string;
  /** Extra global runtime arguments (e.g. `--root DIR`). */
  runtimeArgs: string[];
}

export type ConmonResult = MonitorResult;

/** What ConmonMonitor needs: the binary, how to run it for its version, how to connect to an attach socket. */
export interface ConmonMonitorDeps {
  path: string;
  exec: ExecFn;
  /** The native helper's attach (conmon's socket is a SOCK_SEQPACKET, which node:net cannot open). */
  connectAttach(socketPath: string, opts?: { signal?: AbortSignal; stdin?: boolean }): Promise<AttachSession>;
}

/** conmon as the engine's Monitor: launchConmon, sendConmonControl and findConmons behind the port. */
export class ConmonMonitor implements Monitor {
  constructor(private readonly deps: ConmonMonitorDeps) {}

  launch(runtime: Pick<OciRuntime, 'path' | 'globalArgs'>, l: MonitorLaunch): Promise<MonitorResult> {
    return launchConmon(this.deps.path, { ...l, runtimePath: runtime.path, runtimeArgs: runtime.globalArgs });
  }

  attach(socketPath: string, opts?: { signal?: AbortSignal; stdin?: boolean }): Promise<AttachSession> {
    return this.deps.connectAttach(socketPath, opts);
  }

  resize(ctlFifo: string, rows: number, cols: number): Promise<void> { return sendConmonControl(ctlFifo, 1, rows, cols); }
  reopenLog(ctlFifo: string): Promise<void> { return sendConmonControl(ctlFifo, 2); }
  find(exitDir: string): MonitorProcess[] { return findConmons(exitDir); }

  kill(pid: number): boolean {
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw err;
    }
  }

  async version(): Promise<string> {
    const r = await this.deps.exec(this.deps.path, ['--version']);
    return r.exitCode === 0 ? versionFromBanner(r.stdout) : '';
  }
}

/**
 * Starts conmon for a container: conmon double-forks away from berthd (so the container outlives
 * the daemon), runs `<runtime> create`, and reports the container's PID on the sync pipe (fd 3).
 * The container then waits in the runtime's exec fifo until `<runtime> start`.
 * Throws RuntimeCreateError (Internal) with the runtime's message when create fails.
 */
export async function launchConmon(conmonPath: string, l: ConmonLaunch): Promise<ConmonResult> {
  const args = [
    '--api-version', '1',
    '-c', l.id, '-u', l.id, '-n', l.name,
    '-r', l.runtimePath,
    '-b', l.bundleDir,
    '-p', l.pidFile,
    '-P', l.conmonPidFile,
    '--exit-dir', l.exitDir,
    '--persist-dir', l.persistDir,
    '--socket-dir-path', l.bundleDir,
    '--full-attach',
    '--log-level', 'error',
    '--syslog',
    // Docker does not fsync container logs either; a sync at every rotation stalls chatty containers.
    '--no-sync-log',
  ];
  for (const a of l.runtimeArgs) args.push('--runtime-arg', a);
  if (l.logPath) args.push('-l', `k8s-file:${l.logPath}`);
  else args.push('-l', 'none');
  if (l.logPath && l.logSizeMax && l.logSizeMax > 0) args.push('--log-size-max', String(l.logSizeMax));
  if (l.tty) args.push('-t');
  if (l.stdin) args.push('-i');
  if (l.leaveStdinOpen) args.push('--leave-stdin-open');

  const child = spawn(conmonPath, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3' },
    detached: true,
    // conmon also drops an `oom` file in its working directory on an OOM kill: keep it in the bundle.
    cwd: l.bundleDir,
  });
  const sync = child.stdio[3] as NodeJS.ReadableStream;
  const errChunks: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => errChunks.push(b));
  const message = await new Promise<{ data: number; message?: string } | null>((resolve, reject) => {
    let buf = '';
    child.on('error', reject);
    sync.on('data', (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { data: number; message?: string });
    });
    sync.on('end', () => resolve(null));
    sync.on('error', () => resolve(null));
  });
  // The grandchild keeps fd 3; we have our answer and let go of it.
  (sync as unknown as { destroy(): void }).destroy();
  child.unref();
  if (!message || message.data <= 0) {
    const detail = message?.message?.trim() || Buffer.concat(errChunks).toString().trim() || 'conmon exited without reporting a pid';
    throw new RuntimeCreateError(runtimeMessage(detail));
  }
  return { pid: message.data, conmonPid: readPidOrZero(l.conmonPidFile) };
}

/** The PID in a pid file, 0 when conmon has not written it (the container's record then says 0). */
function readPidOrZero(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/**
 * Sends one message on conmon's control fifo (`<bundle>/ctl`): "<type> <rows> <cols>\n", type 1 is
 * a terminal resize, 2 reopens the log file. Non-blocking: with no conmon reading (the container has
 * gone) the message is dropped, not waited on.
 */
export async function sendConmonControl(ctlFifo: string, type: 1 | 2, rows = 0, cols = 0): Promise<void> {
  const fh = await openWriterOrNull(ctlFifo);
  if (!fh) return;
  try { await fh.write(`${type} ${rows} ${cols}\n`); } finally { await fh.close(); }
}

/**
 * The fifo opened for writing, or null when no conmon reads it (ENXIO) or it is gone (ENOENT):
 * the message is then for a monitor that no longer exists.
 */
async function openWriterOrNull(fifo: string): Promise<FileHandle | null> {
  try {
    return await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return null;
    throw err;
  }
}

/** A conmon process and the container it monitors. */
export type ConmonProcess = MonitorProcess;

/**
 * The conmon processes of one daemon (those writing to its `exitDir`), read from /proc: start-up
 * recovery kills those whose container is not running (a start cut short). Pure over `readProc`.
 */
export function findConmons(exitDir: string, readProc: ProcReader = defaultProcReader): ConmonProcess[] {
  const out: ConmonProcess[] = [];
  for (const pid of readProc.pids()) {
    const args = readProc.cmdline(pid);
    if (!args?.[0]?.endsWith('conmon')) continue;
    const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
    const id = arg('-c');
    if (arg('--exit-dir') === exitDir && id) out.push({ pid, id });
  }
  return out;
}

/** What findConmons reads of /proc (tests give a fake). */
export interface ProcReader {
  pids(): number[];
  /** The process's argv, or undefined when it is gone. */
  cmdline(pid: number): string[] | undefined;
}

const defaultProcReader: ProcReader = {
  pids: () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number),
  cmdline: (pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1); } catch { return undefined; }
  },
};
