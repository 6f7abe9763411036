import type { IncomingMessage } from 'node:http';
import { checkFilter } from '../../args/checks.ts';
import type * as api from '../../../api/types/index.ts';
import { jsonMessages } from '../../../client/client.ts';
import { familiarString, normalizedString, parseReference } from '../../../lib/reference.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, int, list, str } from '../../context.ts';
import { renderList } from '../../format/formatter.ts';
import { JsonProgressPrinter } from '../../format/json-progress.ts';
import { eraseAuth, HUB_SERVER, registryAuthHeader, serverKey, storeAuth } from '../../registry/credentials.ts';
import { filtersParam } from '../container/ps.ts';

/** Renders a progress stream to `out` (a terminal redraws layer lines); errorDetail becomes an ExitError. */
export async function showProgress(res: IncomingMessage, out: NodeJS.WriteStream | undefined): Promise<void> {
  const printer = out ? new JsonProgressPrinter(out, Boolean(out.isTTY)) : undefined;
  let failure: string | undefined;
  await jsonMessages(res, (m) => {
    if (failure !== undefined) return;
    if (m.errorDetail || m.error) { failure = m.errorDetail?.message ?? m.error ?? 'unknown error'; return; }
    printer?.print(m);
  });
  if (failure !== undefined) throw new ExitError(1, failure);
}

/** Splits a reference for the API: fromImage/name without tag, and the tag or digest. */
function splitRef(input: string): { name: string; tag?: string } {
  const ref = parseReference(input, { defaultTag: false });
  const name = familiarString({ domain: ref.domain, path: ref.path });
  return { name, ...(ref.digest ? { tag: ref.digest } : ref.tag ? { tag: ref.tag } : {}) };
}

export const pullSpec: CommandSpec = {
  name: 'pull', usage: '[OPTIONS] NAME[:TAG|@DIGEST]', description: 'Download an image from a registry', aliases: ['image pull'],
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', description: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', kind: 'bool', description: 'Skip image verification', default: true },
    { name: 'platform', kind: 'string', description: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress verbose output' },
  ],
  minArgs: 1, maxArgs: 1,
};

/** Pulls `image` with progress on `out` (none when undefined); shared by pull, run and create. */
export async function pullImage(ctx: CliContext, image: string, opts: { all?: boolean; platform?: string; out?: NodeJS.WriteStream }): Promise<void> {
  const { name, tag } = splitRef(image);
  const domain = parseReference(image, { defaultTag: false }).domain;
  const res = await ctx.client.raw('POST', '/images/create', {
    query: { fromImage: name, tag: opts.all ? undefined : tag ?? 'latest', platform: opts.platform },
    headers: registryAuthHeader(domain),
  });
  await showProgress(res, opts.out);
}

export async function pull(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const input = args[0]!;
  const all = bool(f, 'all-tags');
  const quiet = bool(f, 'quiet');
  const ref = parseReference(input, { defaultTag: false });
  if (all && (ref.tag || ref.digest)) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
  if (!all && !ref.tag && !ref.digest && !quiet) ctx.stdout.write('Using default tag: latest\n');
  await pullImage(ctx, input, { all, ...(str(f, 'platform') ? { platform: str(f, 'platform')! } : {}), ...(quiet ? {} : { out: ctx.stdout }) });
  ctx.stdout.write(`${all ? normalizedString({ domain: ref.domain, path: ref.path }) : normalizedString(parseReference(input))}\n`);
}

export const pushSpec: CommandSpec = {
  name: 'push', usage: '[OPTIONS] NAME[:TAG]', description: 'Upload an image to a registry', aliases: ['image push'],
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', description: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', kind: 'bool', description: 'Skip image signing', default: true },
    { name: 'platform', kind: 'string', description: 'Push a platform-specific manifest as a single-platform image to the registry' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress verbose output' },
  ],
  minArgs: 1, maxArgs: 1,
};

export async function push(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const ref = parseReference(args[0]!, { defaultTag: false });
  if (ref.digest) throw new ExitError(1, 'cannot push a digest reference');
  const all = bool(f, 'all-tags');
  const quiet = bool(f, 'quiet');
  if (all && ref.tag) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
  let tag = ref.tag;
  if (!all && !tag) {
    tag = 'latest';
    if (!quiet) ctx.stdout.write('Using default tag: latest\n');
  }
  const name = familiarString({ domain: ref.domain, path: ref.path });
  const res = await ctx.client.raw('POST', `/images/${name}/push`, { query: { tag }, headers: registryAuthHeader(ref.domain) });
  await showProgress(res, quiet ? undefined : ctx.stdout);
  if (quiet) ctx.stdout.write(`${normalizedString({ domain: ref.domain, path: ref.path, ...(tag ? { tag } : {}) })}\n`);
}

