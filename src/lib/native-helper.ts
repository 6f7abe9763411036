/**
 * TypeScript side of native/berth-helper: the few host operations Node cannot do (SOCK_SEQPACKET,
 * SCM_RIGHTS, mknod, xattrs, flock, openat2). Each call runs one short-lived helper process; the
 * helper's exit code carries the error kind (see native/berth-helper.c) and its stderr the message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { EngineError, type ErrorKind } from './errors.ts';
import { signalNumber } from './exec.ts';

/** Exit codes of berth-helper (other than 0). */
const EXIT = { notFound: 2, locked: 3, unsafe: 4 } as const;

/** An attached session to a container's conmon attach socket. The caller owns the streams. */
export interface AttachSession {
  /** Bytes for the container's stdin; end() closes the container's stdin (conmon does it). */
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Helper exit code: 0 when conmon closed the socket (the container exited) or our reader left. */
  done: Promise<number>;
  /** Detaches: the helper goes, the container keeps running. */
  kill(): void;
}

/** A process started with `<runtime> exec --tty` and its pty, relayed by the helper. */
export interface PtyExecSession {
  stdin: Writable;
  /** The terminal's output (a tty has one output stream). */
  stdout: Readable;
  /** The runtime's own messages (e.g. crun's "container does not exist"); not the terminal. */
  stderr: Readable;
  /** Sets the terminal size; ignored once the process has gone. */
  resize(rows: number, cols: number): void;
  /** Exit code of the exec'd process (128+n when killed by signal n); rejects Internal if the helper cannot start. */
  exitCode: Promise<number>;
  /** Signals the helper, which forwards the signal to the runtime and hangs up the terminal. */
  kill(signal?: NodeJS.Signals): void;
}

/** An exclusive lock held by a helper process; it is released when berthd dies, whatever the way. */
export interface HeldLock {
  /** Releases the lock and waits until it is free. Idempotent. */
  release(): Promise<void>;
}

export interface WhiteoutEntry {
  /** 'whiteout': overlay's 0/0 char device replaces the path; 'opaque': trusted.overlay.opaque=y on the dir. */
  kind: 'whiteout' | 'opaque';
  /** Relative to the root; no `..`, no symlinks on the way. */
  path: string;
}

/** What `path-stat` reports: lstat inside a root. */
export interface RootPathStat {
  /** Base name of the path as asked ("/" for the root). */
  name: string;
  size: number;
  /** st_mode (type and permission bits). */
  mode: number;
  /** Seconds since the epoch, fractional. */
  mtime: number;
  /** For a symlink: its ultimate target, resolved in the root; "" otherwise. */
  linkTarget: string;
}

/** How `tarIn` extracts; the defaults are the layer extractor's policy. */
export interface TarInOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's NoOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** Owner of everything extracted, instead of the archive's uid:gid. */
  owner?: { uid: number; gid: number };
  /** Create character and block devices (skipped otherwise). */
  allowDevices?: boolean;
  /** Take an absolute name relative to the extraction directory (refused otherwise). */
  allowAbsolute?: boolean;
  /** Cap on the bytes of regular files (default 64 GiB). */
  maxBytes?: number;
  /** Cap on the number of entries (default 1,000,000). */
  maxEntries?: number;
  signal?: AbortSignal;
}

export interface NativeHelperDeps {
  /** The berth-helper binary (see defaultHelperPath). */
  path: string;
}

/**
 * Runs native/berth-helper. Construct once in daemon/ with the binary's path.
 * Errors are EngineErrors: NotFound (missing socket/root/path), Conflict (lock held elsewhere),
 * InvalidParameter (a path that would leave its root), Canceled (aborted), Internal (anything else).
 */
export class NativeHelper {
  readonly #path: string;

  constructor(deps: NativeHelperDeps) {
    this.#path = deps.path;
  }

