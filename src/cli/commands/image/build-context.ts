import { randomBytes } from 'node:crypto';
import { accessSync, constants, lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { ContextTar, type TarSource } from './build-tar.ts';
import { DockerignoreMatcher, ignoreFileFor, keepBuildFiles, parseDockerignore } from '../../../lib/dockerignore.ts';

/**
 * The client side of a build context, as docker's CLI prepares it (cli/command/image/build and
 * go-archive's TarWithOptions): a local directory walked and streamed as a tar with the
 * .dockerignore rules applied, a tar or a bare Dockerfile from stdin, a Dockerfile from stdin or
 * from outside the context added under a random name, and berth's `--secret` files.
 *
 * Entries are named relative to the context root, owned by 0:0 with no owner names (docker's
 * ChownOpts{0,0}), with their permission bits and modification time; symlinks stay symlinks and
 * hard-linked files are archived once, then as links. Sockets are left out.
 */

/** A context problem docker reports before it sends anything (exit 1, its wording). */
export class ContextError extends Error {}

/**
 * What the walker needs from a .dockerignore matcher (src/build/dockerfile's DockerignoreMatcher
 * satisfies it). Paths are relative to the context root, `/`-separated and cleaned.
 */
export interface IgnoreMatcher {
  /** The path, or one of its parent directories, is excluded (patternmatcher's MatchesOrParentMatches). */
  isExcluded(relPath: string): boolean;
  /** The walker descends into this directory (an excluded one only when an exception may lie below it). */
  shouldWalkInto(relDir: string): boolean;
}

/**
 * Builds a matcher from the text of an ignore file, given the Dockerfile's path in the context
 * (kept in the context whatever the rules say) and whether it comes from stdin instead.
 */
export type IgnoreMatcherFactory = (text: string, relDockerfile: string, dockerfileFromStdin: boolean) => IgnoreMatcher;

const NO_EXCLUDES: IgnoreMatcher = { isExcluded: () => false, shouldWalkInto: () => true };

/** Reserved context directory that carries `--secret` files (src/engine/builds/contract.ts SECRETS_DIR). */
export const SECRETS_DIR = '.berth-build-secrets';

/** A local directory context, resolved as docker does (GetContextFromLocalDir). */
export interface LocalContext {
  /** Absolute context directory, symlinks resolved. */
  dir: string;
  /** The Dockerfile's path relative to `dir` (`/`-separated); starts with `../` when outside. `-` for stdin. */
  relDockerfile: string;
  /** Absolute path of the Dockerfile (symlinks resolved); undefined for `-f -`. */
  dockerfile?: string;
}

const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;
const goErr = (op: string, path: string, err: unknown): string =>
  `${op} ${path}: ${errnoCode(err) === 'ENOENT' ? 'no such file or directory' : errnoCode(err) === 'EACCES' ? 'permission denied' : errnoCode(err) === 'ENOTDIR' ? 'not a directory' : (err as Error).message}`;

/**
 * Resolves PATH and `-f` as docker does: `-f` is relative to the current directory (not to the
 * context); without it `PATH/Dockerfile`, else `PATH/dockerfile` when only that exists.
 * @throws ContextError with docker's "unable to prepare context: …" wording.
 */
export function resolveLocalContext(contextArg: string, dockerfileFlag: string | undefined, cwd = process.cwd()): LocalContext {
  const abs = resolve(cwd, contextArg);
  let dir: string;
  try { dir = realpathSync(abs); } catch (err) {
    throw new ContextError(`unable to prepare context: unable to evaluate symlinks in context path: ${goErr('lstat', abs, err)}`);
  }
  if (!statSync(dir).isDirectory()) throw new ContextError(`unable to prepare context: context must be a directory: ${dir}`);
  if (dockerfileFlag === '-') return { dir, relDockerfile: '-' };
  let df: string;
  if (dockerfileFlag) df = resolve(cwd, dockerfileFlag);
  else {
    df = join(dir, 'Dockerfile');
    if (!lstatSync(df, { throwIfNoEntry: false }) && lstatSync(join(dir, 'dockerfile'), { throwIfNoEntry: false })) df = join(dir, 'dockerfile');
  }
  let real: string;
  try { real = realpathSync(df); } catch (err) {
    throw new ContextError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: ${goErr('lstat', df, err)}`);
  }
  const rel = relative(dir, real).split(sep).join('/');
  return { dir, relDockerfile: rel, dockerfile: real };
}

/** True when a relative Dockerfile path leaves the context. */
export const isOutsideContext = (rel: string): boolean => rel === '..' || rel.startsWith('../') || isAbsolute(rel);

/**
 * The ignore file that applies: `<Dockerfile>.dockerignore` next to the Dockerfile takes precedence
 * over `.dockerignore` at the context root (BuildKit's rule, ignoreFileFor). Returns its path and
 * text, or undefined.
 */
export function findIgnoreFile(ctx: LocalContext): { path: string; text: string } | undefined {
  const exists = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  const path = ctx.dockerfile ? ignoreFileFor(ctx.dockerfile, ctx.dir, exists) : (exists(join(ctx.dir, '.dockerignore')) ? join(ctx.dir, '.dockerignore') : undefined);
  if (path === undefined) return undefined;
  try { return { path, text: readFileSync(path, 'utf8') }; } catch (err) {
    throw new ContextError(`error reading .dockerignore: ${(err as Error).message}`);
  }
}

/**
 * The walker's matcher from an ignore file's text: src/build/dockerfile's .dockerignore rules,
 * with exceptions appended for the Dockerfile and .dockerignore, which are always sent (docker's
 * TrimBuildFilesFromExcludes). A Dockerfile outside the context or from stdin needs no exception.
 * @throws EngineError InvalidParameter for a bad pattern ("syntax error in pattern").
 */
export const dockerignoreMatcher: IgnoreMatcherFactory = (text, relDockerfile, fromStdin) => {
  const added = fromStdin || isOutsideContext(relDockerfile);
  return new DockerignoreMatcher(keepBuildFiles(parseDockerignore(text), added ? '.dockerignore' : relDockerfile, added));
};

/** One file system entry to send. */
export interface PlannedEntry {
  abs: string;
  /** Name in the tar, relative to the context root. */
  name: string;
  st: Stats;
}

/**
 * Walks the context in lexical order and lists what goes into the tar (go-archive's
 * TarWithOptions with docker's ValidateContextDirectory checks folded in). An excluded directory
 * is skipped unless the matcher says an exception may lie below it; it is then walked but not sent
 * itself. The matcher keeps the Dockerfile and .dockerignore (docker's TrimBuildFilesFromExcludes).
 * @throws ContextError "checking context: no permission to read from '<path>'" for an unreadable file.
 */
export function planContext(dir: string, matcher: IgnoreMatcher = NO_EXCLUDES): PlannedEntry[] {
  const out: PlannedEntry[] = [];
  const walk = (absDir: string, relDir: string): void => {
    let names: string[];
    try { names = readdirSync(absDir); } catch (err) {
      if (errnoCode(err) === 'EACCES') throw new ContextError(`checking context: can't stat '${absDir}'`);
      throw err;
    }
    for (const n of names.sort()) {
      const rel = relDir ? `${relDir}/${n}` : n;
      const abs = `${absDir}/${n}`;
      if (rel === SECRETS_DIR) continue; // reserved: the daemon strips it from every context
      let st: Stats;
      try { st = lstatSync(abs); } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue; // gone meanwhile
        throw new ContextError(`checking context: can't stat '${abs}'`);
      }
      if (matcher.isExcluded(rel)) {
        if (st.isDirectory() && matcher.shouldWalkInto(rel)) walk(abs, rel);
        continue;
      }
      if (st.isSocket()) continue;
      if (st.isFile()) {
        try { accessSync(abs, constants.R_OK); } catch {
          throw new ContextError(`checking context: no permission to read from '${abs}'`);
        }
      }
      out.push({ abs, name: rel, st });
      if (st.isDirectory()) walk(abs, rel);
    }
  };
  walk(dir, '');
  return out;
}

