import { createReadStream, createWriteStream, existsSync, renameSync } from 'node:fs';
import { checkFilter } from '../../args/checks.ts';
import { pipeline } from 'node:stream/promises';
import type * as api from '../../../api/types/index.ts';
import { ApiError, readAll } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { renderList } from '../../format/formatter.ts';
import { JsonProgressPrinter } from '../../format/json-progress.ts';
import { type CliContext, ExitError, type Flags, bool, list, str } from '../../context.ts';
import { humanDuration, humanSize, rfc3339Local } from '../../../lib/units.ts';
import { filtersParam } from '../container/ps.ts';

export const imagesSpec: CommandSpec = {
  name: 'images', usage: '[OPTIONS] [REPOSITORY[:TAG]]', description: 'List images', aliases: ['image ls', 'image list'],
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Show all images (default hides intermediate images)' },
    { name: 'digests', kind: 'bool', description: 'Show digests' },
    { name: 'filter', short: 'f', kind: 'string[]', description: 'Filter output based on conditions provided', check: checkFilter },
    { name: 'format', kind: 'string', description: 'Format output using a custom template' },
    { name: 'no-trunc', kind: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only show image IDs' },
  ],
  maxArgs: 1,
};

const IMAGE_HEADERS = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS' };

export async function images(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const filters = [...list(f, 'filter'), ...(args[0] ? [`reference=${args[0]}`] : [])];
  const imgs = await ctx.client.json<api.ImageSummary[]>('GET', '/images/json', { query: { all: bool(f, 'all'), digests: bool(f, 'digests'), filters: filtersParam(filters) } });
  const noTrunc = bool(f, 'no-trunc');
  const id = (i: api.ImageSummary) => (noTrunc ? i.Id : i.Id.replace(/^sha256:/, '').slice(0, 12));
  if (bool(f, 'quiet')) { ctx.out([...new Set(imgs.map(id))].map((x) => `${x}\n`).join('')); return; }
  const rows = imgs.flatMap((i) => {
    const tags = i.RepoTags?.length ? i.RepoTags : ['<none>:<none>'];
    return tags.map((t) => {
      const colon = t.lastIndexOf(':');
      const repo = t.slice(0, colon);
      const digest = i.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
      return {
        ID: id(i), Repository: repo, Tag: t.slice(colon + 1), Digest: digest,
        CreatedSince: `${humanDuration(Date.now() - i.Created * 1000)} ago`,
        CreatedAt: new Date(i.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
        Size: humanSize(i.Size), Containers: i.Containers < 0 ? 'N/A' : String(i.Containers),
      };
    });
  });
  const table = `table {{.Repository}}\t{{.Tag}}${bool(f, 'digests') ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
  ctx.out(renderList(rows, { format: str(f, 'format'), defaultTable: table, headers: IMAGE_HEADERS }));
}

export const rmiSpec: CommandSpec = {
  name: 'rmi', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Remove one or more images', aliases: ['image rm', 'image remove'],
  flags: [
    { name: 'force', short: 'f', kind: 'bool', description: 'Force removal of the image' },
    { name: 'no-prune', kind: 'bool', description: 'Do not delete untagged parents' },
  ],
  minArgs: 1,
};

export async function rmi(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  let failed = false;
  for (const ref of args) {
    try {
      const entries = await ctx.client.json<api.ImageDeleteEntry[]>('DELETE', `/images/${ref}`, { query: { force: bool(f, 'force'), noprune: bool(f, 'no-prune') } });
      for (const e of entries) ctx.stdout.write('Untagged' in e ? `Untagged: ${e.Untagged}\n` : `Deleted: ${e.Deleted}\n`);
    } catch (err) {
      failed = true;
      ctx.stderr.write(`Error response from daemon: ${err instanceof ApiError ? err.message : String(err)}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

export const tagSpec: CommandSpec = { name: 'tag', usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', aliases: ['image tag'], flags: [], minArgs: 2, maxArgs: 2 };
export async function tag(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const target = args[1]!;
  const at = target.lastIndexOf(':');
  const slash = target.lastIndexOf('/');
  const [repo, t] = at > slash ? [target.slice(0, at), target.slice(at + 1)] : [target, 'latest'];
  await ctx.client.call('POST', `/images/${args[0]}/tag`, { query: { repo, tag: t } });
}

export const saveSpec: CommandSpec = { name: 'save', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Save one or more images to a tar archive (streamed to STDOUT by default)', aliases: ['image save'],
  flags: [{ name: 'output', short: 'o', kind: 'string', description: 'Write to a file, instead of STDOUT' }, { name: 'platform', kind: 'string', description: 'Save only the given platform variant' }], minArgs: 1 };
export async function save(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const out = str(f, 'output');
  if (!out && ctx.stdout.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await ctx.client.raw('GET', '/images/get', { query: { names: args } });
  if (out) {
    const tmp = `${out}.tmp-${process.pid}`;
    await pipeline(res, createWriteStream(tmp));
    renameSync(tmp, out);
  } else await pipeline(res, ctx.stdout);
}

/** Prints a JSON progress stream; an errorDetail line ends the command with its message. */
export async function printProgress(ctx: CliContext, res: NodeJS.ReadableStream, quiet = false): Promise<api.JsonMessage[]> {
  const text = (await readAll(res)).toString();
  const msgs = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as api.JsonMessage);
  const printer = new JsonProgressPrinter(ctx.stdout, Boolean(ctx.stdout.isTTY));
  for (const m of msgs) {
    if (m.errorDetail || m.error) throw new ExitError(1, m.errorDetail?.message ?? m.error ?? 'error');
    if (!quiet) printer.print(m);
  }
  return msgs;
}

export const loadSpec: CommandSpec = { name: 'load', usage: '[OPTIONS]', description: 'Load an image from a tar archive or STDIN', aliases: ['image load'],
  flags: [{ name: 'input', short: 'i', kind: 'string', description: 'Read from tar archive file, instead of STDIN' }, { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress the load output' }], maxArgs: 0 };
export async function load(ctx: CliContext, f: Flags): Promise<void> {
  const input = str(f, 'input');
  if (input && !existsSync(input)) throw new ExitError(1, `open ${input}: no such file or directory`);
  if (!input && ctx.stdin.isTTY) throw new ExitError(1, 'requested load from stdin, but stdin is empty');
  const res = await ctx.client.raw('POST', '/images/load', { query: { quiet: bool(f, 'quiet') }, rawBody: input ? createReadStream(input) : ctx.stdin, headers: { 'Content-Type': 'application/x-tar' } });
  await printProgress(ctx, res);
}

export const importSpec: CommandSpec = { name: 'import', usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', description: 'Import the contents from a tarball to create a filesystem image', aliases: ['image import'],
  flags: [
    { name: 'change', short: 'c', kind: 'string[]', description: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', description: 'Set commit message for imported image' },
    { name: 'platform', kind: 'string', description: 'Set platform if server is multi-platform capable' },
  ], minArgs: 1, maxArgs: 2 };
export async function importImage(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const [src, ref] = args as [string, string | undefined];
  if (/^https?:\/\//.test(src)) throw new ExitError(1, 'importing from a URL is not supported by berth: download the file and import it');
  if (src !== '-' && !existsSync(src)) throw new ExitError(1, `open ${src}: no such file or directory`);
  let repo: string | undefined, tagName: string | undefined;
  if (ref) { const at = ref.lastIndexOf(':'); const slash = ref.lastIndexOf('/'); [repo, tagName] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, undefined]; }
  const res = await ctx.client.raw('POST', '/images/create', {
    query: { fromSrc: '-', repo, tag: tagName, changes: list(f, 'change'), message: str(f, 'message') },
    rawBody: src === '-' ? ctx.stdin : createReadStream(src), headers: { 'Content-Type': 'application/x-tar' },
  });
  const msgs = await printProgress(ctx, res, true);
  const last = msgs.reverse().find((m) => m.status);
  if (last?.status) ctx.stdout.write(`${last.status}\n`);
}

export const historySpec: CommandSpec = { name: 'history', usage: '[OPTIONS] IMAGE', description: 'Show the history of an image', aliases: ['image history'],
  flags: [
    { name: 'format', kind: 'string', description: 'Format output using a custom template' },
    { name: 'human', short: 'H', kind: 'bool', description: 'Print sizes and dates in human readable format', default: true },
    { name: 'no-trunc', kind: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only show image IDs' },
  ], minArgs: 1, maxArgs: 1 };
export async function history(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const h = await ctx.client.json<api.ImageHistoryEntry[]>('GET', `/images/${args[0]}/history`);
  ctx.stdout.write(renderHistory(h, { human: f['human'] !== false, noTrunc: bool(f, 'no-trunc'), quiet: bool(f, 'quiet'), format: str(f, 'format') }));
}

/** Before this (2000-01-01) a creation time is not shown as an age: docker prints N/A. */
const HISTORY_EPOCH = Date.UTC(2000, 0, 1) / 1000;

/**
 * `history` as docker CLI 28 prints it: with `--human=false` the CREATED AT column (RFC 3339, local
 * time) and sizes in bytes; `-q` prints IDs unless a custom format is given; `--no-trunc` keeps IDs
 * and CREATED BY whole.
 */
export function renderHistory(h: readonly api.ImageHistoryEntry[], o: { human: boolean; noTrunc: boolean; quiet: boolean; format?: string | undefined }, now = Date.now()): string {
  const id = (x: string) => (o.noTrunc ? x : x.replace(/^[^:]*:/, '').slice(0, 12));
  const rows = h.map((e) => {
    const by = e.CreatedBy.replaceAll('\t', ' ');
    const createdAt = rfc3339Local(e.Created * 1000);
    return {
      ID: id(e.Id),
      CreatedSince: !o.human ? createdAt : e.Created <= HISTORY_EPOCH ? 'N/A' : `${humanDuration(now - e.Created * 1000)} ago`,
      CreatedAt: createdAt,
      CreatedBy: o.noTrunc || [...by].length <= 45 ? by : `${[...by].slice(0, 44).join('')}…`,
      Size: o.human ? humanSize(e.Size) : String(e.Size),
      Comment: e.Comment,
    };
  });
  const table = !o.format || o.format === 'table';
  const format = !table ? o.format : o.quiet ? '{{.ID}}' : o.human
    ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
    : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  return renderList(rows, { format, defaultTable: format!,
    headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' } });
}

export const imagePruneSpec: CommandSpec = { name: 'image prune', usage: '[OPTIONS]', description: 'Remove unused images',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', kind: 'string[]', description: 'Provide filter values (e.g. "until=<timestamp>")', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
  ], maxArgs: 0 };
export async function imagePrune(ctx: CliContext, f: Flags): Promise<void> {
  if (!bool(f, 'force')) {
    ctx.stdout.write(bool(f, 'all') ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ' : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    const answer = await new Promise<string>((r) => { ctx.stdin.once('data', (b: Buffer) => r(b.toString())); ctx.stdin.once('end', () => r('')); ctx.stdin.resume(); });
    ctx.stdin.pause();
    if (!/^y(es)?$/i.test(answer.trim())) return;
  }
  // docker always says which: dangling=true unless -a.
  const filters = [...list(f, 'filter'), `dangling=${!bool(f, 'all')}`];
  const r = await ctx.client.json<{ ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: filtersParam(filters) } });
  if (r.ImagesDeleted?.length) {
    ctx.stdout.write('Deleted Images:\n');
    for (const e of r.ImagesDeleted) ctx.stdout.write('Untagged' in e ? `untagged: ${e.Untagged}\n` : `deleted: ${e.Deleted}\n`);
    ctx.stdout.write('\n');
  }
  ctx.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
}
