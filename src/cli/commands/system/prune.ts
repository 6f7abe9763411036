import type * as api from '../../../api/types/index.ts';
import { checkFilter } from '../../args/checks.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, list } from '../../context.ts';
import { humanSize } from '../../../lib/units.ts';
import { filtersParam } from '../container/ps.ts';
import { confirm } from '../network/network.ts';
import { naturalCompare } from '../network/ls-format.ts';

export const containerPruneSpec: CommandSpec = {
  name: 'container prune', usage: '[OPTIONS]', description: 'Remove all stopped containers',
  flags: [
    { name: 'filter', kind: 'string[]', description: 'Provide filter values (e.g. "until=<timestamp>")', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
};

export async function containerPrune(ctx: CliContext, f: Flags): Promise<void> {
  if (!bool(f, 'force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
  const space = await pruneContainers(ctx, list(f, 'filter'));
  ctx.stdout.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
}

async function pruneContainers(ctx: CliContext, filters: string[]): Promise<number> {
  const r = await ctx.client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: filtersParam(filters) } });
  if (r.ContainersDeleted?.length) ctx.stdout.write(`Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n\n`);
  return r.SpaceReclaimed;
}

export const systemPruneSpec: CommandSpec = {
  name: 'system prune', usage: '[OPTIONS]', description: 'Remove unused data',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Remove all unused images not just dangling ones' },
    { name: 'filter', kind: 'string[]', description: 'Provide filter values (e.g. "label=<key>=<value>")', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
    { name: 'volumes', kind: 'bool', description: 'Prune anonymous volumes' },
  ],
  maxArgs: 0,
};

/**
 * docker system prune (CLI 28): containers, networks, (volumes), images, then the build cache, each
 * with the same filters, with docker's prompt and output.
 */
export async function systemPrune(ctx: CliContext, f: Flags): Promise<void> {
  const all = bool(f, 'all');
  const volumes = bool(f, 'volumes');
  const filters = list(f, 'filter');
  const filterParam = filtersParam(filters, '--filter');
  // Volumes have no creation-time filter; docker refuses before asking anything.
  if (volumes && filters.some((x) => x.split('=')[0]!.trim().toLowerCase() === 'until')) throw new ExitError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
  if (!bool(f, 'force') && !(await confirm(ctx, systemPruneWarning(all, volumes, filters)))) return;
  let space = await pruneContainers(ctx, filters);
  const nets = await ctx.client.json<api.NetworkPruneResponse>('POST', '/networks/prune', { query: { filters: filterParam } });
  if (nets.NetworksDeleted?.length) ctx.stdout.write(`Deleted Networks:\n${nets.NetworksDeleted.join('\n')}\n\n`);
  if (volumes) {
    const v = await ctx.client.json<api.VolumePruneResponse>('POST', '/volumes/prune', { query: { filters: filterParam } });
    if (v.VolumesDeleted?.length) {
      ctx.stdout.write(`Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`);
      space += v.SpaceReclaimed;
    }
  }
  const imgFilters = [...filters, `dangling=${!all}`];
  const img = await ctx.client.json<{ ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: filtersParam(imgFilters) } });
  if (img.ImagesDeleted?.length) {
    ctx.stdout.write('Deleted Images:\n');
    for (const e of img.ImagesDeleted) ctx.stdout.write('Untagged' in e ? `untagged: ${e.Untagged}\n` : `deleted: ${e.Deleted}\n`);
    ctx.stdout.write('\n');
    space += img.SpaceReclaimed;
  }
  const cache = await ctx.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query: { all: all || undefined, filters: filterParam } });
  if (cache.CachesDeleted?.length) {
    ctx.stdout.write(`Deleted build cache objects:\n${cache.CachesDeleted.join('\n')}\n\n`);
    space += cache.SpaceReclaimed;
  }
  ctx.stdout.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
}

/** docker's confirmation text: what goes, then the label/until filters it applies, sorted. */
export function systemPruneWarning(all: boolean, volumes: boolean, filters: readonly string[]): string {
  const shown = filters.filter((x) => ['label', 'label!', 'until'].includes(x.split('=')[0]!.trim().toLowerCase())).sort(naturalCompare);
  return [
    'WARNING! This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
    all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    all ? '  - all build cache' : '  - unused build cache',
    ...(shown.length ? ['', '  Items to be pruned will be filtered with:', ...shown.map((x) => `  - ${x}`)] : []),
    '',
    'Are you sure you want to continue?',
  ].join('\n');
}

export const gcSpec: CommandSpec = {
  name: 'system gc', usage: '[OPTIONS]',
  description: 'Remove files in the data root that no container, image or volume refers to',
  flags: [{ name: 'dry-run', kind: 'bool', description: 'Only list what would be removed' }],
  maxArgs: 0,
};

/** berth's own: reconcile the data root against the database and report what was freed. */
export async function gc(ctx: CliContext, f: Flags): Promise<void> {
  const dry = bool(f, 'dry-run');
  const r = await ctx.client.json<api.GcResponse>('POST', '/system/gc', { query: { 'dry-run': dry ? '1' : undefined } });
  const shown = dry ? r.Found : r.Removed;
  if (shown.length === 0) ctx.stdout.write('Nothing to collect: every file in the data root belongs to a container, image or volume.\n');
  for (const o of shown) ctx.stdout.write(`${dry ? 'would remove' : 'removed'} ${o.Kind} ${o.Path} (${humanSize(o.Size, 4)})\n`);
  for (const x of r.Failed) ctx.stderr.write(`could not remove ${x.Path}: ${x.Error}\n`);
  ctx.stdout.write(`Total ${dry ? 'reclaimable' : 'reclaimed'} space: ${humanSize(dry ? r.Found.reduce((a, o) => a + o.Size, 0) : r.SpaceReclaimed, 4)}\n`);
  if (r.Failed.length) throw new ExitError(1, '');
}