/** An entry made up by the client (a Dockerfile from stdin, a rewritten .dockerignore, a secret). */
export interface ExtraFile {
  name: string;
  data: Buffer;
  mode: number;
}

/**
 * Streams the planned entries as a tar, then the extra files (under directories made for them).
 * `replace` swaps the content of a planned regular file (the .dockerignore that must list a random
 * Dockerfile name). See ContextTar: files are read as the consumer asks for more, never all at once.
 */
export function packContext(plan: readonly PlannedEntry[], extras: readonly ExtraFile[] = [], replace: ReadonlyMap<string, Buffer> = new Map()): Readable {
  const sources: TarSource[] = plan.map((e) => {
    const r = e.st.isFile() ? replace.get(e.name) : undefined;
    return { kind: 'fs', abs: e.abs, name: e.name, st: e.st, ...(r ? { replace: r } : {}) };
  });
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
  const dirs = new Set<string>();
  for (const x of extras) {
    const parts = x.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) { dirs.add(d); sources.push({ kind: 'dir', name: d, mode: 0o700, mtime }); }
    }
    sources.push({ kind: 'data', name: x.name, data: x.data, mode: x.mode, mtime });
  }
  return new ContextTar(sources);
}

type PackHeader = Partial<tar.Header> & { name: string };

