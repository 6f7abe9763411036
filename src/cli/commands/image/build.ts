import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { JsonMessage } from '../../../api/types/index.ts';
import { ApiError, jsonMessages, type BuildQuery } from '../../../client/client.ts';
import { normalizedString, parseReference } from '../../../lib/reference.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags, bool, list, str } from '../../context.ts';
import {
  ContextError, SECRETS_DIR, directoryContext, isRemoteContext, readStream, stdinContext, type ExtraFile, type PreparedContext,
} from './build-context.ts';
import {
  parseBuildArgs, parseExtraHosts, parseLabels, parseOutputs, parseProgress, parseSecrets, validatePlatform, validateTags,
  type OutputSpec, type SecretSpec,
} from './build-options.ts';
import { exportImageFilesystem } from './build-output.ts';
import { BuildDisplay, transferSize } from './build-progress.ts';

const ignored = (name: string, kind: 'string' | 'int' | 'bool' | 'string[]', description: string, short?: string) =>
  ({ name, kind, description: `${description} (accepted, not applied by berth)`, ...(short ? { short } : {}) });

export const buildSpec: CommandSpec = {
  name: 'build', usage: '[OPTIONS] PATH | URL | -', description: 'Build an image from a Dockerfile', aliases: ['image build', 'build', 'builder build'],
  flags: [
    { name: 'add-host', kind: 'string[]', description: 'Add a custom host-to-IP mapping ("host:ip")', valueName: 'list' },
    { name: 'build-arg', kind: 'string[]', description: 'Set build-time variables', valueName: 'list' },
    { name: 'cache-from', kind: 'string[]', description: 'Images to consider as cache sources', valueName: 'strings' },
    { name: 'compress', kind: 'bool', description: 'Compress the build context using gzip' },
    { name: 'file', short: 'f', kind: 'string', description: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    { name: 'iidfile', kind: 'string', description: 'Write the image ID to the file' },
    { name: 'label', kind: 'string[]', description: 'Set metadata for an image', valueName: 'list' },
    { name: 'network', kind: 'string', default: 'default', description: 'Set the networking mode for the RUN instructions during build' },
    { name: 'no-cache', kind: 'bool', description: 'Do not use cache when building the image' },
    { name: 'output', short: 'o', kind: 'string[]', description: 'Output destination (format: "type=local,dest=path" or "type=tar,dest=file")', valueName: 'stringArray' },
    { name: 'platform', kind: 'string', description: 'Set platform if server is multi-platform capable' },
    { name: 'progress', kind: 'string', default: 'auto', description: 'Set type of progress output ("auto", "plain", "tty", "quiet", "rawjson")' },
    { name: 'pull', kind: 'bool', description: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress the build output and print image ID on success' },
    { name: 'rm', kind: 'bool', default: true, description: 'Remove intermediate containers after a successful build' },
    { name: 'force-rm', kind: 'bool', description: 'Always remove intermediate containers' },
    { name: 'secret', kind: 'string[]', description: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")', valueName: 'stringArray' },
    { name: 'tag', short: 't', kind: 'string[]', description: 'Name and optionally a tag in the "name:tag" format', valueName: 'list' },
    { name: 'target', kind: 'string', description: 'Set the target build stage to build.' },
    ignored('cgroup-parent', 'string', 'Set the parent cgroup for the "RUN" instructions during build'),
    ignored('cpu-period', 'int', 'Limit the CPU CFS (Completely Fair Scheduler) period'),
    ignored('cpu-quota', 'int', 'Limit the CPU CFS (Completely Fair Scheduler) quota'),
    ignored('cpu-shares', 'int', 'CPU shares (relative weight)', 'c'),
    ignored('cpuset-cpus', 'string', 'CPUs in which to allow execution (0-3, 0,1)'),
    ignored('cpuset-mems', 'string', 'MEMs in which to allow execution (0-3, 0,1)'),
    ignored('isolation', 'string', 'Container isolation technology'),
    ignored('memory', 'string', 'Memory limit', 'm'),
    ignored('memory-swap', 'string', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'),
    ignored('security-opt', 'string[]', 'Security options'),
    ignored('shm-size', 'string', 'Size of "/dev/shm"'),
    ignored('squash', 'bool', 'Squash newly built layers into a single new layer'),
    ignored('ulimit', 'string[]', 'Ulimit options'),
    { name: 'disable-content-trust', kind: 'bool', default: true, description: 'Skip image verification (deprecated)', deprecated: 'support for docker content trust was removed' },
  ],
  minArgs: 1, maxArgs: 1,
};

/** Everything `berth build` took from its flags, checked before anything is sent. */
interface BuildPlan {
  tags: string[];
  query: BuildQuery;
  output: OutputSpec;
  secrets: SecretSpec[];
  progress: 'tty' | 'plain' | 'quiet' | 'rawjson';
  iidfile: string | undefined;
}

function planFromFlags(ctx: CliContext, f: Flags): BuildPlan {
  const output = parseOutputs(list(f, 'output'), Boolean(ctx.stdout.isTTY));
  const display = output.type === 'tar' && output.dest === '-' ? ctx.stderr : ctx.stdout;
  const quiet = bool(f, 'quiet') || str(f, 'progress') === 'quiet';
  const progress = quiet ? 'quiet' : parseProgress(str(f, 'progress'), Boolean(display.isTTY));
  const platform = str(f, 'platform') ?? (process.env['DOCKER_DEFAULT_PLATFORM'] || undefined);
  const secrets = parseSecrets(list(f, 'secret'));
  const tags = validateTags(list(f, 'tag'));
  // pflag StringSlice: each value may hold several comma-separated references.
  const cacheFrom = list(f, 'cache-from').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const query: BuildQuery = {
    t: tags, buildargs: parseBuildArgs(list(f, 'build-arg')), labels: parseLabels(list(f, 'label')),
    nocache: bool(f, 'no-cache'), pull: bool(f, 'pull'), cachefrom: cacheFrom.length ? cacheFrom : undefined,
    networkmode: str(f, 'network') ?? 'default', extrahosts: parseExtraHosts(list(f, 'add-host')),
    rm: f['rm'] !== false, forcerm: bool(f, 'force-rm'), q: progress === 'quiet',
    berthprogress: progress === 'tty' || progress === 'plain', berthsecrets: secrets.map((s) => s.id),
    ...(str(f, 'target') ? { target: str(f, 'target')! } : {}),
    ...(platform ? { platform: validatePlatform(platform) } : {}),
  };
  return { tags, query, output, secrets, progress, iidfile: str(f, 'iidfile') };
}

/** The `--secret` files shipped in the context under SECRETS_DIR (contract.ts), read now. */
function secretFiles(secrets: readonly SecretSpec[]): ExtraFile[] {
  return secrets.map((s) => {
    let data: Buffer;
    if ('file' in s.source) {
      try {
        if (!statSync(s.source.file).isFile()) throw new Error('not a regular file');
        data = readFileSync(s.source.file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ExitError(1, `failed to read secret ${JSON.stringify(s.id)}: open ${s.source.file}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      }
    } else {
      const v = process.env[s.source.env];
      if (v === undefined) throw new ExitError(1, `failed to read secret ${JSON.stringify(s.id)}: environment variable ${s.source.env} is not set`);
      data = Buffer.from(v);
    }
    return { name: `${SECRETS_DIR}/${s.id}`, data, mode: 0o400 };
  });
}

/** `berth build PATH | URL | -`. */
export async function build(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const contextArg = args[0]!;
  const dockerfileFlag = str(f, 'file');
  const plan = planFromFlags(ctx, f);
  const displayOut = plan.output.type === 'tar' && plan.output.dest === '-' ? ctx.stderr : ctx.stdout;

  if (dockerfileFlag === '-' && contextArg === '-') throw new ExitError(1, "invalid argument: can't use stdin for both build context and dockerfile");
  if (plan.iidfile) {
    try { rmSync(plan.iidfile, { force: true }); } catch (err) { throw new ExitError(1, `removing image ID file: ${(err as Error).message}`); }
  }

  const prepared = await prepareContext(ctx, contextArg, dockerfileFlag, plan);

  let body: Readable = prepared.body;
  if (bool(f, 'compress')) body = body.pipe(createGzip());
  const display = plan.progress === 'tty' || plan.progress === 'plain' ? new BuildDisplay(displayOut, plan.progress) : undefined;
  const upload = display?.addLocal('[internal] load build context');
  let sent = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) { sent += chunk.length; upload?.status('transfer', `transferring context: ${transferSize(sent)}`); cb(null, chunk); },
    flush(cb) { upload?.status('transfer', `transferring context: ${transferSize(sent)}`, true); cb(); },
  });
  body.once('error', (err) => counted.destroy(err));
  body.pipe(counted);

  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  let quietText = '';
  let imageId: string | undefined;
  let failure: { message: string; code?: number } | undefined;
  try {
    const res = await ctx.client.build(counted, { ...plan.query, dockerfile: prepared.dockerfile }, { signal: ac.signal });
    upload?.done();
    await jsonMessages(res, (m: JsonMessage) => {
      if (plan.progress === 'rawjson') ctx.stdout.write(`${JSON.stringify(m)}\n`);
      if (display) { display.message(m); return; }
      if (m.errorDetail || m.error) failure = { message: m.errorDetail?.message ?? m.error ?? 'unknown error', ...(m.errorDetail?.code ? { code: m.errorDetail.code } : {}) };
      else if (m.aux && typeof (m.aux as { ID?: unknown }).ID === 'string' && m.id === undefined) imageId = (m.aux as { ID: string }).ID;
      else if (m.stream !== undefined && plan.progress === 'quiet') quietText += m.stream;
    });
  } catch (err) {
    // The daemon refused the build (a Dockerfile that does not parse…): the context went over; main prints the error.
    if (display) { if (err instanceof ApiError) upload?.done(); display.finish(); }
    if (ac.signal.aborted) throw new ExitError(130, 'build canceled');
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (display) { imageId = display.imageId; failure = display.error; }
  if (failure) {
    display?.finish();
    if (plan.progress === 'quiet' && quietText) ctx.stderr.write(quietText);
    // The legacy builder's exit status: the failing RUN's code when the daemon gives one, else 1.
    throw new ExitError(failure.code && failure.code > 0 && failure.code < 256 ? failure.code : 1, failure.message);
  }
  if (!imageId && plan.progress === 'quiet') imageId = /sha256:[0-9a-f]{64}/.exec(quietText)?.[0];
  if (!imageId) { display?.finish(); throw new ExitError(1, 'the daemon did not report an image ID'); }

  await exportResult(ctx, plan, imageId, display);
  display?.finish();
  if (plan.progress === 'quiet') ctx.stdout.write(`${imageId}\n`);
  if (plan.iidfile) {
    try { writeFileSync(plan.iidfile, imageId); } catch (err) { throw new ExitError(1, (err as Error).message); }
  }
}

/** The context to send: from stdin, or a directory (its Dockerfile, .dockerignore and the secrets); ExitError 1 otherwise. */
async function prepareContext(ctx: CliContext, contextArg: string, dockerfileFlag: string | undefined, plan: BuildPlan): Promise<PreparedContext> {
  try {
    const extras = secretFiles(plan.secrets);
    if (contextArg === '-') return await stdinContext(ctx.stdin, dockerfileFlag, extras);
    if (existsSync(contextArg)) {
      return await directoryContext(contextArg, {
        ...(dockerfileFlag !== undefined ? { dockerfileFlag } : {}),
        stdinDockerfile: () => readStream(ctx.stdin),
        extras,
      });
    }
    if (isRemoteContext(contextArg)) {
      throw new ContextError(`unable to prepare context: ${contextArg}: git and URL contexts are not supported by berth (it does not fetch from the network); clone or download it and build the directory`);
    }
    throw new ContextError(`unable to prepare context: path ${JSON.stringify(contextArg)} not found`);
  } catch (err) {
    if (err instanceof ContextError) throw new ExitError(1, err.message);
    throw err;
  }
}

/** --output: the image's files to a directory or tarball (the untagged image then removed), or the image-store step shown. */
async function exportResult(ctx: CliContext, plan: BuildPlan, imageId: string, display: BuildDisplay | undefined): Promise<void> {
  if (plan.output.type !== 'image') {
    const ex = display?.addLocal(plan.output.type === 'local' ? 'exporting to client directory' : 'exporting to client tarball');
    let copied = 0;
    try {
      await exportImageFilesystem(ctx.client, imageId, plan.output, {
        stdout: ctx.stdout, onBytes: (n) => { copied += n; ex?.status('copy', `copying files ${transferSize(copied)}`); },
      });
      ex?.status('copy', `copying files ${transferSize(copied)}`, true);
      ex?.done();
    } catch (err) {
      ex?.fail((err as Error).message);
      display?.finish();
      throw err;
    } finally {
      // BuildKit's rule: with an output other than the image store, an untagged result is not kept.
      // Only an image without any tag goes: a build of `FROM busybox` alone yields busybox itself.
      if (plan.tags.length === 0) await removeIfUntagged(ctx, imageId);
    }
  } else if (display) {
    const ex = display.addLocal('exporting to image');
    ex.status('write', `writing image ${imageId}`, true);
    for (const t of plan.tags) ex.status(`name:${t}`, `naming to ${normalizedName(t)}`, true);
    ex.done();
  }
}

/** Removes a dangling image (no tags, no digests); an image in use or with children stays. */
async function removeIfUntagged(ctx: CliContext, id: string): Promise<void> {
  try {
    const img = await ctx.client.json<{ RepoTags?: string[] | null; RepoDigests?: string[] | null }>('GET', `/images/${id}/json`);
    if ((img.RepoTags?.length ?? 0) > 0 || (img.RepoDigests?.length ?? 0) > 0) return;
    await ctx.client.call('DELETE', `/images/${id}`, { query: { noprune: true } });
  } catch { /* in use, or gone: it stays or is already removed */ }
}

/** `web` → `docker.io/library/web:latest`, as BuildKit's "naming to" line shows it. */
function normalizedName(tag: string): string {
  try { return normalizedString(parseReference(tag)); } catch { return tag; }
}

