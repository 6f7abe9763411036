import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Result of a finished child process. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a host tool and collects its output. Host edges (crun, conmon, ip, nft, mount) take an ExecFn
 * as a dependency so their output parsing is unit-testable; this is the real one.
 */
export type ExecFn = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export const execFile: ExecFn = (file, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    // A child that exits before reading all its input must not crash us with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.on('close', (code, sig) =>
      resolve({
        exitCode: code ?? (sig ? 128 + signalNumber(sig) : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });

/** The number of a signal name ("SIGKILL" → 9); 0 when unknown. */
export const signalNumber = (name: string): number =>
  (constants.signals as Record<string, number>)[name] ?? 0;