export const loginSpec: CommandSpec = {
  name: 'login', usage: '[OPTIONS] [SERVER]', description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  flags: [
    { name: 'password', short: 'p', kind: 'string', description: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', kind: 'bool', description: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', kind: 'string', description: 'Username' },
  ],
  maxArgs: 1,
};

/** One line typed at the terminal; with `hidden`, echo is off while it is typed. */
async function prompt(ctx: CliContext, question: string, hidden: boolean): Promise<string> {
  ctx.stderr.write(question);
  const stdin = ctx.stdin;
  if (hidden && stdin.isTTY) stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve) => {
      let text = '';
      const onData = (b: Buffer) => {
        for (const ch of b.toString('utf8')) {
          if (ch === '\r' || ch === '\n') { stdin.off('data', onData); stdin.pause(); resolve(text); return; }
          if (ch === '\u0003') process.exit(130);
          if (ch === '\u007f') text = text.slice(0, -1);
          else text += ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    if (hidden && stdin.isTTY) { stdin.setRawMode(false); ctx.stderr.write('\n'); }
  }
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function login(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const server = args[0] ? serverKey(args[0]) : HUB_SERVER;
  let username = str(f, 'username');
  let password = str(f, 'password');
  if (password !== undefined) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (bool(f, 'password-stdin')) {
    if (password !== undefined) throw new ExitError(1, '--password and --password-stdin are mutually exclusive');
    if (username === undefined) throw new ExitError(1, 'Must provide --username with --password-stdin');
    password = await readStdin(ctx.stdin);
  }
  if (username === undefined || password === undefined) {
    if (!ctx.stdin.isTTY) throw new ExitError(1, 'Cannot perform an interactive login from a non TTY device');
    if (username === undefined) username = (await prompt(ctx, 'Username: ', false)).trim();
    if (username === '') throw new ExitError(1, 'Username is required');
    if (password === undefined) password = await prompt(ctx, 'Password: ', true);
    if (password === '') throw new ExitError(1, 'Password is required');
  }
  const r = await ctx.client.json<api.AuthResponse>('POST', '/auth', { body: { username, password, serveraddress: server } });
  storeAuth(server, { username, password, ...(r.IdentityToken ? { identityToken: r.IdentityToken } : {}) });
  ctx.stdout.write(`${r.Status || 'Login Succeeded'}\n`);
}

export const logoutSpec: CommandSpec = {
  name: 'logout', usage: '[SERVER]', description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.', flags: [], maxArgs: 1,
};

export async function logout(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const server = args[0] ? serverKey(args[0]) : HUB_SERVER;
  if (!eraseAuth(server)) {
    ctx.stdout.write(`Not logged in to ${server}\n`);
    return;
  }
  ctx.stdout.write(`Removing login credentials for ${server}\n`);
}

export const searchSpec: CommandSpec = {
  name: 'search', usage: '[OPTIONS] TERM', description: 'Search Docker Hub for images',
  flags: [
    { name: 'filter', short: 'f', kind: 'string[]', description: 'Filter output based on conditions provided', check: checkFilter },
    { name: 'format', kind: 'string', description: 'Pretty-print search using a Go template' },
    { name: 'limit', kind: 'int', description: 'Max number of search results', default: 25 },
    { name: 'no-trunc', kind: 'bool', description: "Don't truncate output" },
  ],
  minArgs: 1, maxArgs: 1,
};

export async function search(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const term = args[0]!;
  const first = term.includes('/') ? term.slice(0, term.indexOf('/')) : '';
  const domain = /[.:]/.test(first) || first === 'localhost' ? first : 'docker.io';
  const results = await ctx.client.json<api.ImageSearchResult[]>('GET', '/images/search', {
    query: { term, limit: int(f, 'limit') ?? 25, filters: filtersParam(list(f, 'filter')) },
    headers: registryAuthHeader(domain),
  });
  const noTrunc = bool(f, 'no-trunc');
  const rows = results.map((r) => {
    const d = r.description.replace(/\s+/g, ' ').trim();
    return {
      Name: r.name, Description: noTrunc || d.length <= 45 ? d : `${d.slice(0, 44)}…`, StarCount: String(r.star_count),
      IsOfficial: r.is_official ? '[OK]' : '', IsAutomated: r.is_automated ? '[OK]' : '',
    };
  });
  ctx.stdout.write(renderList(rows, {
    format: str(f, 'format'),
    defaultTable: 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}',
    headers: { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' },
  }));
}
