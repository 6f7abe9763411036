import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { buildFilesToRemove, parseDockerfile, parseDockerignore } from '../../build/dockerfile/index.ts';
import { expand as expandWord } from '../../build/dockerfile/substitute.ts';
import { BuildStepError, executeBuild } from '../../build/executor.ts';
import type { Instruction } from '../../build/dockerfile/ast.ts';
import type { ExpandFn } from '../../build/stage-state.ts';
import { EngineError, kindOf } from '../../lib/errors.ts';
import { outputProgress, type Progress } from '../../lib/progress.ts';
import { familiarString, parseReference } from '../../lib/reference.ts';
import type { BuildCache } from './build-cache.ts';
import { cachePrunePredicate } from './cache-prune.ts';
import type { Filters } from '../../lib/filters.ts';
import type { RootHelper } from './build-root.ts';
import { extractContext, type ContextExtractor } from './context.ts';
import { MessageChannel, shortId } from '../images/progress.ts';
import type { BuildOptions } from './contract.ts';
import type { BuildCachePruneResult } from '../contracts/builds.ts';
import type { ImageRemoval } from '../contracts/images.ts';
import { BUILD_LABEL, EngineBuildBackend, type BuildContainers, type BuildImages, type BuildSnapshots } from './engine-backend.ts';
import type { ImageConfig } from '../../image/index.ts';

export interface BuildServiceDeps {
  /** For start-up recovery: every container with its labels (RUN containers carry BUILD_LABEL). */
  leftovers?: () => Array<{ id: string; labels: Record<string, string> }>;
  /** Where the snapshotter keeps container snapshots (build ones are named `build-…`). */
  snapshotDir?: string;
  images: BuildImages & {
    inspect(ref: string): Promise<{ repoTags: string[]; repoDigests: string[] }>;
    remove(ref: string, opts: { force?: boolean }): Promise<ImageRemoval[]>;
  };
  containers: BuildContainers;
  snapshots: BuildSnapshots;
  helper: RootHelper & ContextExtractor;
  cache: BuildCache;
  dataRoot: string;
  /** The daemon log's warnings (a --cache-from image that is not here). */
  warn?: (message: string) => void;
}

/** A failed build as the stream reports it: Docker's message, and RUN's exit code. */
export class BuildFailure extends EngineError {
  constructor(message: string, readonly code: number | undefined, options?: { cause?: unknown }) {
    super('InvalidParameter', message, options);
  }
}

/**
 * POST /build: the legacy builder. Extracts the context, parses the Dockerfile (errors before
 * any message: the route answers them as HTTP errors), runs the executor and tags the result.
 * Messages are the legacy builder's (see contract.ts). Everything the build made besides its
 * images and cache entries is removed when it ends, however it ends.
 */
export class BuildService {
  constructor(private readonly d: BuildServiceDeps) {}