function entry(pack: tar.Pack, header: PackHeader, data?: Buffer): Promise<void> {
  return new Promise((res, rej) => {
    const done = (err?: Error | null): void => (err ? rej(err) : res());
    if (data) pack.entry(header as tar.Header, data, done);
    else pack.entry(header as tar.Header, done);
  });
}

/** A random Dockerfile name docker uses for a Dockerfile from stdin or outside the context. */
export const randomDockerfileName = (): string => `.dockerfile.${randomBytes(10).toString('hex')}`;

/**
 * The .dockerignore to send when a Dockerfile is added under `randomName`: the original text (or
 * ".dockerignore" when there was none) plus the random name, so the daemon drops it from the
 * context before any COPY sees it (docker's AddDockerfileToBuildContext).
 */
export function dockerignoreWith(original: Buffer | undefined, randomName: string): Buffer {
  return Buffer.concat([original ?? Buffer.from('.dockerignore'), Buffer.from(`\n${randomName}\n`)]);
}

/** What a directory context sends, ready to stream. */
export interface PreparedContext {
  body: Readable;
  /** The `dockerfile` query parameter. */
  dockerfile: string;
  /** Planned entries (for counts in progress output); empty for stdin contexts. */
  entries: number;
}

export interface DirectoryContextOptions {
  /** The `-f` value as given (undefined, a path, or `-`). */
  dockerfileFlag?: string;
  /** Read the whole Dockerfile from stdin (for `-f -`). */
  stdinDockerfile?: () => Promise<Buffer>;
  /** The ignore rules (default: dockerignoreMatcher). */
  matcherFor?: IgnoreMatcherFactory;
  extras?: readonly ExtraFile[];
  cwd?: string;
}

/**
 * A directory context, as `docker build PATH` sends it: the ignore rules applied, the Dockerfile
 * and .dockerignore always included, and a Dockerfile from stdin or from outside the context added
 * under a random name (which the rewritten .dockerignore lists).
 */
export async function directoryContext(contextArg: string, o: DirectoryContextOptions): Promise<PreparedContext> {
  const ctx = resolveLocalContext(contextArg, o.dockerfileFlag, o.cwd);
  const ignore = findIgnoreFile(ctx);
  let matcher = NO_EXCLUDES;
  if (ignore) {
    try { matcher = (o.matcherFor ?? dockerignoreMatcher)(ignore.text, ctx.relDockerfile, ctx.relDockerfile === '-'); } catch (err) {
      throw new ContextError(`checking context: ${(err as Error).message}`);
    }
  }
  let addedDockerfile: Buffer | undefined;
  if (ctx.relDockerfile === '-') addedDockerfile = await o.stdinDockerfile!();
  else if (isOutsideContext(ctx.relDockerfile)) {
    try { addedDockerfile = readFileSync(ctx.dockerfile!); } catch (err) {
      throw new ContextError(`unable to open Dockerfile: ${goErr('open', o.dockerfileFlag ?? ctx.dockerfile!, err)}`);
    }
  }
  const plan = planContext(ctx.dir, matcher);
  const extras: ExtraFile[] = [];
  const replace = new Map<string, Buffer>();
  let dockerfile = ctx.relDockerfile;
  if (addedDockerfile) {
    dockerfile = randomDockerfileName();
    extras.push({ name: dockerfile, data: addedDockerfile, mode: 0o600 });
    const existing = plan.find((e) => e.name === '.dockerignore' && e.st.isFile());
    if (existing) replace.set('.dockerignore', dockerignoreWith(readFileSync(existing.abs), dockerfile));
    else extras.push({ name: '.dockerignore', data: dockerignoreWith(undefined, dockerfile), mode: 0o600 });
  }
  extras.push(...(o.extras ?? []));
  return { body: packContext(plan, extras, replace), dockerfile, entries: plan.length };
}

/** Gzip, bzip2, xz or zstd magic bytes (go-archive compression.Detect). */
export function isCompressed(head: Buffer): 'gzip' | 'bzip2' | 'xz' | 'zstd' | undefined {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  return undefined;
}

