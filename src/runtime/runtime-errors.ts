import { readFile } from 'node:fs/promises';
import { EngineError, type ErrorKind } from '../lib/errors.ts';

/**
 * What crun and runc say when they fail, turned into what dockerd says. The runtimes write their
 * errors in several forms: JSON log lines (`--log-format json`), logfmt (runc's default:
 * `time=... level=error msg="..."`), crun's terminal lines (a colour code and a timestamp before
 * the text) and plain text. None of these forms reaches a user: only the message does, in Docker's
 * words where users and scripts match on them (the docker CLI picks its exit status from them).
 */

// eslint-disable-next-line no-control-regex -- crun colours its lines on a terminal
const ANSI = /\x1b\[[0-9;]*m/g;
/** crun's terminal form: "2024-05-01T10:00:00.123456Z: message". */
const CRUN_STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z: /;
const LOGFMT_MSG = /(?:^|\s)msg="((?:[^"\\]|\\.)*)"/;

/** The message of one runtime output line, whatever its form; '' for a blank line. */
function lineMessage(raw: string): string {
  const line = raw.replace(ANSI, '').trim();
  if (line.startsWith('{')) {
    try {
      const j = JSON.parse(line) as { msg?: unknown };
      if (typeof j.msg === 'string') return j.msg;
    } catch { /* not JSON after all */ }
  }
  const m = LOGFMT_MSG.exec(line);
  if (m) {
    try { return JSON.parse(`"${m[1]}"`) as string; } catch { return m[1]!; }
  }
  return line.replace(CRUN_STAMP, '');
}

/** A runtime's `create` failed (under conmon); `runtimeMessage` is what it said, cleaned. */
export class RuntimeCreateError extends EngineError {
  constructor(readonly runtimeMessage: string) { super('Internal', runtimeMessage); }
}

/**
 * A runtime command (start, kill, pause, resume, update, ...) failed. The message names the
 * runtime and the command for logs; `runtimeMessage` is what the runtime said, cleaned, for
 * callers that word the error as dockerd does (withRuntimeCause).
 */
export class RuntimeCallError extends EngineError {
  constructor(kind: ErrorKind, runtime: string, readonly command: string, readonly runtimeMessage: string) {
    super(kind, `${runtime} ${command}: ${runtimeMessage}`);
  }
}

/**
 * dockerd's words for a runtime command that failed: `<context>: <what the runtime said>`, e.g.
 * "cannot pause container <id>: ...". Other errors pass through unchanged.
 */
export function withRuntimeCause(err: unknown, context: string): unknown {
  return err instanceof RuntimeCallError ? new EngineError(err.kind, `${context}: ${err.runtimeMessage}`, { cause: err }) : err;
}

/** The messages in a runtime's error output (any of its forms), joined with "; ". */
export function runtimeMessage(text: string): string {
  return text.split('\n').map(lineMessage).filter((l) => l !== '').join('; ');
}

/**
 * The error messages a runtime wrote to its `--log` file (`--log-format json`), in order;
 * empty when the file is missing or holds none.
 */
export async function readRuntimeLog(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { msg?: unknown; level?: unknown };
      if (typeof j.msg === 'string' && (j.level === undefined || j.level === 'error' || j.level === 'fatal')) out.push(j.msg);
    } catch {
      const msg = lineMessage(line);
      if (msg) out.push(msg);
    }
  }
  return out;
}

/**
 * runc's words for a process that could not be started, from either runtime's message:
 * `exec: "bash": executable file not found in $PATH`, `exec: "/x": stat /x: no such file or
 * directory`, `exec: "/etc": permission denied`. Null when the message is about something else.
 * `argv0` is the command as given (crun's messages do not always name it).
 */
export function processStartFailure(message: string, argv0: string): string | null {
  const runc = /exec: "(?:[^"\\]|\\.)*": .+$/.exec(message);
  if (runc) return runc[0];
  const notFound = /executable file `([^`]*)` not found/.exec(message);
  if (notFound) {
    const cmd = notFound[1]!;
    // runc looks a name up in $PATH but stats a path (Go's exec.LookPath).
    return cmd.includes('/') ? `exec: "${cmd}": stat ${cmd}: no such file or directory` : `exec: "${cmd}": executable file not found in $PATH`;
  }
  // crun opens the file to exec it: EACCES for a file without x, EPERM for a directory; runc
  // 1.1 reports both as EACCES.
  if (/open executable: (Permission denied|Operation not permitted)/.test(message)) return `exec: "${argv0}": permission denied`;
  return null;
}

/** A runtime message without the prefixes runc puts before it (they are added back in one form). */
function withoutRuncPrefixes(message: string): string {
  return message.replace(/^(?:\S+ create failed|exec failed): /, '').replace(/^unable to start container process: /, '');
}

/**
 * dockerd's error for a container whose task could not be created (start, run), as containerd's
 * runc shim words it; the process-start case always in runc's words, whichever runtime ran.
 */
export function createFailedMessage(runtime: string, message: string, argv0: string): string {
  const start = processStartFailure(message, argv0);
  const detail = start
    ? `runc create failed: unable to start container process: ${start}`
    : `${runtime} create failed: ${withoutRuncPrefixes(message)}`;
  return withExitHint(`failed to create task for container: failed to create shim task: OCI runtime create failed: ${detail}: unknown`);
}

/** dockerd's error for an exec whose process could not be started. */
export function execFailedMessage(message: string, argv0: string): string {
  const start = processStartFailure(message, argv0);
  const detail = start ? `unable to start container process: ${start}` : withoutRuncPrefixes(message);
  return `OCI runtime exec failed: exec failed: ${detail}: unknown`;
}

/**
 * What dockerd adds to some start failures: ENOTDIR gets a hint (a bind mount of a file onto a
 * directory or back); EISDIR gets "permission denied", which the docker CLI maps to exit 126.
 */
function withExitHint(message: string): string {
  if (/not a directory/i.test(message)) return `${message}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`;
  if (/is a directory/i.test(message)) return `${message}: permission denied`;
  return message;
}

/**
 * The exit code dockerd records for a container that could not be started (setExitCodeFromError):
 * 126 cannot be invoked, 127 not found (or a mount of the wrong type), 128 anything else.
 */
export function startFailureExitCode(message: string): number {
  const m = message.toLowerCase();
  if (m.includes('permission denied') || m.includes('is a directory')) return 126;
  if (m.includes('not a directory')) return 127;
  if (['executable file not found', 'no such file or directory', 'system cannot find the file specified', 'failed to run runc create/exec call'].some((s) => m.includes(s))) return 127;
  return 128;
}

/** Whether dockerd answers a start failure as the client's fault (startInvalidConfigError: 400). */
export function isInvalidStartConfig(message: string): boolean {
  return startFailureExitCode(message) !== 128;
}