  async *build(body: Readable, o: BuildOptions, signal: AbortSignal): AsyncGenerator<Progress> {
    const tags = o.tags.map((t) => familiarString(parseReference(t)));
    const tmp = join(this.d.dataRoot, 'tmp', `build-${randomBytes(8).toString('hex')}`);
    try {
      const contextDir = join(tmp, 'context');
      const workDir = join(tmp, 'work');
      await mkdir(workDir, { recursive: true, mode: 0o700 });
      const { secrets, digests } = await extractContext(this.d.helper, body, contextDir, join(tmp, 'secrets'), signal);
      const text = await this.#readDockerfile(contextDir, o.dockerfile);
      await removeIgnoredBuildFiles(this.d.helper, contextDir, o.dockerfile || 'Dockerfile', digests);
      const dockerfile = parseDockerfile(text);
      const escape = dockerfile.escape;
      const expand: ExpandFn = (w, env, opts) => expandWord(w, (n) => env.get(n), opts?.heredoc ? { escape: '\\', skipQuotes: true } : { escape });
      const ch = new MessageChannel();
      // Quiet builds send only the result (the image ID), not berth's step events or output.
      const emit = (m: Progress) => {
        if (o.quiet && !(m.kind === 'result' && m.id === undefined)) return;
        ch.push(m);
      };
      for (const w of dockerfile.warnings) emit(outputProgress(`${w}\n`));
      const backend = new EngineBuildBackend({
        images: this.d.images, containers: this.d.containers, snapshots: this.d.snapshots, helper: this.d.helper, cache: this.d.cache,
        cacheMountRoot: join(this.d.dataRoot, 'build-cache-mounts'), emit,
      });
      // --cache-from images that are not here are skipped with a warning in the daemon's log, as
      // dockerd does; the local cache stays off for the build all the same (cacheFromGiven).
      const cacheFrom = (await Promise.all(o.cacheFrom.map((ref) => this.d.images.resolve(ref).then((i) => i.config, (err: unknown) => {
        this.d.warn?.(`Could not look up ${ref} for cache resolution, skipping: ${(err as Error).message}`);
        return undefined;
      })))).filter((c): c is ImageConfig => c !== undefined);
      const run = (async () => {
        try {
          const r = await executeBuild({ backend, expand, emit, parseTrigger: (t) => parseTrigger(t, escape) }, {
            dockerfile, contextDir, contextDigests: digests, tmpDir: workDir, buildArgs: o.buildArgs, labels: o.labels, ...(o.target ? { target: o.target } : {}),
            noCache: o.noCache, pull: o.pull, networkMode: o.networkMode, extraHosts: o.extraHosts, cacheFrom, cacheFromGiven: o.cacheFrom.length > 0, secrets, stepEvents: o.stepEvents, signal,
          });
          this.d.cache.markResult(r.imageId);
          ch.push({ kind: 'result', aux: { ID: r.imageId } });
          if (r.unusedArgs.length > 0) emit(outputProgress(`[Warning] One or more build-args [${r.unusedArgs.join(' ')}] were not consumed\n`));
          emit(outputProgress(`Successfully built ${shortId(r.imageId)}\n`));
          for (const t of tags) {
            await backend.tag(r.imageId, t);
            emit(outputProgress(`Successfully tagged ${t}\n`));
          }
          if (o.quiet) ch.push(outputProgress(`${r.imageId}\n`));
          ch.close();
        } catch (err) {
          if (err instanceof BuildStepError) {
            for (const line of dockerfileExcerpt(text, err.line)) ch.push(outputProgress(`${line}\n`));
            ch.close(new BuildFailure(err.message, err.code, { cause: err }));
          } else ch.close(err);
        }
      })();
      try {
        yield* ch;
      } finally {
        await run;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * Start-up recovery: removes what a build killed with berthd left (RUN containers, build
   * snapshots, context and scratch dirs). Builds do not survive a daemon restart.
   */
  async recover(): Promise<void> {
    const tmp = join(this.d.dataRoot, 'tmp');
    for (const n of await readdir(tmp).catch(() => [] as string[])) {
      if (n.startsWith('build-')) await rm(join(tmp, n), { recursive: true, force: true });
    }
    for (const c of this.d.leftovers?.() ?? []) {
      if (c.labels[BUILD_LABEL] !== undefined) await this.d.containers.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
    }
    const snaps = this.d.snapshotDir ? await readdir(this.d.snapshotDir).catch(() => [] as string[]) : [];
    for (const id of snaps) if (id.startsWith('build-')) await this.d.snapshots.remove(id).catch(() => undefined);
  }

  /**
   * POST /build/prune (`builder prune`): forgets the cache entries the filters select
   * (cache-prune.ts) and removes the untagged images they pointed at that no container uses and
   * no remaining entry needs (tagged ones stay, as do their layers). InvalidParameter for bad filters.
   */
  async prune(opts: { all: boolean; filters?: Filters }): Promise<BuildCachePruneResult> {
    const selected = cachePrunePredicate(opts.filters ?? new Map());
    const entries = this.d.cache.entries();
    const going = entries.filter(selected);
    this.d.cache.forget(going.map((e) => e.key));
    const kept = new Set(entries.filter((e) => !going.includes(e)).map((e) => e.imageId));
    const deleted: string[] = [];
    for (const id of new Set(going.map((e) => e.imageId))) {
      if (kept.has(id)) continue;
      const tags = await this.d.images.inspect(id).then((i) => i.repoTags.length + i.repoDigests.length, () => -1);
      if (tags !== 0) continue;
      const removed = await this.d.images.remove(id, {}).catch(() => []);
      if (removed.some((r) => 'deleted' in r)) deleted.push(id);
    }
    return { deleted, reclaimed: 0 };
  }

  async #readDockerfile(contextDir: string, name: string): Promise<string> {
    const file = name || 'Dockerfile';
    try {
      const host = await this.d.helper.resolveInRoot(contextDir, file);
      return await readFile(host, 'utf8');
    } catch (err) {
      if (kindOf(err) === 'NotFound' || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') {
        throw new EngineError('InvalidParameter', `Cannot locate specified Dockerfile: ${file}`, { cause: err });
      }
      throw err;
    }
  }
}

/**
 * The lines around a failing instruction, as BuildKit shows them (`Dockerfile:3`, then the
 * numbered lines with `>>>` on the failing one), so an error points at its line.
 */
export function dockerfileExcerpt(text: string, line: number): string[] {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) return [];
  const from = Math.max(1, line - 2);
  const rule = '--------------------';
  const out = [`Dockerfile:${line}`, rule];
  for (let n = from; n <= line; n++) out.push(`${String(n).padStart(4)} | ${n === line ? '>>> ' : '    '}${lines[n - 1]}`);
  out.push(rule);
  return out;
}

/** One ONBUILD trigger line as an instruction (parsed as the only step of a stage). */
function parseTrigger(text: string, escape: '\\' | '`'): Instruction {
  const df = parseDockerfile(`# escape=${escape}\nFROM scratch\n${text}\n`);
  const ins = df.stages[0]?.instructions[0];
  if (!ins) throw new EngineError('InvalidParameter', `invalid ONBUILD trigger: ${text}`);
  return ins;
}

/**
 * The client always sends the Dockerfile and .dockerignore, even when .dockerignore excludes them
 * (a Dockerfile from stdin or outside the context travels as `.dockerfile.<random>`, excluded);
 * once read, dockerd deletes the excluded ones so that `COPY . /app` does not copy them.
 */
async function removeIgnoredBuildFiles(helper: Pick<RootHelper, 'resolveInRoot'>, contextDir: string, dockerfile: string, digests: Map<string, unknown>): Promise<void> {
  let patterns: string[];
  try {
    patterns = parseDockerignore(await readFile(await helper.resolveInRoot(contextDir, '.dockerignore'), 'utf8'));
  } catch (err) {
    if (kindOf(err) === 'NotFound' || (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const rel of buildFilesToRemove(patterns, posix.normalize(dockerfile).replace(/^\/+/, ''))) {
    await rm(await helper.resolveInRoot(contextDir, rel), { force: true });
    digests.delete(rel);
  }
}
