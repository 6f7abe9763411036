import type { CommandSpec } from '../../args/parse.ts';
import { checkFilter } from '../../args/checks.ts';
import { type CliContext, type Flags, bool, list } from '../../context.ts';
import { humanSize } from '../../../lib/units.ts';
import { filtersParam } from '../container/ps.ts';
import { confirm } from '../network/network.ts';

export const builderPruneSpec: CommandSpec = {
  name: 'builder prune', usage: '[OPTIONS]', description: 'Remove build cache',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Remove all unused build cache, not just dangling ones' },
    { name: 'filter', kind: 'string[]', description: 'Provide filter values (e.g. "until=24h")', valueName: 'filter', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
    { name: 'reserved-space', kind: 'string', description: 'Amount of disk space to always allow for cache (accepted, not applied by berth)', valueName: 'bytes', aliases: ['keep-storage'] },
  ],
  maxArgs: 0,
};

/** `berth builder prune`: POST /build/prune, with docker's prompt and report. */
export async function builderPrune(ctx: CliContext, f: Flags): Promise<void> {
  const all = bool(f, 'all');
  const warning = all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
  if (!bool(f, 'force') && !(await confirm(ctx, `${warning} Are you sure you want to continue?`))) return;
  const r = await ctx.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
    query: { all: all || undefined, filters: filtersParam(list(f, 'filter')) },
  });
  if (r.CachesDeleted?.length) ctx.stdout.write(`Deleted build cache objects:\n${r.CachesDeleted.join('\n')}\n\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
}
