import type * as api from '../../api/types/index.ts';
import type { ExecStreams } from '../containers/exec.ts';

/** Exec sessions in running containers: created, then started once (attached or detached). */
export interface ExecEngine {
  /** Returns the exec's ID. NotFound (container), Conflict (not running, paused, restarting). */
  create(containerRef: string, body: api.ExecCreateBody): string;
  inspect(id: string): api.ExecInspect;
  resize(id: string, rows: number, cols: number): void;
  /** Starts the process; the streams are the caller's to drain. Conflict when already started. */
  start(id: string, opts: { detach: boolean; consoleSize?: [number, number] | null }): Promise<ExecStreams>;
}