  /**
   * Connects to conmon's attach socket (any path length) and relays stdio. Resolves once connected,
   * so the caller may start the container without losing its first output. `stdin: false` never
   * reads or closes the container's stdin. Throws NotFound when no conmon listens at the path.
   */
  attach(socketPath: string, opts: { signal?: AbortSignal; stdin?: boolean } = {}): Promise<AttachSession> {
    const args = ['attach', ...(opts.stdin === false ? ['--no-stdin'] : []), socketPath];
    const child = spawn(this.#path, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    ignoreWriteErrors(child.stdin);
    const done = exitCodeOf(child);
    const session: AttachSession = {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      done,
      kill: () => void child.kill('SIGTERM'),
    };
    // The helper writes "ok\n" to fd 3 once connected; until then its stderr is only its own error.
    return this.#awaitReady(child, child.stdio[3] as Readable, 'ok\n', done, `attach ${socketPath}`, opts.signal)
      .then(() => {
        // Aborting after the connection detaches, like kill().
        const onAbort = () => session.kill();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        void done.finally(() => opts.signal?.removeEventListener('abort', onAbort)).catch(() => {});
        if (opts.signal?.aborted) session.kill();
        return session;
      });
  }

  /**
   * Runs `argv` (e.g. `['crun', '--root', R, 'exec', '--tty', id, 'sh']`) with
   * `--console-socket <tmp>` inserted after `exec`, and relays the pty it receives.
   */
  ptyExec(argv: string[], opts: { rows?: number; cols?: number } = {}): PtyExecSession {
    const size = opts.rows && opts.cols ? ['--size', `${opts.rows}x${opts.cols}`] : [];
    const child = spawn(this.#path, ['pty-exec', ...size, '--', ...argv], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const winsize = child.stdio[3] as Writable;
    ignoreWriteErrors(child.stdin);
    ignoreWriteErrors(winsize);
    const exitCode = exitCodeOf(child);
    void exitCode.finally(() => winsize.destroy()).catch(() => {});
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      resize: (rows, cols) => {
        if (!winsize.destroyed && Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)
          winsize.write(`${rows} ${cols}\n`);
      },
      exitCode,
      kill: (signal = 'SIGTERM') => void child.kill(signal),
    };
  }

  /** Creates overlay whiteouts and opaque dirs below root in one helper run; stops at the first error. */
  async makeWhiteouts(root: string, entries: readonly WhiteoutEntry[], opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries)
      if (/[\n\0]/.test(e.path) || e.path === '')
        throw new EngineError('InvalidParameter', `whiteout ${JSON.stringify(e.path)}: invalid path`);
    const input = entries.map((e) => `${e.kind === 'whiteout' ? 'w' : 'o'} ${e.path}\n`).join('');
    await this.#run(['whiteouts', root], `whiteouts in ${root}`, { input, signal: opts.signal });
  }

