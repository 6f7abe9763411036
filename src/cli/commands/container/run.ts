import { writeFileSync } from 'node:fs';
import type * as api from '../../../api/types/index.ts';
import { pullImage } from '../image/registry.ts';
import { ApiError, readAll } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, str } from '../../context.ts';
import { attachContainer, checkTty, detachKeysOf, trackResize } from './attach-io.ts';
import { CREATE_FLAGS, createBody } from './run-flags.ts';

export const runSpec: CommandSpec = {
  name: 'run', usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Create and run a new container from an image',
  aliases: ['container run'], flags: CREATE_FLAGS, interspersed: false, minArgs: 1,
};
export const createSpec: CommandSpec = {
  name: 'create', usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Create a new container',
  aliases: ['container create'], flags: CREATE_FLAGS.filter((f) => !['detach', 'sig-proxy', 'detach-keys'].includes(f.name)), interspersed: false, minArgs: 1,
};

/**
 * A failed create or start, as docker 28's `run` reports it (toStatusError): the message with the
 * program's name and a pointer to the help, exit 127 when the command was not found, 126 when it
 * cannot be run, 125 for anything else the daemon refused. The words are matched as docker does.
 */
function runFailure(ctx: CliContext, err: unknown): ExitError {
  const message = errorText(err);
  const status = /executable file not found|no such file or directory|system cannot find the file specified/.test(message) ? 127
    : /permission denied|is a directory/.test(message) ? 126 : 125;
  return new ExitError(status, `${ctx.prog}: ${message}\n\nRun '${ctx.prog} run --help' for more information`);
}

async function createContainer(ctx: CliContext, f: Flags, body: api.ContainerCreateBody): Promise<string> {
  const name = str(f, 'name');
  const policy = str(f, 'pull') ?? 'missing';
  if (!['missing', 'always', 'never'].includes(policy)) throw new ExitError(125, `invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
  const platform = str(f, 'platform');
  const doCreate = () => ctx.client.json<api.ContainerCreateResponse>('POST', '/containers/create', { body, query: { name, platform } });
  // Progress goes to stderr, as docker's does, so a container's output on stdout stays clean.
  const pull = () => pullImage(ctx, body.Image!, { ...(platform ? { platform } : {}), out: ctx.stderr });
  if (policy === 'always') await pull();
  let r: api.ContainerCreateResponse;
  try {
    r = await doCreate();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && /No such image/.test(err.message) && policy === 'missing') {
      ctx.stderr.write(`Unable to find image '${withDefaultTag(body.Image!)}' locally\n`);
      await pull();
      r = await doCreate();
    } else throw err;
  }
  for (const w of r.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
  const cidfile = str(f, 'cidfile');
  if (cidfile) writeFileSync(cidfile, r.Id, { flag: 'wx' });
  return r.Id;
}

/** docker 28 sends the terminal's size with a tty container, so its first screen fits. */
function withConsoleSize(ctx: CliContext, body: api.ContainerCreateBody): api.ContainerCreateBody {
  if (!body.Tty || !ctx.stdout.isTTY || !ctx.stdout.rows || !ctx.stdout.columns) return body;
  return { ...body, HostConfig: { ...body.HostConfig, ConsoleSize: [ctx.stdout.rows, ctx.stdout.columns] } };
}

export async function create(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [image, ...cmd] = args;
  const id = await createContainer(ctx, f, withConsoleSize(ctx, createBody(f, image!, cmd)));
  ctx.stdout.write(`${id}\n`);
}

export async function run(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [image, ...cmd] = args;
  const body = withConsoleSize(ctx, createBody(f, image!, cmd));
  const detach = bool(f, 'detach');
  // Before anything is created, as docker checks.
  if (!detach) checkTty(ctx.stdin, !!body.AttachStdin, !!body.Tty);
  const detachKeys = detachKeysOf(str(f, 'detach-keys'));
  const id = await createContainer(ctx, f, body).catch((err) => { throw runFailure(ctx, err); });
  const client = ctx.client;
  if (detach) {
    await client.call('POST', `/containers/${id}/start`).catch((err) => { throw runFailure(ctx, err); });
    ctx.stdout.write(`${id}\n`);
    return;
  }
  const tty = !!body.Tty;
  const attached = body.AttachStdin || body.AttachStdout || body.AttachStderr
    ? await attachContainer(ctx, id, { tty, stdin: !!body.AttachStdin, stdout: !!body.AttachStdout, stderr: !!body.AttachStderr, ...(detachKeys ? { detachKeys } : {}) })
    : undefined;
  // Sent before start, as docker does: the daemon answers the headers at once (API W11).
  const waitRes = await client.raw('POST', `/containers/${id}/wait`, { query: { condition: bool(f, 'rm') ? 'removed' : 'next-exit' } });
  const waitBody = readAll(waitRes).then((b) => JSON.parse(b.toString()) as api.ContainerWaitResponse);
  waitBody.catch(() => undefined);
  try {
    await client.call('POST', `/containers/${id}/start`);
  } catch (err) {
    waitRes.destroy();
    if (bool(f, 'rm')) await client.call('DELETE', `/containers/${id}`, { query: { force: true } }).catch(() => undefined);
    throw runFailure(ctx, err);
  }
  const stopResize = tty ? trackResize(ctx, client, `/containers/${id}/resize`) : () => undefined;
  const stopSignals = !tty && f['sig-proxy'] !== false ? proxySignals(ctx, id) : () => undefined;
  if (attached) await attached.done;
  stopResize();
  // After a detach (ctrl-p ctrl-q) the container still runs: no exit status to wait for.
  if (attached?.detached()) {
    stopSignals();
    waitRes.destroy();
    return;
  }
  const result = await waitBody;
  stopSignals();
  if (result.Error?.Message) ctx.stderr.write(`${result.Error.Message}\n`);
  if (result.StatusCode !== 0) throw new ExitError(result.StatusCode);
}

function proxySignals(ctx: CliContext, id: string): () => void {
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = sigs.map((s) => {
    const h = () => void ctx.client.call('POST', `/containers/${id}/kill`, { query: { signal: s } }).catch(() => undefined);
    process.on(s, h);
    return [s, h] as const;
  });
  return () => { for (const [s, h] of handlers) process.off(s, h); };
}

/** `busybox` → `busybox:latest`, as docker prints references without a tag or digest. */
function withDefaultTag(ref: string): string {
  const name = ref.slice(ref.lastIndexOf('/') + 1);
  return name.includes(':') || name.includes('@') ? ref : `${ref}:latest`;
}

export function errorText(err: unknown): string {
  return err instanceof ApiError ? `Error response from daemon: ${err.message}` : err instanceof Error ? err.message : String(err);
}
