import { EngineError } from '../lib/errors.ts';
import { outputProgress, type Progress } from '../lib/progress.ts';
import { hostArchitecture } from '../image/index.ts';
import type { BuildBackend } from './backend.ts';
import { BuildArgs } from './build-args.ts';
import { cacheFromMatch, isOnChainOf } from './cache-from.ts';
import { cacheKey } from './cache-key.ts';
import type { KnownDigests } from './copy-sources.ts';
import { nopCreatedBy } from './created-by.ts';
import type { Dockerfile, Instruction, Stage } from './dockerfile/ast.ts';
import { OrderedOutput } from './ordered-output.ts';
import { runStep, type StepContext } from './steps.ts';
import { neededStages, stageDeps, stageRef, targetStage } from './stage-graph.ts';
import { applyMetadata, configOf, type ExpandFn, type StageState } from './stage-state.ts';
import type { ImageConfig } from '../image/index.ts';

/** What a build asks of the executor (the route's BuildOptions, minus tagging and transport). */
export interface ExecuteOptions {
  dockerfile: Dockerfile;
  /** Host directory of the extracted build context. */
  contextDir: string;
  /** Digests of the context's regular files by host path, taken while it was extracted. */
  contextDigests?: KnownDigests;
  /** Scratch space for the build (heredoc files, downloads); the caller removes it. */
  tmpDir: string;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  networkMode: string;
  extraHosts: string[];
  /** Configs of the `--cache-from` images that exist here (see cache-from.ts). */
  cacheFrom: ImageConfig[];
  /**
   * `--cache-from` was given (even naming only missing images): the local cache then answers only
   * with images on the chain of a cache-from image, as the legacy builder's cache does.
   */
  cacheFromGiven?: boolean;
  /** Secret id → host file. */
  secrets: ReadonlyMap<string, string>;
  /** Send berth step events (and RUN output only through them). */
  stepEvents: boolean;
  /** At most this many stages run at once. */
  parallel?: number;
  signal: AbortSignal;
}

export interface ExecutorDeps {
  backend: BuildBackend;
  expand: ExpandFn;
  /** Parses one ONBUILD trigger line into an instruction. */
  parseTrigger(text: string): Instruction;
  emit(msg: Progress): void;
}

/** A step failed: Docker's message, the exit code for RUN, and where it was in the Dockerfile. */
export class BuildStepError extends EngineError {
  constructor(message: string, readonly line: number, readonly code?: number, options?: { cause?: unknown }) {
    super('InvalidParameter', message, options);
  }
}

const short = (id: string | null) => (id ?? '').replace(/^sha256:/, '').slice(0, 12);

/**
 * Runs a parsed Dockerfile: the stages the target needs, independent ones in parallel (their
 * legacy-format output kept in stage order), each instruction with dockerd's semantics and cache.
 * Returns the final image ID and the unused build args. Throws BuildStepError for a failing step.
 */
