import type { CommandSpec } from '../../args/parse.ts';
import { tabwriter } from '../../format/tabwriter.ts';
import type { CliContext, Flags } from '../../context.ts';

export const topSpec: CommandSpec = {
  name: 'top', usage: 'CONTAINER [ps OPTIONS]', description: 'Display the running processes of a container', aliases: ['container top'],
  flags: [], interspersed: false, minArgs: 1,
};

export async function top(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const [container, ...psArgs] = args;
  const r = await ctx.client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${container}/top`, {
    query: psArgs.length ? { ps_args: psArgs.join(' ') } : {},
  });
  ctx.stdout.write(tabwriter([r.Titles, ...r.Processes]));
}
