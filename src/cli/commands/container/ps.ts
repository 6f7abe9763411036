import type * as api from '../../../api/types/index.ts';
import { checkFilter } from '../../args/checks.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { renderList } from '../../format/formatter.ts';
import { type CliContext, type Flags, bool, int, list, str } from '../../context.ts';
import { humanDuration, humanSize } from '../../../lib/units.ts';
import { formatPsPorts } from '../../format/ps-ports.ts';
import { FlagError } from '../../args/spec.ts';

export const psSpec: CommandSpec = {
  name: 'ps', usage: '[OPTIONS]', description: 'List containers', aliases: ['container ls', 'container list', 'container ps'],
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', kind: 'string[]', description: "Filter output based on conditions provided", check: checkFilter },
    { name: 'format', kind: 'string', description: 'Format output using a custom template' },
    { name: 'last', short: 'n', kind: 'int', description: 'Show n last created containers (includes all states)', default: -1 },
    { name: 'latest', short: 'l', kind: 'bool', description: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', kind: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only display container IDs' },
    { name: 'size', short: 's', kind: 'bool', description: 'Display total file sizes' },
  ],
  maxArgs: 0,
};

/**
 * Turns repeated `--filter k=v` into the Go client's JSON shape, as docker's FilterOpt.Set does:
 * an empty value is ignored, the name is trimmed and lowercased, the value trimmed.
 * @throws FlagError `invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)`
 */
export function filtersParam(filters: string[], flagName = '-f, --filter'): string | undefined {
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    if (f === '') continue;
    const i = f.indexOf('=');
    if (i < 0) throw new FlagError(`invalid argument ${JSON.stringify(f)} for ${JSON.stringify(flagName)} flag: bad format of filter (expected name=value)`);
    (out[f.slice(0, i).trim().toLowerCase()] ??= {})[f.slice(i + 1).trim()] = true;
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** The row object `--format` templates see, with docker's field names. */
export function psRow(c: api.ContainerSummary, noTrunc: boolean, now = Date.now()) {
  const cmd = noTrunc ? c.Command : c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command;
  return {
    ID: noTrunc ? c.Id : c.Id.slice(0, 12),
    Image: c.Image,
    Command: JSON.stringify(cmd),
    CreatedAt: new Date(c.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(now - c.Created * 1000)} ago`,
    // docker's DisplayablePorts: "0.0.0.0:8080->80/tcp", runs collapsed, unpublished "80/tcp".
    Ports: formatPsPorts(c.Ports ?? []),
    State: c.State,
    Status: c.Status,
    Size: c.SizeRw !== undefined ? `${humanSize(c.SizeRw)} (virtual ${humanSize(c.SizeRootFs ?? 0)})` : '0B',
    Names: c.Names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: c.Mounts.map((m) => m.Name ?? m.Source).join(','),
    Networks: Object.keys(c.NetworkSettings.Networks).join(','),
    Label: (k: string) => c.Labels[k] ?? '',
  };
}

const HEADERS = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS' };

export async function ps(ctx: CliContext, f: Flags, _args: string[]): Promise<void> {
  const last = bool(f, 'latest') ? 1 : int(f, 'last') ?? -1;
  const list_ = await ctx.client.json<api.ContainerSummary[]>('GET', '/containers/json', {
    query: { all: bool(f, 'all'), ...(last > 0 ? { limit: last } : {}), size: bool(f, 'size'), filters: filtersParam(list(f, 'filter')) },
  });
  if (bool(f, 'quiet')) {
    ctx.out(list_.map((c) => `${bool(f, 'no-trunc') ? c.Id : c.Id.slice(0, 12)}\n`).join(''));
    return;
  }
  const defaultTable = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${bool(f, 'size') ? '\t{{.Size}}' : ''}`;
  ctx.out(renderList(list_.map((c) => psRow(c, bool(f, 'no-trunc'))), { format: str(f, 'format'), defaultTable, headers: HEADERS }));
}
