import type * as api from '../../../api/types/index.ts';
import { demux } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, str } from '../../context.ts';
import { parseDurationNs } from '../../../lib/units.ts';

export const logsSpec: CommandSpec = {
  name: 'logs', usage: '[OPTIONS] CONTAINER', description: 'Fetch the logs of a container', aliases: ['container logs'],
  flags: [
    { name: 'details', kind: 'bool', description: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', kind: 'bool', description: 'Follow log output' },
    { name: 'since', kind: 'string', description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', kind: 'string', description: 'Number of lines to show from the end of the logs', default: 'all' },
    { name: 'timestamps', short: 't', kind: 'bool', description: 'Show timestamps' },
    { name: 'until', kind: 'string', description: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  minArgs: 1, maxArgs: 1,
};

/** Docker's --since/--until: a relative duration ("42m"), a unix time, or an RFC 3339 date. */
export function timeArg(v: string | undefined, flag: 'since' | 'until' = 'since', now = Date.now()): string | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  if (/^\d[\dhmsu\u00b5\u03bcn.]*[hmsn]$/.test(v)) {
    const ns = BigInt(now) * 1_000_000n - BigInt(parseDurationNs(v));
    return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ExitError(1, `invalid value for "${flag}": failed to parse value as time or duration: "${v}"`);
  return (t / 1000).toFixed(9);
}

export async function logs(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const c = await ctx.client.json<api.ContainerInspect>('GET', `/containers/${args[0]}/json`);
  const res = await ctx.client.raw('GET', `/containers/${c.Id}/logs`, {
    query: { stdout: true, stderr: true, follow: bool(f, 'follow'), timestamps: bool(f, 'timestamps'), details: bool(f, 'details'),
      tail: str(f, 'tail') ?? 'all', since: timeArg(str(f, 'since')), until: timeArg(str(f, 'until'), 'until') },
  });
  const onData = c.Config.Tty ? (b: Buffer) => ctx.stdout.write(b) : demux((s, d) => (s === 2 ? ctx.stderr : ctx.stdout).write(d));
  await new Promise<void>((resolve, reject) => {
    res.on('data', onData);
    res.on('end', resolve);
    res.on('error', reject);
  });
}
