import type * as api from '../../../api/types/index.ts';
import type { CommandSpec } from '../../args/parse.ts';
import type { CliContext, Flags } from '../../context.ts';

export const diffSpec: CommandSpec = {
  name: 'diff', usage: 'CONTAINER', description: "Inspect changes to files or directories on a container's filesystem",
  aliases: ['container diff'], flags: [], minArgs: 1, maxArgs: 1,
};

/** `berth diff`: "A /path", "C /path", "D /path", one per line. */
export async function diff(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const changes = await ctx.client.json<api.ContainerChange[] | null>('GET', `/containers/${args[0]}/changes`);
  const letter = ['C', 'A', 'D'] as const;
  ctx.stdout.write((changes ?? []).map((c) => `${letter[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
}
