import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, str } from '../../context.ts';

export const exportSpec: CommandSpec = {
  name: 'export', usage: '[OPTIONS] CONTAINER', description: "Export a container's filesystem as a tar archive",
  aliases: ['container export'], flags: [{ name: 'output', short: 'o', kind: 'string', description: 'Write to a file, instead of STDOUT' }],
  minArgs: 1, maxArgs: 1,
};

/** `berth export`: the container's filesystem as tar, to -o FILE or a non-terminal stdout. */
export async function exportContainer(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const out = str(f, 'output');
  if (!out && ctx.stdout.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await ctx.client.raw('GET', `/containers/${args[0]}/export`);
  if (!out) {
    await pipeline(res, ctx.stdout);
    return;
  }
  const tmp = `${out}.tmp-${process.pid}`;
  await pipeline(res, createWriteStream(tmp));
  await rename(tmp, out);
}
