import type * as api from '../../api/types/index.ts';
import type { ExecStreams } from '../containers/exec.ts';

/** Exec sessions in running containers: created, then started once (attached or detached). */
export interface ExecEngine {
  /** Returns the exec's ID. NotFound (container), Conflict (not running, paused, restarting). */
  create(containerRef: string, body: api.ExecCreateBody): string;
  /** NotFound for an unknown (or forgotten) exec. */
  inspect(id: string): ExecDetails;
  resize(id: string, rows: number, cols: number): void;
  /** Starts the process; the streams are the caller's to drain. Conflict when already started. */
  start(id: string, opts: { detach: boolean; consoleSize?: [number, number] | null }): Promise<ExecStreams>;
}

/** An exec session as it stands: what was asked for at create, and its process once started. */
export interface ExecDetails {
  id: string;
  containerId: string;
  /** The command, program first. */
  cmd: string[];
  user: string;
  privileged: boolean;
  /** A terminal was asked for at create. */
  tty: boolean;
  /** As given at create ("" when none: the default applies). */
  detachKeys: string;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  running: boolean;
  /** Null until the process ends. */
  exitCode: number | null;
  /** 0 until known. */
  pid: number;
}
