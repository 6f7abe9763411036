import type { CommandSpec } from '../../args/parse.ts';
import { checkFilter } from '../../args/checks.ts';
import { GoTemplate } from '../../format/go-template.ts';
import { GO_STRUCT } from '../../format/template/go-fmt.ts';
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

/** An event as GET /events sends it (dockerd's events.Message; status, id and from only for containers and images). */
interface Ev {
  status?: string; id?: string; from?: string;
  Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string; time: number; timeNano: number;
}

/**
 * What `--format` templates see: docker's events.Message with its Go field names (`.ID`, `.Status`,
 * `.From`, `.Scope`, `.Time`, `.TimeNano`), empty strings where the daemon left a field out, as a
 * Go struct would; `{{json .}}` prints the wire form in docker's field order.
 */
export function eventTemplateContext(ev: Ev): Record<string, unknown> {
  const ctx = {
    Status: ev.status ?? '', ID: ev.id ?? '', From: ev.from ?? '', Type: ev.Type, Action: ev.Action,
    Actor: ev.Actor, Scope: ev.scope ?? '', Time: ev.time, TimeNano: ev.timeNano,
  };
  const wire = {
    ...(ev.status ? { status: ev.status } : {}), ...(ev.id ? { id: ev.id } : {}), ...(ev.from ? { from: ev.from } : {}),
    Type: ev.Type, Action: ev.Action, Actor: ev.Actor, scope: ev.scope ?? '', time: ev.time, timeNano: ev.timeNano, [GO_STRUCT]: true,
  };
  Object.defineProperty(ctx, 'toJSON', { value: () => wire });
  return ctx;
}

/** docker events: one line an event, `2024-01-01T00:00:00.000000000Z container start <id> (image=..., name=...)`. */
export async function events(ctx: CliContext, f: Flags): Promise<void> {
  const res = await ctx.client.raw('GET', '/events', {
    query: { filters: filtersParam(list(f, 'filter')), since: timeArg(str(f, 'since')), until: timeArg(str(f, 'until'), 'until') },
  });
  const format = str(f, 'format');
  // docker: `--format json` is `{{json .}}`.
  const tmpl = format ? GoTemplate.parse(format === 'json' ? '{{json .}}' : format) : undefined;
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
        if (tmpl) ctx.stdout.write(`${tmpl.execute(eventTemplateContext(ev))}\n`);
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