export async function executeBuild(d: ExecutorDeps, o: ExecuteOptions): Promise<{ imageId: string; unusedArgs: string[] }> {
  const df = o.dockerfile;
  const args = new BuildArgs(o.buildArgs);
  for (const a of df.metaArgs) {
    for (const x of a.args) args.declareMeta(x.name, x.defaultValue === undefined ? undefined : d.expand(x.defaultValue, args.meta));
  }
  const metaExpand = (w: string) => d.expand(w, args.meta);
  const deps = stageDeps(df.stages, metaExpand);
  const target = targetStage(df.stages, o.target);
  const stages = neededStages(deps, target);
  const targetStageDef = withLabels(df.stages[target]!, o.labels);
  const defOf = (i: number): Stage => (i === target ? targetStageDef : df.stages[i]!);

  let total = df.metaArgs.length;
  const stepBase = new Map<number, number>();
  for (const i of stages) {
    stepBase.set(i, total);
    total += 1 + defOf(i).instructions.length;
  }
  const out = new OrderedOutput(stages, d.emit);
  let n = 0;
  for (const a of df.metaArgs) out.write(stages[0]!, outputProgress(`Step ${++n}/${total} : ${a.original}`), outputProgress('\n'));

  const results = new Map<number, Promise<StageState>>();
  const limit = new Limiter(o.parallel ?? 2);
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const runOne = (i: number): Promise<StageState> => {
    let p = results.get(i);
    if (!p) {
      p = (async () => {
        const dep = deps[i]!;
        const base = dep.base !== undefined ? await runOne(dep.base) : undefined;
        for (const j of dep.stages) await runOne(j);
        return limit.run(() => buildStage(d, {
          o, args, stage: defOf(i), stepNo: stepBase.get(i)!, total, base, out, allStages: df.stages, stageResult: runOne, metaExpand, signal: abort.signal,
        }));
      })();
      // The first failure stops the other stages (their containers are removed by the backend).
      p.catch((err: unknown) => abort.abort(err));
      results.set(i, p);
    }
    return p;
  };
  try {
    await Promise.all(stages.map(runOne));
    const final = await runOne(target);
    if (final.imageId === null) throw new EngineError('InvalidParameter', 'No image was generated. Is your Dockerfile empty?');
    return { imageId: final.imageId, unusedArgs: args.unused() };
  } catch (err) {
    // Let the other stages settle (and clean up) before the error goes out.
    await Promise.allSettled([...results.values()]);
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

/** `--label`s become a LABEL instruction at the end of the target stage, as dockerd does. */
function withLabels(s: Stage, labels: Record<string, string>): Stage {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return s;
  const text = `LABEL ${keys.map((k) => `${JSON.stringify(k)}=${JSON.stringify(labels[k])}`).join(' ')}`;
  const last = s.instructions.at(-1)?.loc ?? s.from.loc;
  const ins: Instruction = { kind: 'LABEL', pairs: keys.map((k) => ({ key: JSON.stringify(k), value: JSON.stringify(labels[k]) })), flags: [], original: text, loc: { line: last.endLine, endLine: last.endLine } };
  return { ...s, instructions: [...s.instructions, ins] };
}

interface StageRun {
  o: ExecuteOptions;
  args: BuildArgs;
  stage: Stage;
  stepNo: number;
  total: number;
  base: StageState | undefined;
  out: OrderedOutput;
  allStages: readonly Stage[];
  stageResult(i: number): Promise<StageState>;
  metaExpand: (w: string) => string;
  signal: AbortSignal;
}

async function buildStage(d: ExecutorDeps, r: StageRun): Promise<StageState> {
  const { stage, out } = r;
  const emit = (...m: Progress[]) => out.write(stage.index, ...m);
  const vertex = (k: number) => `${stage.index}:${k}`;
  const event = (aux: Record<string, unknown>) => { if (r.o.stepEvents) d.emit({ kind: 'result', id: 'berth.step', aux: { ts: Date.now(), ...aux } }); };
  let step = r.stepNo;
  try {
    const state = await fromStep(d, r, emit, event, ++step);
    const triggers = configOf(state).OnBuild ?? [];
    if (triggers.length > 0) {
      emit(outputProgress(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`));
      configOf(state).OnBuild = null;
      for (const t of triggers) await instructionStep(d, r, state, d.parseTrigger(t), { emit, event, vertex: vertex(0) });
    }
    for (const [k, ins] of stage.instructions.entries()) {
      if (r.signal.aborted) throw new EngineError('Canceled', 'Build cancelled');
      emit(outputProgress(`Step ${++step}/${r.total} : ${ins.original}`), outputProgress('\n'));
      const v = vertex(k + 1);
      const started = Date.now();
      event({ vertex: v, status: 'started', stage: stage.name ?? String(stage.index), step, total: r.total, name: `[${stage.name ?? stage.index} ${k + 2}/${stage.instructions.length + 1}] ${ins.original}` });
      try {
        const cached = await instructionStep(d, r, state, ins, { emit, event, vertex: v });
        event({ vertex: v, status: cached ? 'cached' : 'done', elapsedMs: Date.now() - started });
      } catch (err) {
        event({ vertex: v, status: 'error', elapsedMs: Date.now() - started, error: (err as Error).message });
        throw err;
      }
      emit(outputProgress(` ---> ${short(state.imageId)}\n`));
    }
    return state;
  } finally {
    out.finish(stage.index);
  }
}

type Emit = (...m: Progress[]) => void;
type Event = (aux: Record<string, unknown>) => void;

async function fromStep(d: ExecutorDeps, r: StageRun, emit: Emit, event: Event, step: number): Promise<StageState> {
  const { stage } = r;
  const v = `${stage.index}:0`;
  emit(outputProgress(`Step ${step}/${r.total} : ${stage.from.original}`), outputProgress('\n'));
  const started = Date.now();
  event({ vertex: v, status: 'started', stage: stage.name ?? String(stage.index), step, total: r.total, name: `[${stage.name ?? stage.index} 1/${stage.instructions.length + 1}] ${stage.from.original}` });
  const ref = r.metaExpand(stage.from.image);
  let state: StageState;
  if (r.base) {
    state = { imageId: r.base.imageId, blob: structuredClone(r.base.blob), args: new Map(), cmdSet: false };
  } else if (ref.toLowerCase() === 'scratch') {
    state = { imageId: null, blob: { architecture: hostArchitecture(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, args: new Map(), cmdSet: false };
  } else {
    const img = await d.backend.baseImage(ref, { pull: r.o.pull, signal: r.signal }).catch((err: unknown) => {
      event({ vertex: v, status: 'error', error: (err as Error).message });
      throw err;
    });
    state = { imageId: img.id, blob: structuredClone(img.config), args: new Map(), cmdSet: false };
  }
  event({ vertex: v, status: 'done', elapsedMs: Date.now() - started });
  emit(outputProgress(` ---> ${short(state.imageId)}\n`));
  return state;
}

/** One instruction; true when the cache answered it. */
async function instructionStep(d: ExecutorDeps, r: StageRun, s: StageState, ins: Instruction, io: { emit: Emit; event: Event; vertex: string }): Promise<boolean> {
  const ctx: StepContext = {
    backend: d.backend, expand: d.expand, o: r.o, args: r.args, emit: io.emit, event: io.event, vertex: io.vertex, signal: r.signal,
    resolveFrom: async (ref) => {
      const i = stageRef(r.allStages, r.stage.index, ref);
      if (i !== undefined) return (await r.stageResult(i)).imageId;
      return (await d.backend.baseImage(ref, { pull: false, signal: r.signal })).id;
    },
  };
  try {
    if (ins.kind === 'FROM') throw new EngineError('InvalidParameter', 'FROM in the middle of a stage');
    const comment = applyMetadata(ins, s, d.expand, r.args);
    if (comment !== null) return await metadataCommit(d, r, s, comment, io.emit);
    return await runStep(ctx, s, ins);
  } catch (err) {
    if (err instanceof BuildStepError || (err instanceof EngineError && err.kind === 'Canceled')) throw err;
    throw new BuildStepError((err as Error).message, ins.loc.line, undefined, { cause: err });
  }
}

/** Stores the image of a metadata-only step (history empty_layer), or takes it from the cache. */
async function metadataCommit(d: ExecutorDeps, r: StageRun, s: StageState, comment: string, emit: Emit): Promise<boolean> {
  const createdBy = nopCreatedBy(shellForHistory(s), comment);
  const key = cacheKey(s.imageId, { createdBy, config: configOf(s), author: s.blob.author });
  if (!r.o.noCache) {
    const hit = (await localCacheHit(d.backend, r.o, key))
      ?? (cacheFromMatch(s.blob, createdBy, r.o.cacheFrom) ? await d.backend.storeConfig(nextBlob(s, { created_by: createdBy, empty_layer: true })) : undefined);
    if (hit) {
      emit(outputProgress(' ---> Using cache\n'));
      s.imageId = hit;
      s.blob = await d.backend.imageConfig(hit);
      return true;
    }
  }
  const blob = nextBlob(s, { created_by: createdBy, empty_layer: true });
  const parent = s.imageId;
  s.imageId = await d.backend.storeConfig(blob);
  s.blob = blob;
  d.backend.cachePut(key, s.imageId, parent);
  return false;
}

/**
 * The local cache's answer for a step key: the image, unless `--cache-from` was given and the
 * image is on no cache-from image's chain (then the local cache does not count; a missing
 * cache-from image thus turns it off, as in the legacy builder).
 */
export async function localCacheHit(backend: BuildBackend, o: Pick<ExecuteOptions, 'cacheFrom' | 'cacheFromGiven'>, key: string): Promise<string | undefined> {
  const hit = await backend.cacheGet(key);
  if (hit === undefined || !o.cacheFromGiven) return hit;
  return isOnChainOf(await backend.imageConfig(hit), o.cacheFrom) ? hit : undefined;
}

/** The shell history strings use: the stage's SHELL (dockerd's getShell). */
export function shellForHistory(s: StageState): string[] {
  const sh = configOf(s).Shell;
  return sh && sh.length > 0 ? [...sh] : ['/bin/sh', '-c'];
}

/** The config blob of the next image: the state's config, one more history entry, maybe a layer. */
export function nextBlob(s: StageState, h: { created_by: string; empty_layer?: boolean; comment?: string }, diffId?: string): ImageConfig {
  const created = new Date().toISOString();
  // The parent's container/container_config describe how the parent was made, not this image.
  const rest = { ...s.blob };
  delete rest['container'];
  delete rest['container_config'];
  const history = s.blob.history && s.blob.history.length > 0 ? s.blob.history : s.blob.rootfs.diff_ids.map(() => ({ created }));
  return {
    ...rest, created, config: structuredClone(configOf(s)),
    rootfs: { type: 'layers', diff_ids: diffId ? [...s.blob.rootfs.diff_ids, diffId] : [...s.blob.rootfs.diff_ids] },
    history: [...history, { created, created_by: h.created_by, ...(s.blob.author ? { author: s.blob.author } : {}), ...(h.comment ? { comment: h.comment } : {}), ...(h.empty_layer ? { empty_layer: true } : {}) }],
  };
}

/** Runs at most `n` tasks at once. */
class Limiter {
  #active = 0;
  readonly #queue: Array<() => void> = [];
  constructor(readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.n) await new Promise<void>((res) => this.#queue.push(res));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}