  /**
   * Takes an exclusive flock on `file` (created if missing) for as long as this process lives or until
   * release(). Throws Conflict when another process holds it (used for the data root's lock file).
   */
  async lock(file: string): Promise<HeldLock> {
    const child = spawn(this.#path, ['lock', file], { stdio: ['pipe', 'pipe', 'pipe'] });
    ignoreWriteErrors(child.stdin);
    const exited = exitCodeOf(child);
    await this.#awaitReady(child, child.stdout!, 'locked\n', exited, `lock ${file}`, undefined, (code) =>
      code === EXIT.locked
        ? new EngineError('Conflict', `data root ${dirname(file)} is in use by another berthd (${file} is locked)`)
        : undefined);
    // Held: the open stdin pipe is the lease; it must not keep berthd's event loop alive by itself.
    setRef(child, false);
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= (async () => {
          setRef(child, true);
          child.stdin!.end();
          await exited.catch(() => {});
        })();
        return released;
      },
    };
  }

  /**
   * The host path of `path` inside `root`, resolved as if root were `/` (symlinks, `..` and absolute
   * links stay inside root). `followSymlinks: false` leaves a final symlink unresolved.
   * Throws NotFound when it does not exist.
   */
  async resolveInRoot(root: string, path: string, opts: { followSymlinks?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    if (path.includes('\0')) throw new EngineError('InvalidParameter', `resolve ${JSON.stringify(path)}: invalid path`);
    const args = ['resolve', ...(opts.followSymlinks === false ? ['--no-follow'] : []), root, path];
    const out = await this.#run(args, `resolve ${path} in ${root}`, { signal: opts.signal });
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  }

  /**
   * Compiles a seccomp profile, given in the helper's line format (runtime/spec/seccomp-bpf.ts
   * writes it), into the BPF program crun would build for it; returns the raw program bytes.
   * Throws Internal for a profile crun would reject too (bad action, errno on a non-errno action...).
   */
  async compileSeccomp(input: string, opts: { signal?: AbortSignal } = {}): Promise<Buffer> {
    // base64 on the wire: #run reads stdout as text.
    const out = await this.#run(['seccomp-bpf', '--base64'], 'compile seccomp profile', { input, signal: opts.signal });
    return Buffer.from(out.trim(), 'base64');
  }

  /**
   * lstat of `path` inside `root` (chrooted: every symlink on the way resolves in root); a final
   * symlink is not followed, its ultimate target comes as `linkTarget`. NotFound when absent.
   */
  async pathStat(root: string, path: string, opts: { signal?: AbortSignal } = {}): Promise<RootPathStat> {
    checkArg(path);
    const out = await this.#run(['path-stat', root, path], `stat ${path}`, { signal: opts.signal });
    const [name = '', size = '0', mode = '0', mtime = '0', linkTarget = ''] = out.replace(/\n$/, '').split('\t');
    return { name, size: Number(size), mode: parseInt(mode, 8), mtime: Number(mtime), linkTarget };
  }

  /**
   * A tar of `path` inside `root` (chrooted), its entries named `name`, `name/child`, ... (`name`
   * "" for a directory's children only). `whiteouts` turns overlay whiteouts and opaque dirs into
   * the layer format's `.wh.` entries (commit). The stream errors (NotFound, Internal) when the
   * helper fails; destroying it stops the helper.
   */
  tarOut(root: string, path: string, name: string, opts: { whiteouts?: boolean } = {}): Readable {
    checkArg(path);
    checkArg(name);
    const child = spawn(this.#path, ['tar-out', ...(opts.whiteouts ? ['--whiteouts'] : []), root, path, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new PassThrough();
    const stderr = readAll(child.stderr!);
    child.stdout!.pipe(out, { end: false });
    const ended = new Promise<void>((r) => child.stdout!.once('end', r));
    void Promise.all([exitCodeOf(child), stderr, ended]).then(([code, err]) => {
      if (code === 0) out.end();
      else out.destroy(new EngineError(kindOfExit(code), `archive ${path}: ${helperMessage(err, code)}`));
    }, (err: unknown) => out.destroy(err as Error));
    out.once('close', () => { if (child.exitCode === null) child.kill('SIGTERM'); });
    return out;
  }

  /**
   * Extracts the tar `input` into directory `dir` inside `root` (chrooted; `dir` may be reached
   * through symlinks) under the layer extractor's policy (image/layer-apply.ts): more bytes of
   * regular files or more entries than the caps (64 GiB, 1,000,000 by default), an absolute name
   * and entries climbing out of `dir` are refused (InvalidParameter, dockerd's wording where it
   * has one), device nodes are skipped. `allowDevices` and `allowAbsolute` (an absolute name is
   * taken relative to `dir`) widen it to what dockerd does for `docker cp` and ADD. Also refused:
   * a `dir` that is not a directory and, with `noOverwriteDirNonDir`, a directory replaced by a
   * non-directory or the reverse. `owner` overrides the archive's uid:gid.
   */
  async tarIn(root: string, dir: string, input: Readable, opts: TarInOptions = {}): Promise<void> {
    checkArg(dir);
    const args = ['tar-in', ...(opts.noOverwriteDirNonDir ? ['--no-overwrite-dir-nondir'] : []),
      ...(opts.owner ? ['--owner', `${opts.owner.uid}:${opts.owner.gid}`] : []),
      ...(opts.allowDevices ? ['--allow-devices'] : []), ...(opts.allowAbsolute ? ['--allow-absolute'] : []),
      ...(opts.maxBytes !== undefined ? ['--max-bytes', String(opts.maxBytes)] : []),
      ...(opts.maxEntries !== undefined ? ['--max-entries', String(opts.maxEntries)] : []), root, dir];
    const child = spawn(this.#path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    ignoreWriteErrors(child.stdin);
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      input.pipe(child.stdin!);
      // A failing input (a refused decompression bomb, a dropped upload) is the reason, not the
      // helper's death by our SIGTERM.
      let inputError: unknown;
      input.once('error', (err) => { inputError ??= err; child.kill('SIGTERM'); });
      const [code, stderr] = await Promise.all([exitCodeOf(child), readAll(child.stderr!)]);
      input.unpipe(child.stdin!);
      if (opts.signal?.aborted) throw new EngineError('Canceled', `extract into ${dir}: canceled`);
      if (inputError !== undefined) throw inputError;
      if (code !== 0) throw new EngineError(kindOfExit(code), helperMessage(stderr, code));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Every entry below `root` (chrooted, no symlink followed): directories, opaque dirs, whiteouts, others. */
  async walk(root: string, opts: { signal?: AbortSignal } = {}): Promise<{ kind: 'dir' | 'opaque' | 'whiteout' | 'other'; path: string }[]> {
    const out = await this.#run(['walk', root], `walk ${root}`, { signal: opts.signal });
    const kinds = { d: 'dir', o: 'opaque', w: 'whiteout', f: 'other' } as const;
    return out.split('\0').filter((r) => r.length > 2).map((r) => ({ kind: kinds[r[0] as keyof typeof kinds] ?? 'other', path: r.slice(2) }));
  }

  /** Runs a short helper command; maps its exit code to an error kind. */
  async #run(args: string[], what: string, opts: { input?: string; signal?: AbortSignal | undefined }): Promise<string> {
    // Not lib/exec's execFile: a helper that fails before reading all its input makes the stdin
    // write fail with EPIPE, which must not become an uncaught error.
    const child = spawn(this.#path, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    ignoreWriteErrors(child.stdin);
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      child.stdin?.end(opts.input);
      const [code, stdout, stderr] = await Promise.all([exitCodeOf(child), readAll(child.stdout!), readAll(child.stderr!)]);
      if (opts.signal?.aborted) throw new EngineError('Canceled', `${what}: canceled`);
      if (code === 0) return stdout;
      throw new EngineError(kindOfExit(code), `${what}: ${helperMessage(stderr, code)}`);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Waits until `ready` yields `token` (the helper's "I'm set" line). If the stream ends first, the
   * helper failed: its exit code and stderr become the error (`mapExit` may pick a specific one).
   */
  #awaitReady(
    child: ChildProcess,
    ready: Readable,
    token: string,
    exited: Promise<number>,
    what: string,
    signal?: AbortSignal,
    mapExit?: (code: number, message: string) => EngineError | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let seen = '';
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        child.kill('SIGTERM');
        reject(new EngineError('Canceled', `${what}: canceled`));
      };
      const finish = () => {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
      };
      const onData = (b: Buffer) => {
        seen += b.toString();
        if (!settled && seen.startsWith(token)) {
          finish();
          ready.off('data', onData);
          resolve();
        }
      };
      ready.on('data', onData);
      exited.catch((err: unknown) => {
        if (settled) return;
        finish();
        reject(err); // could not even start (e.g. no such helper binary)
      });
      ready.once('end', () => {
        if (settled) return;
        // stderr is read only now: before "ready" it holds nothing but the helper's own error.
        void Promise.all([exited, readAll(child.stderr!)]).then(
          ([code, stderr]) => {
            if (settled) return;
            finish();
            const message = helperMessage(stderr, code);
            reject(mapExit?.(code, message) ?? new EngineError(kindOfExit(code), `${what}: ${message}`));
          },
          (err: unknown) => {
            if (settled) return;
            finish();
            reject(err);
          },
        );
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * Where the helper binary is: $BERTH_HELPER, else native/build/berth-helper of this checkout (from
 * src/lib/ under tsx, or from dist/ when bundled), else /usr/local/lib/berth/berth-helper.
 */
export function defaultHelperPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_HELPER) return env.BERTH_HELPER;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../native/build/berth-helper', '../native/build/berth-helper']) {
    const candidate = join(here, rel);
    if (existsSync(candidate)) return candidate;
  }
  return '/usr/local/lib/berth/berth-helper';
}

/** Paths pass through argv: no NUL. (Options come before the root, which is always ours.) */
function checkArg(s: string): void {
  if (s.includes('\0')) throw new EngineError('InvalidParameter', `invalid path ${JSON.stringify(s)}`);
}

function kindOfExit(code: number): ErrorKind {
  if (code === EXIT.notFound) return 'NotFound';
  if (code === EXIT.unsafe) return 'InvalidParameter';
  return 'Internal';
}

/** The helper's stderr without its "berth-helper: " prefix. */
function helperMessage(stderr: string, code: number): string {
  const text = stderr.trim().replace(/^berth-helper: /gm, '');
  return text || `helper exited with code ${code}`;
}

/** Exit code of a child (128+n for signal n); rejects Internal when it could not be started. */
function exitCodeOf(child: ChildProcess): Promise<number> {
  const p = new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new EngineError('Internal', `berth-helper: ${err.message}`, { cause: err })));
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 + signalNumber(sig) : 1)));
  });
  p.catch(() => {}); // callers may never await it; the rejection must not crash berthd
  return p;
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.once('close', () => resolve(Buffer.concat(chunks).toString()));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

/** Writes into a helper that has exited fail with EPIPE; that is not berthd's crash to have. */
function ignoreWriteErrors(stream: Writable | Readable | null | undefined): void {
  stream?.on('error', () => {});
}

/** ref/unref a child and its stdio sockets, so a long-held lock does not keep the event loop alive. */
function setRef(child: ChildProcess, on: boolean): void {
  if (on) child.ref();
  else child.unref();
  for (const s of child.stdio) {
    const sock = s as Partial<Socket> | null;
    if (on) sock?.ref?.();
    else sock?.unref?.();
  }
}
