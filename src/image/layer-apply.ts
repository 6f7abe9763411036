import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalid, isErrno } from '../lib/errors.ts';
import type { WhiteoutEntry } from '../lib/native-helper.ts';
import { HashingCounter } from '../store/blob-store.ts';
import { asInputError, decompress } from './compression.ts';
import type { InflateLimits } from './inflate-guard.ts';
import { ensureSafeParentsSync, entryComponents, forgetVerified } from './safe-path.ts';

/** Creates overlay whiteouts (0/0 char devices) and opaque dirs below root: NativeHelper.makeWhiteouts. */
export type MakeWhiteouts = (root: string, entries: readonly WhiteoutEntry[]) => Promise<void>;

export interface ApplyLayerOptions {
  makeWhiteouts: MakeWhiteouts;
  /** Cap on the bytes of regular files written (default 64 GiB). */
  maxBytes?: number;
  /** Cap on the number of tar entries (default 1,000,000). */
  maxEntries?: number;
  /**
   * false: do not hash the stream (no diffId in the result), for callers whose bytes are verified
   * elsewhere (a blob read by its digest, a verified spool file, a stream the blob store checks).
   */
  hash?: boolean;
  /** Overrides of the decompression bounds (inflate-guard.ts; tests). */
  inflateLimits?: Partial<InflateLimits>;
  signal?: AbortSignal;
}

export interface AppliedLayer {
  /** "sha256:…" of the uncompressed tar stream: the layer's diffID (absent with `hash: false`). */
  diffId?: string;
  /** Bytes of regular files written (hardlinks count once). */
  size: number;
  entries: number;
  /** Entries Node cannot create (device nodes other than whiteouts, fifos, unknown types). */
  skipped: number;
}

export const DEFAULT_MAX_LAYER_BYTES = 64 * 1024 ** 3;
export const DEFAULT_MAX_LAYER_ENTRIES = 1_000_000;
const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';
const IS_ROOT = process.getuid?.() === 0;
/** One entry of tar-stream's extract: header plus a readable of its bytes. */
type TarEntry = tar.ExtractEvents['entry'][1];

interface ApplyState {
  root: string;
  opts: ApplyLayerOptions;
  verified: Set<string>;
  whiteouts: WhiteoutEntry[];
  dirTimes: { abs: string; mtime: Date }[];
  bytes: number;
  entries: number;
  skipped: number;
}

/**
 * Applies one layer tar (plain or gzip; zstd is NotImplemented) onto `root`, an overlay diff
 * directory, streaming: the diffID and size are computed on the way. The input is hostile:
 * names that are absolute or climb out of root, writes through symlinks, hardlinks to outside
 * or through symlinks, and archives over the byte or entry caps are InvalidParameter, and
 * nothing is written outside root. Docker whiteouts (`.wh.name`, `.wh..wh..opq`) become overlay
 * whiteouts through `makeWhiteouts`, called once at the end. On error root is left partly
 * written: the caller unpacks into a temp dir and removes it (see OverlaySnapshotter).
 */
export async function applyLayer(input: Readable, root: string, opts: ApplyLayerOptions): Promise<AppliedLayer> {
  const plain = await decompress(input, { spaceRoot: root, what: 'invalid layer', ...(opts.inflateLimits ? { limits: opts.inflateLimits } : {}) });
  const counter = opts.hash === false ? undefined : new HashingCounter();
  const extract = tar.extract();
  const st: ApplyState = { root, opts, verified: new Set(), whiteouts: [], dirTimes: [], bytes: 0, entries: 0, skipped: 0 };
  const consume = async () => {
    for await (const entry of extract) {
      opts.signal?.throwIfAborted();
      await applyEntry(entry, st);
    }
  };
  const signal = opts.signal ? { signal: opts.signal } : {};
  const piping = counter ? pipeline(plain, counter, extract, signal) : pipeline(plain, extract, signal);
  await Promise.all([piping, consume()]).catch((err) => {
    plain.destroy();
    extract.destroy();
    throw asInputError(err, 'invalid layer');
  });
  if (st.whiteouts.length > 0) await opts.makeWhiteouts(root, st.whiteouts);
  // Directory times last: creating children (and whiteouts) changed them.
  for (const d of st.dirTimes) utimesSync(d.abs, d.mtime, d.mtime);
  return { ...(counter ? { diffId: counter.digest() } : {}), size: st.bytes, entries: st.entries, skipped: st.skipped };
}

async function applyEntry(entry: TarEntry, st: ApplyState): Promise<void> {
  const h = entry.header;
  if (++st.entries > (st.opts.maxEntries ?? DEFAULT_MAX_LAYER_ENTRIES)) throw invalid('layer has too many entries');
  const parts = entryComponents(h.name);
  const base = parts[parts.length - 1] ?? '';
  if (base.startsWith(WH_PREFIX)) {
    addWhiteout(st, parts.slice(0, -1), base);
    return drain(entry);
  }
  if (parts.length === 0) {
    // The layer's "./" entry: metadata for the root directory itself.
    if (h.type === 'directory') setMeta(st.root, h, true, st);
    return drain(entry);
  }
  ensureSafeParentsSync(st.root, parts, st.verified);
  const rel = parts.join('/');
  const abs = join(st.root, rel);
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
    case null:
    case undefined:
      return writeFile(entry, abs, rel, st);
    case 'directory':
      makeDir(abs, rel, st);
      setMeta(abs, h, true, st);
      return drain(entry);
    case 'symlink':
      // The target is stored as is: it is resolved in the container, never by us.
      createReplacing(st, rel, abs, () => symlinkSync(h.linkname ?? '', abs));
      setMeta(abs, h, false, st);
      return drain(entry);
    case 'link':
      createReplacing(st, rel, abs, () => hardlink(st, h.linkname ?? '', abs));
      return drain(entry);
    case 'character-device':
      clearExisting(st, rel, abs);
      // An overlay-style whiteout already in the tar (0/0); other devices are skipped.
      if (h.devmajor === 0 && h.devminor === 0) st.whiteouts.push({ kind: 'whiteout', path: checkLine(rel) });
      else st.skipped++;
      return drain(entry);
    default:
      clearExisting(st, rel, abs);
      st.skipped++;
      return drain(entry);
  }
}

