/**
 * `berth volume create|ls|inspect|rm|prune`, as docker CLI 28 (cli/command/volume): the same
 * request bodies, output and messages.
 */
import type * as api from '../../../api/types/index.ts';
import { checkFilter } from '../../args/checks.ts';
import { humanSize } from '../../../lib/units.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { renderList } from '../../format/formatter.ts';
import { type CliContext, ExitError, type Flags, bool, list, str } from '../../context.ts';
import { filtersParam } from '../container/ps.ts';
import { FlagError } from '../../args/spec.ts';
import { errorText } from '../container/run.ts';
import { inspectEach } from '../inspect-each.ts';
import { confirm, labelsFlag } from '../network/network.ts';
import { naturalCompare } from '../network/ls-format.ts';

const FORMAT_HELP = "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const volumeCreateSpec: CommandSpec = {
  name: 'volume create', usage: '[OPTIONS] [VOLUME]', description: 'Create a volume',
  flags: [
    { name: 'driver', short: 'd', kind: 'string', default: 'local', description: 'Specify volume driver name' },
    { name: 'label', kind: 'string[]', valueName: 'list', description: 'Set metadata for a volume' },
    { name: 'name', kind: 'string', description: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', kind: 'string[]', valueName: 'map', description: 'Set driver specific options (default map[])' },
  ],
  maxArgs: 1,
};

/** The POST /volumes/create body docker CLI 28 sends. Throws FlagError or Error. */
export function volumeCreateBody(f: Flags, args: string[]): api.VolumeCreateRequest {
  let name = str(f, 'name') ?? '';
  if (args.length === 1) {
    if (name !== '') throw new Error('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
    name = args[0]!;
  }
  const opts: Record<string, string> = {};
  for (const o of list(f, 'opt')) { const i = o.indexOf('='); opts[i < 0 ? o : o.slice(0, i)] = i < 0 ? '' : o.slice(i + 1); }
  return { Driver: str(f, 'driver') ?? 'local', DriverOpts: opts, Name: name, Labels: labelsFlag(list(f, 'label')) };
}

export async function volumeCreate(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  let body: api.VolumeCreateRequest;
  try { body = volumeCreateBody(f, args); } catch (err) {
    if (err instanceof FlagError) throw err;
    throw new ExitError(1, (err as Error).message);
  }
  const v = await ctx.client.json<api.Volume>('POST', '/volumes/create', { body });
  ctx.stdout.write(`${v.Name}\n`);
}

export const volumeLsSpec: CommandSpec = {
  name: 'volume ls', usage: '[OPTIONS]', description: 'List volumes', aliases: ['volume ls', 'volume list'],
  flags: [
    { name: 'cluster', kind: 'bool', description: 'Display only cluster volumes, and use cluster volume list formatting', hidden: true },
    { name: 'filter', short: 'f', kind: 'string[]', valueName: 'filter', description: 'Provide filter values (e.g. "dangling=true")', check: checkFilter },
    { name: 'format', kind: 'string', description: FORMAT_HELP },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only display volume names' },
  ],
  maxArgs: 0,
};

const VOLUME_HEADERS: Readonly<Record<string, string>> = {
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE',
  Availability: 'AVAILABILITY', Group: 'GROUP', Status: 'STATUS',
};

/** The object `--format` templates see for one volume (docker's volumeContext). */
export function volumeRow(v: api.Volume) {
  const labels = v.Labels ?? {};
  return {
    Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint,
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A', Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Group: '', Availability: 'N/A', Status: 'N/A',
    Label: (name: string): string => labels[name] ?? '',
  };
}

/** docker's NewVolumeFormat: the default table, or `{{.Name}}` with -q. */
function volumeFormat(format: string | undefined, quiet: boolean): string {
  const f = format ?? '';
  if (f === '' || f === 'table') return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  return f;
}

export async function volumeLs(ctx: CliContext, f: Flags): Promise<void> {
  const filters = filtersParam(list(f, 'filter'));
  const r = await ctx.client.json<api.VolumeListResponse>('GET', '/volumes', { query: { filters } });
  const vols = [...(r?.Volumes ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
  ctx.stdout.write(renderList(vols, {
    format: volumeFormat(str(f, 'format'), bool(f, 'quiet')), defaultTable: volumeFormat(undefined, false), headers: VOLUME_HEADERS, toRow: volumeRow,
  }));
}

export const volumeInspectSpec: CommandSpec = {
  name: 'volume inspect', usage: '[OPTIONS] VOLUME [VOLUME...]', description: 'Display detailed information on one or more volumes',
  flags: [{ name: 'format', short: 'f', kind: 'string', description: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates" }],
  minArgs: 1,
};

/** docker's inspect.Inspect: the volumes found, then the errors of the others (status 1). */
export async function volumeInspect(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  await inspectEach(ctx, str(f, 'format') ?? '', args, (name) => ctx.client.json<unknown>('GET', `/volumes/${encodeURIComponent(name)}`));
}

export const volumeRmSpec: CommandSpec = {
  name: 'volume rm', usage: '[OPTIONS] VOLUME [VOLUME...]', description: 'Remove one or more volumes', aliases: ['volume rm', 'volume remove'],
  flags: [{ name: 'force', short: 'f', kind: 'bool', description: 'Force the removal of one or more volumes' }],
  minArgs: 1,
};

export async function volumeRm(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const errors: string[] = [];
  for (const name of args) {
    try {
      await ctx.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: bool(f, 'force') ? '1' : undefined } });
      ctx.stdout.write(`${name}\n`);
    } catch (err) { errors.push(errorText(err)); }
  }
  // docker 28 returns errors.Join of them all: one per line, status 1.
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}

export const volumePruneSpec: CommandSpec = {
  name: 'volume prune', usage: '[OPTIONS]', description: 'Remove unused local volumes',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Remove all unused volumes, not just anonymous ones' },
    { name: 'filter', kind: 'string[]', valueName: 'filter', description: 'Provide filter values (e.g. "label=<label>")', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
};

export async function volumePrune(ctx: CliContext, f: Flags): Promise<void> {
  const given = list(f, 'filter');
  const all = bool(f, 'all');
  if (all && given.some((x) => x.split('=')[0] === 'all')) throw new ExitError(1, 'conflicting options: cannot specify both --all and --filter all=1');
  const filters = filtersParam(all ? [...given, 'all=true'] : given, '--filter');
  const warning = all
    ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?'
    : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
  // A "no" is a cancellation: docker exits 0 without a message.
  if (!bool(f, 'force') && !(await confirm(ctx, warning))) return;
  const r = await ctx.client.json<api.VolumePruneResponse>('POST', '/volumes/prune', { query: { filters } });
  const deleted = r?.VolumesDeleted ?? [];
  if (deleted.length) ctx.stdout.write(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(deleted.length ? r.SpaceReclaimed : 0)}\n`);
}
