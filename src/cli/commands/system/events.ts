import type { CommandSpec } from '../../args/parse.ts';
import { checkFilter } from '../../args/checks.ts';
import { GoTemplate } from '../../format/go-template.ts';
import { type CliContext, type Flags, list, str } from '../../context.ts';
import { filtersParam } from '../container/ps.ts';
import { timeArg } from '../container/logs.ts';

export const eventsSpec: CommandSpec = {
  name: 'events', usage: '[OPTIONS]', description: 'Get real time events from the server', aliases: ['system events'],
  flags: [
    { name: 'filter', short: 'f', kind: 'string[]', description: 'Filter output based on conditions provided', check: checkFilter },
    { name: 'format', kind: 'string', description: 'Format output using a custom template' },
    { name: 'since', kind: 'string', description: 'Show all events created since timestamp' },
    { name: 'until', kind: 'string', description: 'Stream events until this timestamp' },
  ],
  maxArgs: 0,
};

interface Ev { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number }

/** docker events: one line an event, `2024-01-01T00:00:00.000000000Z container start <id> (image=..., name=...)`. */
export async function events(ctx: CliContext, f: Flags): Promise<void> {
  const res = await ctx.client.raw('GET', '/events', {
    query: { filters: filtersParam(list(f, 'filter')), since: timeArg(str(f, 'since')), until: timeArg(str(f, 'until'), 'until') },
  });
  const format = str(f, 'format');
  const tmpl = format && format !== 'json' ? GoTemplate.parse(format) : undefined;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    res.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as Ev;
        if (format === 'json') ctx.stdout.write(`${line}\n`);
        else if (tmpl) ctx.stdout.write(`${tmpl.execute(ev)}\n`);
        else {
          const ns = BigInt(ev.timeNano);
          const ts = `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
          const attrs = Object.entries(ev.Actor.Attributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ');
          ctx.stdout.write(`${ts} ${ev.Type} ${ev.Action} ${ev.Actor.ID}${attrs ? ` (${attrs})` : ''}\n`);
        }
      }
    });
    res.on('end', resolve);
    res.on('error', reject);
  });
}
