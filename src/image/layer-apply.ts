import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalid, isErrno } from '../lib/errors.ts';
import type { WhiteoutEntry } from '../lib/native-helper.ts';
import { HashingCounter } from '../store/blob-store.ts';
import { decompress } from './compression.ts';
import { ensureSafeParents, entryComponents, forgetVerified } from './safe-path.ts';

/** Creates overlay whiteouts (0/0 char devices) and opaque dirs below root: NativeHelper.makeWhiteouts. */
export type MakeWhiteouts = (root: string, entries: readonly WhiteoutEntry[]) => Promise<void>;

export interface ApplyLayerOptions {
  makeWhiteouts: MakeWhiteouts;
  /** Cap on the bytes of regular files written (default 64 GiB). */
  maxBytes?: number;
  /** Cap on the number of tar entries (default 1,000,000). */
  maxEntries?: number;
  signal?: AbortSignal;
}

export interface AppliedLayer {
  /** "sha256:…" of the uncompressed tar stream: the layer's diffID. */
  diffId: string;
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
  const plain = await decompress(input);
  const counter = new HashingCounter();
  const extract = tar.extract();
  const st: ApplyState = { root, opts, verified: new Set(), whiteouts: [], dirTimes: [], bytes: 0, entries: 0, skipped: 0 };
  const consume = async () => {
    for await (const entry of extract) {
      opts.signal?.throwIfAborted();
      await applyEntry(entry, st);
    }
  };
  await Promise.all([pipeline(plain, counter, extract, opts.signal ? { signal: opts.signal } : {}), consume()]).catch((err) => {
    plain.destroy();
    extract.destroy();
    throw err;
  });
  if (st.whiteouts.length > 0) await opts.makeWhiteouts(root, st.whiteouts);
  // Directory times last: creating children (and whiteouts) changed them.
  for (const d of st.dirTimes) await utimes(d.abs, d.mtime, d.mtime);
  return { diffId: counter.digest(), size: st.bytes, entries: st.entries, skipped: st.skipped };
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
    if (h.type === 'directory') await setMeta(st.root, h, true, st);
    return drain(entry);
  }
  await ensureSafeParents(st.root, parts, st.verified);
  const rel = parts.join('/');
  const abs = join(st.root, rel);
  const existing = await lstat(abs).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  });
  if (existing && !(h.type === 'directory' && existing.isDirectory())) {
    await rm(abs, { recursive: true, force: true });
    forgetVerified(st.verified, rel);
  }
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
    case null:
    case undefined:
      return writeFile(entry, abs, st);
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(abs, { mode: 0o700 });
      st.verified.add(rel);
      await setMeta(abs, h, true, st);
      return drain(entry);
    case 'symlink':
      // The target is stored as is: it is resolved in the container, never by us.
      await symlink(h.linkname ?? '', abs);
      await setMeta(abs, h, false, st);
      return drain(entry);
    case 'link':
      await hardlink(st, h.linkname ?? '', abs);
      return drain(entry);
    case 'character-device':
      // An overlay-style whiteout already in the tar (0/0); other devices are skipped.
      if (h.devmajor === 0 && h.devminor === 0) st.whiteouts.push({ kind: 'whiteout', path: checkLine(rel) });
      else st.skipped++;
      return drain(entry);
    default:
      st.skipped++;
      return drain(entry);
  }
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

async function writeFile(entry: TarEntry, abs: string, st: ApplyState): Promise<void> {
  const size = entry.header.size ?? 0;
  st.bytes += size;
  if (st.bytes > (st.opts.maxBytes ?? DEFAULT_MAX_LAYER_BYTES)) throw invalid('layer exceeds the maximum unpacked size');
  // O_EXCL|O_NOFOLLOW: the path was just cleared, so anything there now is not ours to follow.
  const fh = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const data of entry) {
      const chunk = data as Buffer;
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
    }
    await tolerateNonRoot(fh.chown(entry.header.uid ?? 0, entry.header.gid ?? 0));
    // chmod after chown: chown clears setuid/setgid bits.
    await fh.chmod((entry.header.mode ?? 0o644) & 0o7777);
    const mtime = entry.header.mtime ?? new Date(0);
    await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/** Hardlinks must name an existing non-directory inside root, reached without symlinks. */
async function hardlink(st: ApplyState, linkname: string, abs: string): Promise<void> {
  const target = entryComponents(linkname);
  if (target.length === 0) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}`);
  let rel = '';
  for (let i = 0; i < target.length - 1; i++) {
    rel = rel === '' ? target[i]! : `${rel}/${target[i]!}`;
    if (st.verified.has(rel)) continue;
    const s = await lstat(join(st.root, rel)).catch(() => null);
    if (!s || s.isSymbolicLink() || !s.isDirectory()) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}`);
  }
  const targetAbs = join(st.root, ...target);
  const s = await lstat(targetAbs).catch(() => null);
  if (!s || s.isDirectory()) throw invalid(`invalid hardlink target ${JSON.stringify(linkname)}: not a file in the layer`);
  // link(2) does not follow a symlink target, so a link to a symlink stays inside root.
  await link(targetAbs, abs);
}

async function setMeta(abs: string, h: tar.Header, isDir: boolean, st: ApplyState): Promise<void> {
  await tolerateNonRoot(lchown(abs, h.uid ?? 0, h.gid ?? 0));
  const mtime = h.mtime ?? new Date(0);
  if (h.type === 'symlink') {
    await lutimes(abs, mtime, mtime);
    return;
  }
  await chmod(abs, (h.mode ?? 0o755) & 0o7777);
  if (isDir) st.dirTimes.push({ abs, mtime });
}

async function tolerateNonRoot(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (IS_ROOT || !isErrno(err, 'EPERM')) throw err;
  }
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry) void _;
}
