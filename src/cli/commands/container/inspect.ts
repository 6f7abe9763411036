import { ApiError } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { GoTemplate } from '../../format/go-template.ts';
import { type CliContext, ExitError, type Flags, str, bool } from '../../context.ts';

export const inspectSpec: CommandSpec = {
  name: 'inspect', usage: '[OPTIONS] NAME|ID [NAME|ID...]', description: 'Return low-level information on Docker objects',
  flags: [
    { name: 'format', short: 'f', kind: 'string', description: 'Format output using a custom template' },
    { name: 'size', short: 's', kind: 'bool', description: 'Display total file sizes if the type is container' },
    { name: 'type', kind: 'string', description: 'Only inspect objects of the given type' },
  ],
  minArgs: 1,
};

export const containerInspectSpec: CommandSpec = {
  name: 'container inspect', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Display detailed information on one or more containers',
  flags: [
    inspectSpec.flags[0]!,
    { name: 'size', short: 's', kind: 'bool', description: 'Display total file sizes' },
  ],
  minArgs: 1,
};

export const imageInspectSpec: CommandSpec = {
  name: 'image inspect', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Display detailed information on one or more images',
  flags: [inspectSpec.flags[0]!],
  minArgs: 1,
};

const KINDS: Record<string, (ref: string) => string> = {
  container: (r) => `/containers/${encodeURIComponent(r)}/json`,
  image: (r) => `/images/${r}/json`,
};

/** docker inspect: each argument as the first type that knows it (or --type), printed as JSON or a template. */
export async function inspect(ctx: CliContext, f: Flags, args: string[], forceType?: string): Promise<void> {
  const type = forceType ?? str(f, 'type');
  if (type && !KINDS[type]) throw new ExitError(1, `"${type}" is not a valid value for --type`);
  const kinds = type ? [type] : ['container', 'image'];
  const format = str(f, 'format');
  const tmpl = format ? GoTemplate.parse(format) : undefined;
  const found: unknown[] = [];
  let failed = false;
  for (const ref of args) {
    let obj: unknown;
    for (const k of kinds) {
      try { obj = await ctx.client.json('GET', KINDS[k]!(ref), { query: { size: bool(f, 'size') } }); break; } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    if (obj === undefined) {
      failed = true;
      ctx.stderr.write(`Error: No such ${type ?? 'object'}: ${ref}\n`);
      continue;
    }
    if (tmpl) ctx.out(`${tmpl.execute(obj)}\n`);
    else found.push(obj);
  }
  if (!tmpl) ctx.out(`${JSON.stringify(found, null, 4)}\n`);
  if (failed) throw new ExitError(1);
}
