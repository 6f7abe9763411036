import type * as api from '../../../api/types/index.ts';
import { checkEnv } from '../../args/checks.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, list, str } from '../../context.ts';
import { DETACHED_MESSAGE, checkTty, detachKeysOf, relay, trackResize } from './attach-io.ts';

export const execSpec: CommandSpec = {
  name: 'exec', usage: '[OPTIONS] CONTAINER COMMAND [ARG...]', description: 'Execute a command in a running container', aliases: ['container exec'],
  flags: [
    { name: 'detach', short: 'd', kind: 'bool', description: 'Detached mode: run command in the background' },
    { name: 'detach-keys', kind: 'string', description: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', kind: 'string[]', description: 'Set environment variables', check: checkEnv },
    { name: 'env-file', kind: 'string[]', description: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', kind: 'bool', description: 'Keep STDIN open even if not attached' },
    { name: 'privileged', kind: 'bool', description: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', kind: 'bool', description: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', kind: 'string', description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', kind: 'string', description: 'Working directory inside the container' },
  ],
  interspersed: false, minArgs: 2,
};

export async function exec(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [container, ...cmd] = args;
  const tty = bool(f, 'tty');
  const detach = bool(f, 'detach');
  const interactive = bool(f, 'interactive');
  if (!detach) checkTty(ctx.stdin, interactive, tty);
  const detachKeys = detachKeysOf(str(f, 'detach-keys'));
  const body: api.ExecCreateBody = {
    Cmd: cmd, Tty: tty, AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach,
    Env: list(f, 'env'), Privileged: bool(f, 'privileged'), ...(str(f, 'user') ? { User: str(f, 'user')! } : {}),
    ...(str(f, 'workdir') ? { WorkingDir: str(f, 'workdir')! } : {}), ...(detachKeys ? { DetachKeys: detachKeys } : {}),
    ...(tty && ctx.stdout.isTTY ? { ConsoleSize: [ctx.stdout.rows, ctx.stdout.columns] as [number, number] } : {}),
  };
  const { Id } = await ctx.client.json<{ Id: string }>('POST', `/containers/${container}/exec`, { body });
  if (detach) {
    await ctx.client.call('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: tty } });
    return;
  }
  const socket = await ctx.client.hijack(`/exec/${Id}/start`, { body: { Detach: false, Tty: tty, ...(body.ConsoleSize ? { ConsoleSize: body.ConsoleSize } : {}) } });
  const stopResize = tty ? trackResize(ctx, ctx.client, `/exec/${Id}/resize`) : () => undefined;
  const relayed = relay(ctx, socket, { tty, stdin: interactive, detachKeys: detachKeys ?? 'ctrl-p,ctrl-q' });
  await relayed.done;
  stopResize();
  if (relayed.detached()) throw new ExitError(1, DETACHED_MESSAGE);
  const info = await ctx.client.json<api.ExecInspect>('GET', `/exec/${Id}/json`);
  if (info.ExitCode !== null && info.ExitCode !== 0) throw new ExitError(info.ExitCode);
}
