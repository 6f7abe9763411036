import { writeFile, mkdir } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EngineError } from '../lib/errors.ts';
import { outputProgress, type Progress } from '../lib/progress.ts';
import { resolveUser } from '../runtime/spec/user.ts';
import type { BuildBackend, BuildRootFs, RunMountSpec } from './backend.ts';
import type { BuildArgs } from './build-args.ts';
import { cacheFromMatch } from './cache-from.ts';
import { cacheKey } from './cache-key.ts';
import { copySources, type CopyPlan } from './copy-step.ts';
import { copyCreatedBy, runCommandLine, workdirCreatedBy } from './created-by.ts';
import type { Instruction } from './dockerfile/ast.ts';
import type { ExecuteOptions } from './executor.ts';
import { localCacheHit, nextBlob, shellForHistory, BuildStepError } from './executor.ts';
import { parseRunMounts } from './run-mounts.ts';
import { configOf, envMap, scopeOf, shellOf, type ExpandFn, type StageState } from './stage-state.ts';

/** What a layer-making step needs from the executor. */
export interface StepContext {
  backend: BuildBackend;
  expand: ExpandFn;
  o: ExecuteOptions;
  args: BuildArgs;
  emit: (...m: Progress[]) => void;
  event: (aux: Record<string, unknown>) => void;
  vertex: string;
  signal: AbortSignal;
  /** The image a `--from=` value names: an earlier stage's result or an image. */
  resolveFrom(ref: string): Promise<string | null>;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** RUN, COPY, ADD or WORKDIR; true when the cache answered. */
export async function runStep(c: StepContext, s: StageState, ins: Instruction): Promise<boolean> {
  switch (ins.kind) {
    case 'RUN': return runInstruction(c, s, ins);
    case 'COPY': case 'ADD': return copyInstruction(c, s, ins);
    case 'WORKDIR': return workdirInstruction(c, s, ins);
    default: throw new EngineError('InvalidParameter', `unsupported instruction ${ins.kind}`);
  }
}

async function probe(c: StepContext, s: StageState, key: string, createdBy?: string): Promise<boolean> {
  if (c.o.noCache) return false;
  let hit = await localCacheHit(c.backend, c.o, key);
  if (!hit && createdBy !== undefined && c.o.cacheFrom.length > 0) {
    const m = cacheFromMatch(s.blob, createdBy, c.o.cacheFrom);
    if (m) {
      hit = await c.backend.storeConfig(nextBlob(s, { created_by: createdBy, ...(m.diffId === null ? { empty_layer: true } : {}) }, m.diffId ?? undefined));
      c.backend.cachePut(key, hit, s.imageId);
    }
  }
  if (!hit) return false;
  c.emit(outputProgress(' ---> Using cache\n'));
  s.imageId = hit;
  s.blob = await c.backend.imageConfig(hit);
  return true;
}

/** The shell-form command with its here-documents, as the shell must see it. */
export function shellScript(command: string, heredocs: ReadonlyArray<{ name: string; content: string; quoted: boolean }>): { script: string; alone: boolean } {
  const only = heredocs.length === 1 && /^<<-?\s*["']?[^\s"']+["']?\s*$/.test(command.trim());
  if (only) return { script: heredocs[0]!.content, alone: true };
  let script = command;
  for (const h of heredocs) script += `\n${h.content}${h.name}`;
  return { script, alone: false };
}

async function runInstruction(c: StepContext, s: StageState, ins: Extract<Instruction, { kind: 'RUN' }>): Promise<boolean> {
  const cfg = configOf(s);
  const shell = shellOf(s);
  let argv: string[];
  if (ins.command.kind === 'exec') argv = [...ins.command.args];
  else {
    const { script } = shellScript(ins.command.command, ins.heredocs);
    argv = [...shell, script];
  }
  const env = envMap(cfg.Env);
  // ARGs the RUN sees as environment (ENV of the same name wins), and the proxy args given but not declared.
  const argEnv: Array<[string, string]> = [...s.args].filter(([k]) => !env.has(k));
  const proxies = c.args.predefined(s.args);
  const recorded = runCommandLine(argv, argEnv);
  const createdBy = recorded.join(' ');
  const mounts = parseRunMounts(ins.flags);
  const fromImages: Array<string | null> = [];
  for (const m of mounts) if (m.type === 'bind' && m.from !== undefined) fromImages.push(await c.resolveFrom(c.expand(m.from, scopeOf(s))));
  const net = ins.flags.find((f) => f.name === 'network')?.value;
  const key = cacheKey(s.imageId, { run: recorded, mounts: ins.flags.filter((f) => f.name === 'mount'), fromImages, net, config: cfg });
  if (await probe(c, s, key, createdBy)) return true;

  const holds: Array<() => Promise<void>> = [];
  try {
    const specs = await runMountSpecs(c, mounts, fromImages, holds);
    let containerId = '';
    // A UTF-8 character split across two chunks is sent whole, with the second.
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const netMode = net ?? c.o.networkMode;
    const result = await c.backend.run({
      parent: s.imageId, argv, env: [...(cfg.Env ?? []), ...argEnv.map(([k, v]) => `${k}=${v}`), ...proxies.map(([k, v]) => `${k}=${v}`)],
      user: cfg.User ?? '', workdir: cfg.WorkingDir ?? '', networkMode: netMode === 'default' || netMode === '' ? 'bridge' : netMode,
      extraHosts: c.o.extraHosts, mounts: specs, signal: c.signal,
      started: (id) => { containerId = id; c.emit(outputProgress(` ---> Running in ${short(id)}\n`)); },
      output: (stream, data) => {
        const text = decoders[stream].write(data);
        if (text === '') return;
        if (c.o.stepEvents) c.event({ vertex: c.vertex, status: 'log', stream, data: text });
        // dockerd's legacy builder wraps each stderr chunk in bright red (streamformatter's
        // NewStderrWriter); DOCKER_BUILDKIT=0 docker build and docker-py print it as it comes.
        else c.emit(outputProgress(stream === 'stderr' ? `\x1b[91m${text}\x1b[0m` : text));
      },
      config: (diffId) => nextBlob(s, { created_by: createdBy }, diffId),
    });
    if (containerId) c.emit(outputProgress(` ---> Removed intermediate container ${short(containerId)}\n`));
    if (result.exitCode !== 0 || !result.imageId) {
      throw new BuildStepError(`The command '${argv.join(' ')}' returned a non-zero code: ${result.exitCode}`, ins.loc.line, result.exitCode);
    }
    c.backend.cachePut(key, result.imageId, s.imageId);
    s.imageId = result.imageId;
    s.blob = await c.backend.imageConfig(result.imageId);
    return false;
  } finally {
    for (const h of holds) await h();
  }
}

/**
 * The mounts of a RUN as the backend takes them: cache dirs, tmpfs, secrets (a missing optional
 * one is left out) and binds from the context or from images. An image's root stays mounted until
 * the RUN is over: its release goes into `holds`, which the caller runs whatever happens.
 */
async function runMountSpecs(c: StepContext, mounts: ReturnType<typeof parseRunMounts>, fromImages: ReadonlyArray<string | null>,
  holds: Array<() => Promise<void>>): Promise<RunMountSpec[]> {
  const specs: RunMountSpec[] = [];
  let fromIdx = 0;
  for (const m of mounts) {
    if (m.type === 'cache') specs.push({ type: 'bind', source: await c.backend.cacheMountDir(m.id ?? m.target), target: m.target, readonly: false });
    else if (m.type === 'tmpfs') specs.push({ type: 'tmpfs', source: '', target: m.target, readonly: false });
    else if (m.type === 'secret') {
      const file = c.o.secrets.get(m.id ?? '');
      if (!file) {
        if (m.required) throw new EngineError('InvalidParameter', `secret ${m.id ?? ''}: not found`);
        continue;
      }
      specs.push({ type: 'bind', source: file, target: m.target, readonly: true });
    } else {
      const source = m.source ?? '/';
      const host = m.from === undefined
        ? await c.backend.dirFs(c.o.contextDir).resolve(source)
        : await holdImagePath(c, fromImages[fromIdx++] ?? null, source, holds);
      specs.push({ type: 'bind', source: host, target: m.target, readonly: m.readonly });
    }
  }
  return specs;
}

/** Mounts an image's root, resolves `source` in it and keeps it mounted until the hold is released. */
async function holdImagePath(c: StepContext, img: string | null, source: string, holds: Array<() => Promise<void>>): Promise<string> {
  let release!: () => void;
  const released = new Promise<void>((res) => { release = res; });
  let ready!: (p: string) => void;
  let fail!: (e: unknown) => void;
  const host = new Promise<string>((res, rej) => { ready = res; fail = rej; });
  const done = c.backend.withImageRoot(img, async (fs) => {
    ready(await fs.resolve(source));
    await released;
  }).catch((err: unknown) => fail(err));
  holds.push(async () => { release(); await done; });
  return host;
}

/**
 * COPY --chown: `user[:group]`, names looked up in the image's /etc/passwd and /etc/group. Without
 * a group the GID is the same number as the UID (Docker's documented rule).
 */
async function chownOf(spec: string, fs: BuildRootFs): Promise<{ uid: number; gid: number }> {
  const passwd = await fs.readText('/etc/passwd');
  const group = await fs.readText('/etc/group');
  const r = resolveUser(spec, passwd, group);
  return { uid: r.uid, gid: spec.includes(':') ? r.gid : r.uid };
}

async function copyInstruction(c: StepContext, s: StageState, ins: Extract<Instruction, { kind: 'COPY' | 'ADD' }>): Promise<boolean> {
  const scope = scopeOf(s);
  const flag = (n: string) => ins.flags.find((f) => f.name === n)?.value;
  const from = flag('from');
  const chown = flag('chown') !== undefined ? c.expand(flag('chown')!, scope) : undefined;
  const chmodText = flag('chmod');
  const chmod = chmodText !== undefined ? Number.parseInt(c.expand(chmodText, scope), 8) : undefined;
  if (chmod !== undefined && (Number.isNaN(chmod) || chmod > 0o7777)) throw new EngineError('InvalidParameter', `invalid chmod parameter: ${chmodText}`);
  let dest = c.expand(ins.dest, scope);
  const wd = configOf(s).WorkingDir || '/';
  const dirDest = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
  dest = posix.resolve(wd, dest);
  const fromImage = from !== undefined ? await c.resolveFrom(c.expand(from, scope)) : undefined;
  // Heredoc sources become files in the build's temp dir.
  const heredocDir = join(c.o.tmpDir, `heredoc-${c.vertex.replace(':', '-')}`);
  const heredocNames = new Set(ins.heredocs.map((h) => h.name));
  if (ins.heredocs.length > 0) {
    await mkdir(heredocDir, { recursive: true });
    for (const h of ins.heredocs) await writeFile(join(heredocDir, h.name), h.quoted ? h.content : c.expand(h.content, scope, { heredoc: true }));
  }
  const sources = ins.sources.map((w) => (heredocNames.has(w) ? w : c.expand(w, scope)));
  const run = async (srcFs: BuildRootFs): Promise<boolean> => {
    const plan: CopyPlan = await copySources({
      kind: ins.kind, sources, heredocs: heredocNames, heredocFs: c.backend.dirFs(heredocDir), srcFs, fromImage: fromImage !== undefined,
      tmpDir: c.o.tmpDir, download: (url) => c.backend.download(url, c.o.tmpDir, c.signal),
      dirFs: (dir) => c.backend.dirFs(dir),
      ...(fromImage === undefined && c.o.contextDigests ? { known: c.o.contextDigests } : {}),
    });
    const createdBy = copyCreatedBy(shellForHistory(s), { kind: ins.kind, ...(chown ? { chown } : {}), srcHash: plan.srcHash, dest: ins.dest });
    const key = cacheKey(s.imageId, { createdBy, sum: plan.checksum, dest, dirDest, chown, chmod, fromImage, config: configOf(s) });
    if (await probe(c, s, key, createdBy)) return true;
    const parent = s.imageId;
    s.imageId = await c.backend.mutate(s.imageId, async (root) => {
      const owner = chown !== undefined ? await chownOf(chown, root) : { uid: 0, gid: 0 };
      await plan.apply(root, { dest, dirDest, owner, ...(chmod !== undefined ? { chmod } : {}) });
    }, (diffId) => nextBlob(s, { created_by: createdBy }, diffId), c.signal);
    s.blob = await c.backend.imageConfig(s.imageId);
    c.backend.cachePut(key, s.imageId, parent);
    return false;
  };
  if (fromImage !== undefined) return c.backend.withImageRoot(fromImage, run);
  return run(c.backend.dirFs(c.o.contextDir));
}

async function workdirInstruction(c: StepContext, s: StageState, ins: Extract<Instruction, { kind: 'WORKDIR' }>): Promise<boolean> {
  const cfg = configOf(s);
  const dir = posix.resolve(cfg.WorkingDir || '/', c.expand(ins.path, scopeOf(s)));
  cfg.WorkingDir = dir;
  const createdBy = workdirCreatedBy(shellForHistory(s), dir);
  const key = cacheKey(s.imageId, { createdBy, config: cfg });
  if (await probe(c, s, key, createdBy)) return true;
  const parent = s.imageId;
  const exists = await c.backend.withImageRoot(s.imageId, async (fs) => (await fs.stat(dir))?.isDir ?? false);
  if (exists) {
    const blob = nextBlob(s, { created_by: createdBy, empty_layer: true });
    s.imageId = await c.backend.storeConfig(blob);
  } else {
    s.imageId = await c.backend.mutate(s.imageId, (fs) => fs.mkdirp(dir), (diffId) => nextBlob(s, { created_by: createdBy }, diffId), c.signal);
  }
  s.blob = await c.backend.imageConfig(s.imageId);
  c.backend.cachePut(key, s.imageId, parent);
  return false;
}