/**
 * Runs `create` (which makes `abs` with O_EXCL semantics); when something is in the way
 * (EEXIST: an earlier entry of the same path), removes it and runs `create` once more. Entries
 * replace what is there, whatever its type, as Docker's extraction does.
 */
function createReplacing<T>(st: ApplyState, rel: string, abs: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  clearExisting(st, rel, abs);
  return create();
}

/** Removes whatever is at `abs` (a symlink itself, never its target) and forgets what was verified below it. */
function clearExisting(st: ApplyState, rel: string, abs: string): void {
  if (lstatSync(abs, { throwIfNoEntry: false }) === undefined) return;
  rmSync(abs, { recursive: true, force: true });
  forgetVerified(st.verified, rel);
}

/** A directory entry: an existing directory (not a symlink to one) is kept, anything else replaced. */
function makeDir(abs: string, rel: string, st: ApplyState): void {
  try {
    mkdirSync(abs, { mode: 0o700 });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    if (!lstatSync(abs).isDirectory()) {
      clearExisting(st, rel, abs);
      mkdirSync(abs, { mode: 0o700 });
    }
  }
  st.verified.add(rel);
}

function addWhiteout(st: ApplyState, parent: string[], base: string): void {
  if (base === WH_OPAQUE) {
    // An opaque root hides nothing an image could have below it; overlay ignores it there.
    if (parent.length > 0) st.whiteouts.push({ kind: 'opaque', path: checkLine(parent.join('/')) });
  } else if (!base.startsWith(`${WH_PREFIX}${WH_PREFIX}`) && base.length > WH_PREFIX.length) {
    // `.wh..wh.*` other than opq is AUFS metadata (hardlink dirs); Docker skips it too.
    st.whiteouts.push({ kind: 'whiteout', path: checkLine([...parent, base.slice(WH_PREFIX.length)].join('/')) });
  }
}

/** The helper reads one path per line. */
function checkLine(rel: string): string {
  if (rel.includes('\n')) throw invalid(`invalid tar entry name ${JSON.stringify(rel)}: contains a newline`);
  return rel;
}

/**
 * A regular file. The metadata calls and the writes are synchronous: a layer has thousands of
 * small files, and a thread-pool round trip for each of the 6-7 calls per file (open, write,
 * chown, chmod, utimes, close) cost several times the calls themselves (3000 files of 62 MiB:
 * 8.2 s with promise calls, see the registry benchmark). Each call is short (page cache), so the
 * event loop is held for at most one chunk's write at a time.
 */
async function writeFile(entry: TarEntry, abs: string, rel: string, st: ApplyState): Promise<void> {
  const size = entry.header.size ?? 0;
  st.bytes += size;
  if (st.bytes > (st.opts.maxBytes ?? DEFAULT_MAX_LAYER_BYTES)) throw invalid('layer exceeds the maximum unpacked size');
  // O_EXCL|O_NOFOLLOW: anything already there (an earlier entry) is removed first, never followed.
  const fd = createReplacing(st, rel, abs, () => openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  try {
    for await (const data of entry) {
      const chunk = data as Buffer;
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
    }
    tolerateNonRoot(() => fchownSync(fd, entry.header.uid ?? 0, entry.header.gid ?? 0));
    // chmod after chown: chown clears setuid/setgid bits.
    fchmodSync(fd, (entry.header.mode ?? 0o644) & 0o7777);
    const mtime = entry.header.mtime ?? new Date(0);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/** Hardlinks must name an existing non-directory inside root, reached without symlinks. */
function hardlink(st: ApplyState, linkname: string, abs: string): void {
  const target = entryComponents(linkname);
  if (target.length === 0) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}`);
  let rel = '';
  for (let i = 0; i < target.length - 1; i++) {
    rel = rel === '' ? target[i]! : `${rel}/${target[i]!}`;
    if (st.verified.has(rel)) continue;
    const s = lstatSync(join(st.root, rel), { throwIfNoEntry: false });
    if (!s || s.isSymbolicLink() || !s.isDirectory()) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}`);
  }
  const targetAbs = join(st.root, ...target);
  const s = lstatSync(targetAbs, { throwIfNoEntry: false });
  if (!s || s.isDirectory()) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}: not a file in the layer`);
  // link(2) does not follow a symlink target, so a link to a symlink stays inside root.
  linkSync(targetAbs, abs);
}

function setMeta(abs: string, h: tar.Header, isDir: boolean, st: ApplyState): void {
  tolerateNonRoot(() => lchownSync(abs, h.uid ?? 0, h.gid ?? 0));
  const mtime = h.mtime ?? new Date(0);
  if (h.type === 'symlink') {
    lutimesSync(abs, mtime, mtime);
    return;
  }
  chmodSync(abs, (h.mode ?? 0o755) & 0o7777);
  if (isDir) st.dirTimes.push({ abs, mtime });
}

function tolerateNonRoot(call: () => void): void {
  try {
    call();
  } catch (err) {
    if (IS_ROOT || !isErrno(err, 'EPERM')) throw err;
  }
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry) void _;
}
