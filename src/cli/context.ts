import type { EngineClient } from '../client/client.ts';

/** What every command gets: the API client and the process's streams. */
export interface CliContext {
  client: EngineClient;
  /** process.stdout, for streaming output (set up on first use). */
  stdout: NodeJS.WriteStream;
  /**
   * Prints a block of output at once, without setting up the stdout stream (see stdout.ts): the
   * cheaper way for commands that print their result at the end. Keeps order with `stdout`.
   */
  out(text: string): void;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** The name users typed ("berth"), for messages. */
  prog: string;
}

/** Thrown to end the CLI with a given exit status (the container's, 125 for daemon errors, ...). */
export class ExitError extends Error {
  constructor(readonly status: number, message = '') { super(message); }
}

export type Flags = Record<string, unknown>;
export const str = (f: Flags, k: string): string | undefined => (f[k] === undefined || f[k] === '' ? undefined : String(f[k]));
export const bool = (f: Flags, k: string): boolean => f[k] === true;
export const list = (f: Flags, k: string): string[] => (Array.isArray(f[k]) ? (f[k] as string[]) : []);
export const int = (f: Flags, k: string): number | undefined => (f[k] === undefined ? undefined : Number(f[k]));