/** A valid first tar header (its checksum holds, signed or unsigned), as Go's tar reader requires. */
export function isTarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  const block = head.subarray(0, 512);
  if (block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** An archive (compressed, or a tar), as docker's detectArchiveReader decides from 1024 bytes. */
export const isArchive = (head: Buffer): boolean => isCompressed(head) !== undefined || isTarHeader(head);

/**
 * The first `n` bytes of `input` (fewer at its end) and a stream that still reads from the start:
 * `input` itself with the bytes put back, or a new stream when `input` ended while peeking.
 */
export function peek(input: NodeJS.ReadableStream, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const s = input as Readable;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const finish = (ended: boolean): void => {
      s.off('readable', onReadable); s.off('end', onEnd); s.off('error', onError);
      const head = Buffer.concat(chunks);
      if (ended) resolve({ head, stream: Readable.from(head.length ? [head] : []) });
      else { if (head.length) s.unshift(head); resolve({ head, stream: s }); }
    };
    const onReadable = (): void => {
      let c: Buffer | string | null;
      while ((c = s.read()) !== null) {
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        chunks.push(b);
        len += b.length;
        if (len >= n) { finish(false); return; }
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => { s.off('readable', onReadable); s.off('end', onEnd); reject(err); };
    s.on('readable', onReadable);
    s.once('end', onEnd);
    s.once('error', onError);
  });
}

/** Reads a whole stream. */
export function readStream(input: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    input.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    input.once('end', () => resolve(Buffer.concat(chunks)));
    input.once('error', reject);
  });
}

/** A tar holding one file. */
export function singleFileTar(name: string, data: Buffer, mode = 0o644): Readable {
  return new ContextTar([{ kind: 'data', name, data, mode, mtime: new Date() }]);
}

/**
 * `docker build -` : stdin holds a tar (maybe compressed), which is the context, or a Dockerfile,
 * which becomes a one-file context (docker's GetContextFromReader). `-f NAME` names the Dockerfile
 * inside the tar; with a bare Dockerfile on stdin it is an error.
 * @throws ContextError "unable to prepare context from STDIN: …" as docker words it.
 */
export async function stdinContext(stdin: NodeJS.ReadableStream, dockerfileFlag: string | undefined, extras: readonly ExtraFile[] = []): Promise<PreparedContext> {
  const fail = (m: string): never => { throw new ContextError(`unable to prepare context from STDIN: ${m}`); };
  const { head, stream } = await peek(stdin, 1024);
  if (isArchive(head)) {
    const body = extras.length ? await appendToTar(stream, extras) : stream;
    return { body, dockerfile: dockerfileFlag || 'Dockerfile', entries: 0 };
  }
  if (dockerfileFlag === '-') fail('build context is not an archive');
  if (dockerfileFlag) fail('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
  const text = await readStream(stream);
  if (!extras.length) return { body: singleFileTar('Dockerfile', text), dockerfile: 'Dockerfile', entries: 1 };
  return { body: await appendToTar(singleFileTar('Dockerfile', text), extras), dockerfile: 'Dockerfile', entries: 1 };
}

/**
 * A tar stream with `extras` added at its end (entries of the same name are dropped from the
 * input). A gzip input is unpacked first; bzip2/xz/zstd cannot be rewritten here.
 */
export async function appendToTar(input: Readable, extras: readonly ExtraFile[]): Promise<Readable> {
  const { head, stream } = await peek(input, 6);
  const kind = isCompressed(head);
  if (kind && kind !== 'gzip') throw new ContextError(`a ${kind} context from stdin cannot carry --secret: send it uncompressed or gzipped`);
  const plain: Readable = kind === 'gzip' ? stream.pipe(createGunzip()) : stream;
  const names = new Set(extras.map((x) => x.name.replace(/\/+$/, '')));
  const extract = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  const run = async (): Promise<void> => {
    plain.once('error', (e) => extract.destroy(e));
    plain.pipe(extract as unknown as NodeJS.WritableStream);
    for await (const e of extract) {
      const name = e.header.name.replace(/^\.\//, '').replace(/\/+$/, '');
      if (names.has(name) || name === SECRETS_DIR || name.startsWith(`${SECRETS_DIR}/`)) { e.resume(); continue; }
      await new Promise<void>((res, rej) => {
        const sink = pack.entry(e.header, (err) => (err ? rej(err) : res()));
        e.pipe(sink);
      });
    }
    const now = new Date();
    const dirs = new Set<string>();
    for (const x of extras) {
      const parts = x.name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (dirs.has(d)) continue;
        dirs.add(d);
        await entry(pack, { name: `${d}/`, type: 'directory', mode: 0o700, uid: 0, gid: 0, mtime: now });
      }
      await entry(pack, { name: x.name, type: 'file', mode: x.mode, uid: 0, gid: 0, size: x.data.length, mtime: now }, x.data);
    }
  };
  (pack as unknown as Readable).pipe(out);
  run().then(() => pack.finalize(), (err: unknown) => { out.destroy(err as Error); pack.destroy(err as Error); });
  return out;
}

/** Git and URL contexts: berth has no network to fetch them from. */
export function isRemoteContext(arg: string): boolean {
  return /^(https?|git):\/\//.test(arg) || arg.startsWith('git@') || arg.startsWith('github.com/');
}
