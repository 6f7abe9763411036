import type * as api from '../../../api/types/index.ts';
import { ApiError, readAll } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, int, str } from '../../context.ts';
import { DETACHED_MESSAGE, attachContainer, checkTty, detachKeysOf, trackResize } from './attach-io.ts';

/** Runs `op` for each argument, printing the argument on success and docker's error otherwise. */
async function forEach(ctx: CliContext, args: string[], op: (ref: string) => Promise<void>, print = true): Promise<void> {
  let failed = false;
  for (const ref of args) {
    try {
      await op(ref);
      if (print) ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      failed = true;
      ctx.stderr.write(`Error response from daemon: ${err instanceof ApiError ? err.message : String(err)}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

const timeoutFlags = [
  { name: 'timeout', short: 't', kind: 'int' as const, description: 'Seconds to wait before killing the container', aliases: ['time'] },
  { name: 'signal', short: 's', kind: 'string' as const, description: 'Signal to send to the container' },
];

export const stopSpec: CommandSpec = { name: 'stop', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers', aliases: ['container stop'], flags: timeoutFlags, minArgs: 1 };
export const stop = (ctx: CliContext, f: Flags, args: string[]) =>
  forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/stop`, { query: { t: int(f, 'timeout'), signal: str(f, 'signal') } }).then(() => undefined));

export const restartSpec: CommandSpec = { name: 'restart', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Restart one or more containers', aliases: ['container restart'], flags: timeoutFlags, minArgs: 1 };
export const restart = (ctx: CliContext, f: Flags, args: string[]) =>
  forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/restart`, { query: { t: int(f, 'timeout'), signal: str(f, 'signal') } }).then(() => undefined));

export const killSpec: CommandSpec = { name: 'kill', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Kill one or more running containers', aliases: ['container kill'],
  flags: [{ name: 'signal', short: 's', kind: 'string', description: 'Signal to send to the container' }], minArgs: 1 };
export const kill = (ctx: CliContext, f: Flags, args: string[]) =>
  forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/kill`, { query: { signal: str(f, 'signal') } }).then(() => undefined));

export const rmSpec: CommandSpec = { name: 'rm', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', aliases: ['container rm', 'container remove'],
  flags: [
    { name: 'force', short: 'f', kind: 'bool', description: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', kind: 'bool', description: 'Remove the specified link' },
    { name: 'volumes', short: 'v', kind: 'bool', description: 'Remove anonymous volumes associated with the container' },
  ], minArgs: 1 };
export const rm = (ctx: CliContext, f: Flags, args: string[]) =>
  forEach(ctx, args, (r) => ctx.client.call('DELETE', `/containers/${r}`, { query: { force: bool(f, 'force'), v: bool(f, 'volumes') } }).then(() => undefined));

export const pauseSpec: CommandSpec = { name: 'pause', usage: 'CONTAINER [CONTAINER...]', description: 'Pause all processes within one or more containers', aliases: ['container pause'], flags: [], minArgs: 1 };
export const pause = (ctx: CliContext, _f: Flags, args: string[]) => forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/pause`).then(() => undefined));
export const unpauseSpec: CommandSpec = { name: 'unpause', usage: 'CONTAINER [CONTAINER...]', description: 'Unpause all processes within one or more containers', aliases: ['container unpause'], flags: [], minArgs: 1 };
export const unpause = (ctx: CliContext, _f: Flags, args: string[]) => forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/unpause`).then(() => undefined));

export const waitSpec: CommandSpec = { name: 'wait', usage: 'CONTAINER [CONTAINER...]', description: 'Block until one or more containers stop, then print their exit codes', aliases: ['container wait'], flags: [], minArgs: 1 };
export const wait = (ctx: CliContext, _f: Flags, args: string[]) => forEach(ctx, args, async (r) => {
  const res = await ctx.client.json<api.ContainerWaitResponse>('POST', `/containers/${r}/wait`);
  ctx.stdout.write(`${res.StatusCode}\n`);
}, false);

export const renameSpec: CommandSpec = { name: 'rename', usage: 'CONTAINER NEW_NAME', description: 'Rename a container', aliases: ['container rename'], flags: [], minArgs: 2, maxArgs: 2 };
export async function rename(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  await ctx.client.call('POST', `/containers/${args[0]}/rename`, { query: { name: args[1] } });
}

export const startSpec: CommandSpec = { name: 'start', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Start one or more stopped containers', aliases: ['container start'],
  flags: [
    { name: 'attach', short: 'a', kind: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', kind: 'bool', description: "Attach container's STDIN" },
    { name: 'detach-keys', kind: 'string', description: 'Override the key sequence for detaching a container' },
  ], minArgs: 1 };
export async function start(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  if (!bool(f, 'attach') && !bool(f, 'interactive')) {
    await forEach(ctx, args, (r) => ctx.client.call('POST', `/containers/${r}/start`).then(() => undefined));
    return;
  }
  if (args.length > 1) throw new ExitError(1, 'you cannot start and attach multiple containers at once');
  const c = await ctx.client.json<api.ContainerInspect>('GET', `/containers/${args[0]}/json`);
  const tty = !!c.Config.Tty;
  const stdin = bool(f, 'interactive') && !!c.Config.OpenStdin;
  await attachAndWait(ctx, c.Id, { tty, stdin, detachKeys: detachKeysOf(str(f, 'detach-keys')) }, () => ctx.client.call('POST', `/containers/${c.Id}/start`).then(() => undefined));
}

/**
 * Attaches, optionally starts (`start -a`), relays until the stream ends, and exits with the
 * container's status, unless the user detached: `start -a` then ends quietly, `attach` says
 * "read escape sequence" and exits 1, as docker's do. The wait is registered before anything can exit.
 */
async function attachAndWait(ctx: CliContext, id: string, o: { tty: boolean; stdin: boolean; detachKeys: string | undefined }, start?: () => Promise<void>): Promise<void> {
  const waitRes = await ctx.client.raw('POST', `/containers/${id}/wait`, { query: { condition: 'next-exit' } });
  const attached = await attachContainer(ctx, id, { tty: o.tty, stdin: o.stdin, stdout: true, stderr: true, ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}) });
  if (start) await start();
  const stopResize = o.tty ? trackResize(ctx, ctx.client, `/containers/${id}/resize`) : () => undefined;
  await attached.done;
  stopResize();
  if (attached.detached()) {
    waitRes.destroy();
    if (start) return;
    throw new ExitError(1, DETACHED_MESSAGE);
  }
  const result = JSON.parse((await readAll(waitRes)).toString()) as api.ContainerWaitResponse;
  if (result.StatusCode !== 0) throw new ExitError(result.StatusCode);
}

export const attachSpec: CommandSpec = { name: 'attach', usage: '[OPTIONS] CONTAINER', description: 'Attach local standard input, output, and error streams to a running container', aliases: ['container attach'],
  flags: [
    { name: 'detach-keys', kind: 'string', description: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', kind: 'bool', description: 'Do not attach STDIN' },
    { name: 'sig-proxy', kind: 'bool', description: 'Proxy all received signals to the process', default: true },
  ], minArgs: 1, maxArgs: 1 };
export async function attach(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const c = await ctx.client.json<api.ContainerInspect>('GET', `/containers/${args[0]}/json`);
  if (!c.State.Running) throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
  const tty = !!c.Config.Tty;
  checkTty(ctx.stdin, !bool(f, 'no-stdin'), tty);
  const stdin = !bool(f, 'no-stdin') && !!c.Config.OpenStdin;
  await attachAndWait(ctx, c.Id, { tty, stdin, detachKeys: detachKeysOf(str(f, 'detach-keys')) });
}
