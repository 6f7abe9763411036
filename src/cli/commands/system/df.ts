import type * as api from '../../../api/types/index.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, type Flags, bool, str } from '../../context.ts';
import { GoTemplate } from '../../format/go-template.ts';
import { renderTable } from '../../format/formatter.ts';
import { humanSize, timeAgo } from '../../../lib/units.ts';

export const dfSpec: CommandSpec = {
  name: 'system df', usage: '[OPTIONS]', description: 'Show berth disk usage',
  flags: [
    { name: 'format', kind: 'string', description: 'Format output using a custom template' },
    { name: 'verbose', short: 'v', kind: 'bool', description: 'Show detailed information on space usage' },
  ],
  maxArgs: 0,
};

interface Row { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }

/** "1.2MB (40%)" as docker's disk-usage formatter prints it; no percentage of a zero total. */
function withPercent(reclaimable: number, total: number): string {
  return total > 0 ? `${humanSize(reclaimable, 4)} (${Math.floor((reclaimable * 100) / total)}%)` : humanSize(reclaimable, 4);
}

/** The summary rows: docker's four, then container logs and orphaned files (berth's own). */
export function summaryRows(df: api.SystemDfResponse): Row[] {
  const activeImages = df.Images.filter((i) => i.Containers > 0);
  const usedImageBytes = activeImages.reduce((a, i) => a + (i.Size === -1 || i.SharedSize === -1 ? 0 : i.Size - i.SharedSize), 0);
  const ctrSize = df.Containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrIdle = df.Containers.filter((c) => c.State !== 'running' && c.State !== 'paused' && c.State !== 'restarting').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volSize = df.Volumes.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volIdle = df.Volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const rows: Row[] = [
    { Type: 'Images', TotalCount: String(df.Images.length), Active: String(activeImages.length), Size: humanSize(df.LayersSize, 4), Reclaimable: withPercent(df.LayersSize - usedImageBytes, df.LayersSize) },
    { Type: 'Containers', TotalCount: String(df.Containers.length), Active: String(df.Containers.length - df.Containers.filter((c) => c.State === 'exited' || c.State === 'created' || c.State === 'dead').length), Size: humanSize(ctrSize, 4), Reclaimable: withPercent(ctrIdle, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(df.Volumes.length), Active: String(df.Volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize, 4), Reclaimable: withPercent(volIdle, volSize) },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
  if (df.BerthLogs) rows.push({ Type: 'Container Logs', TotalCount: String(df.BerthLogs.Count), Active: String(df.BerthLogs.Count), Size: humanSize(df.BerthLogs.Size, 4), Reclaimable: '0B' });
  if (df.BerthOrphans) rows.push({ Type: 'Orphaned Data', TotalCount: String(df.BerthOrphans.Count), Active: '0', Size: humanSize(df.BerthOrphans.Size, 4), Reclaimable: withPercent(df.BerthOrphans.Size, df.BerthOrphans.Size) });
  return rows;
}

export async function df(ctx: CliContext, f: Flags): Promise<void> {
  const d = await ctx.client.json<api.SystemDfResponse>('GET', '/system/df');
  const format = str(f, 'format');
  const rows = summaryRows(d);
  if (format && !format.startsWith('table')) {
    const t = GoTemplate.parse(format === 'json' ? '{{json .}}' : format);
    for (const r of rows) ctx.stdout.write(`${t.execute(r)}\n`);
    return;
  }
  if (!bool(f, 'verbose')) {
    ctx.stdout.write(renderTable([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])]));
    if ((d.BerthOrphans?.Count ?? 0) > 0) ctx.stdout.write(`\n${humanSize(d.BerthOrphans!.Size, 4)} in files no object refers to: \`berth system gc\` removes them.\n`);
    return;
  }
  ctx.stdout.write('Images space usage:\n\n');
  ctx.stdout.write(renderTable([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
    ...d.Images.flatMap((i) => (i.RepoTags.length ? i.RepoTags : ['<none>:<none>']).map((tag) => {
      const at = tag.lastIndexOf(':');
      return [tag.slice(0, at), tag.slice(at + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), timeAgo(new Date(i.Created * 1000)),
        humanSize(i.Size, 4), humanSize(i.SharedSize, 4), humanSize(i.Size - i.SharedSize, 4), String(i.Containers)];
    }))]));
  ctx.stdout.write('\nContainers space usage:\n\n');
  ctx.stdout.write(renderTable([['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
    ...d.Containers.map((c) => [c.Id.slice(0, 12), c.Image, JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command),
      String(c.Mounts.filter((m) => m.Type === 'volume').length), humanSize(c.SizeRw ?? 0, 4), timeAgo(new Date(c.Created * 1000)), c.Status, (c.Names[0] ?? '').replace(/^\//, '')])]));
  ctx.stdout.write('\nLocal Volumes space usage:\n\n');
  ctx.stdout.write(renderTable([['VOLUME NAME', 'LINKS', 'SIZE'], ...d.Volumes.map((v) => [v.Name, v.UsageData ? String(v.UsageData.RefCount) : 'N/A', v.UsageData ? humanSize(v.UsageData.Size, 4) : 'N/A'])]));
  ctx.stdout.write('\nBuild cache usage: 0B\n');
  if (d.BerthLogs) ctx.stdout.write(`\nContainer logs: ${d.BerthLogs.Count} files, ${humanSize(d.BerthLogs.Size, 4)}\n`);
  if (d.BerthOrphans) ctx.stdout.write(`Orphaned data: ${d.BerthOrphans.Count} items, ${humanSize(d.BerthOrphans.Size, 4)} (\`berth system gc\` removes them)\n`);
}
