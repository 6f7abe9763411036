import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { demux, type EngineClient } from '../../../client/client.ts';
import { DetachScanner, parseDetachKeys } from '../../../lib/detach-keys.ts';
import { ExitError, type CliContext } from '../../context.ts';
import { configPath } from '../../registry/credentials.ts';

/** What docker's CLI prints (to stderr, exit 1) when `attach` or `exec -it` ends by the detach keys. */
export const DETACHED_MESSAGE = 'read escape sequence';

/**
 * docker's CheckTty: a terminal in the container with stdin attached needs a terminal here,
 * refused before anything is created (exit 1, docker 28's words).
 */
export function checkTty(stdin: { readonly isTTY?: boolean }, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
}

/**
 * The detach keys to use: the flag's, else the client config's `detachKeys` ($DOCKER_CONFIG/
 * config.json, as docker reads it), else undefined (the daemon's default, ctrl-p ctrl-q).
 */
export function detachKeysOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  try {
    const keys = (JSON.parse(readFileSync(configPath(env), 'utf8')) as { detachKeys?: unknown }).detachKeys;
    return typeof keys === 'string' && keys !== '' ? keys : undefined;
  } catch {
    return undefined; // no config file, or not JSON: docker's defaults
  }
}

export interface AttachIoOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

/**
 * Hijacks POST /containers/{id}/attach and relays the terminal: raw mode and resizes with a tty,
 * demultiplexed stdout/stderr without one, stdin half-closed at EOF so the container sees it.
 * Resolves when the daemon ends the stream (container exit or detach).
 */
export async function attachContainer(ctx: CliContext, id: string, o: AttachIoOptions): Promise<{ done: Promise<void>; detached: () => boolean }> {
  const socket = await ctx.client.hijack(`/containers/${id}/attach`, {
    query: { stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}) },
  });
  return relay(ctx, socket, { ...o, detachKeys: o.detachKeys ?? 'ctrl-p,ctrl-q' });
}

/**
 * Pumps a hijacked stream. `detached` tells whether it ended because the user typed the detach
 * keys (the container still runs) rather than because the output ended: the CLI watches its own
 * stdin for them, as docker's does, since the daemon's hang-up looks the same either way.
 */
export function relay(ctx: CliContext, socket: Duplex, o: { tty: boolean; stdin: boolean; detachKeys?: string }): { done: Promise<void>; detached: () => boolean } {
  let detached = false;
  const restore = o.tty && o.stdin && ctx.stdin.isTTY ? enterRaw(ctx.stdin) : () => undefined;
  if (o.tty) socket.on('data', (b: Buffer) => ctx.stdout.write(b));
  else socket.on('data', demux((stream, data) => (stream === 2 ? ctx.stderr : ctx.stdout).write(data)));
  if (o.stdin) {
    // Only a terminal has detach keys (docker's CLI and dockerd agree): piped stdin is data.
    if (o.tty && o.detachKeys) {
      // Bytes still go to the daemon unchanged (it acts on the keys); the scanner only watches.
      const scanner = new DetachScanner(parseDetachKeys(o.detachKeys), () => { detached = true; });
      ctx.stdin.on('data', (b: Buffer) => scanner.write(b));
      scanner.resume();
    }
    // pipe() keeps to the socket's pace: megabytes of stdin are not all buffered in memory.
    ctx.stdin.pipe(socket, { end: false });
    ctx.stdin.on('end', () => socket.end());
  }
  const done = new Promise<void>((resolve) => {
    // stdin is set up only when it is relayed: creating it costs every `run`/`exec` a few ms.
    const finish = () => { restore(); if (o.stdin) ctx.stdin.pause(); resolve(); };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
  });
  return { done, detached: () => detached };
}

function enterRaw(stdin: NodeJS.ReadStream): () => void {
  stdin.setRawMode(true);
  return () => { try { stdin.setRawMode(false); } catch { /* stdin gone */ } };
}

/** Sends the terminal size now and on every SIGWINCH; returns an unsubscribe function. */
export function trackResize(ctx: CliContext, client: EngineClient, path: string): () => void {
  if (!ctx.stdout.isTTY) return () => undefined;
  const send = () => void client.call('POST', path, { query: { h: ctx.stdout.rows, w: ctx.stdout.columns } }).catch(() => undefined);
  send();
  process.on('SIGWINCH', send);
  return () => process.off('SIGWINCH', send);
}
