import type { CliContext } from '../context.ts';
import { ExitError } from '../context.ts';
import { GoTemplate } from '../format/go-template.ts';
import { errorText } from './container/run.ts';

/**
 * docker's inspect.Inspect for one object type: every ref that answers is printed (a JSON array
 * indented by 4, `-f json` compact, or the template once per object); the errors of the others
 * follow on stderr, one per line, and the status is 1. A bad template exits 64 before any request.
 */
export async function inspectEach(ctx: CliContext, format: string, refs: readonly string[], get: (ref: string) => Promise<unknown>): Promise<void> {
  let tmpl: GoTemplate | undefined;
  if (format !== '' && format !== 'json') {
    try { tmpl = GoTemplate.parse(format); } catch (err) { throw new ExitError(64, (err as Error).message); }
  }
  const found: unknown[] = [];
  const errors: string[] = [];
  let out = '';
  for (const ref of refs) {
    try {
      const obj = await get(ref);
      if (tmpl) out += `${tmpl.execute(obj)}\n`; else found.push(obj);
    } catch (err) { errors.push(errorText(err)); }
  }
  if (tmpl) ctx.stdout.write(out === '' ? '\n' : out);
  else if (found.length === 0) ctx.stdout.write('[]\n');
  else ctx.stdout.write(`${format === 'json' ? JSON.stringify(found) : JSON.stringify(found, null, 4)}\n`);
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}
