import {
  chmodSync, closeSync, constants, createReadStream, fchmodSync, futimesSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync,
  readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, type Stats, utimesSync, writevSync,
} from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/**
 * The client side of `cp`, as docker's CLI does it (moby/go-archive copy.go): where a copy lands
 * and under which name, local tar creation and careful local extraction. Messages are docker's.
 */

/** What is known about one end of a copy. */
export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  /** The name the source's entries take instead of its base name (symlinks followed with -L). */
  rebaseName: string;
}

export const hasTrailingSep = (p: string): boolean => p.endsWith('/');
export const specifiesCurrentDir = (p: string): boolean => posix.basename(p) === '.' || p === '.';

/** A cleaned path that keeps a trailing "/" or "/." of the original (they mean "directory" and "its contents"). */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) out = `${hasTrailingSep(out) ? out : `${out}/`}.`;
  if (!hasTrailingSep(out) && hasTrailingSep(original)) out += '/';
  return out;
}

/** go-archive SplitPathDirEntry: "/a/b/" → ["/a", "b"], "/a/." → ["/a", "."]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = posix.normalize(p);
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '');
  if (specifiesCurrentDir(p)) cleaned = `${cleaned}/.`;
  return [posix.dirname(cleaned), posix.basename(cleaned) || '/'];
}

/** go-archive GetRebaseName: the resolved path with the original's trailing "/" or "/.", and the original base when they differ. */
export function getRebaseName(path: string, resolved: string): [string, string] {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSep(path) && !hasTrailingSep(r)) r += '/';
  const base = (p: string) => posix.basename(p.replace(/\/+$/, '') || '/');
  return [r, base(path) !== base(r) ? base(path) : ''];
}

/** An absolute local path for a user argument, trailing "/" and "/." kept. */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(resolve(p), p);
}

/** A function renaming entry names that start with oldBase to start with newBase. */
export function nameRebaser(oldBase: string, newBase: string): (name: string) => string {
  const o = oldBase.replace(/\/+$/, '');
  const n = newBase.replace(/\/+$/, '');
  if (o === '') return (name) => (n === '' ? name.replace(/^\/+/, '') : `${n}/${name.replace(/^\/+/, '')}`);
  return (name) => {
    if (!name.startsWith(o)) return name;
    const suffix = name.slice(o.length);
    if (suffix !== '' && !suffix.startsWith('/')) return name;
    return n + suffix;
  };
}

export class CopyError extends Error {}

/**
 * go-archive PrepareArchiveCopy: the directory to extract into and how to rename the source's
 * entries so that the copy lands where `cp` semantics say.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  if (!dst.exists && !src.isDir && (hasTrailingSep(dst.path) || specifiesCurrentDir(dst.path))) throw new CopyError('no such directory');
  return { dstDir, rebase: [srcBase, dstBase] };
}

/** go-archive CopyInfoDestinationPath: a local destination, symlinks followed (10 at most). */
export async function localDestinationInfo(path: string): Promise<CopyInfo> {
  let p = path;
  let st = await lstat(p).catch(() => null);
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new CopyError(`too many symlinks in ${path}`);
    const target = await readlink(p);
    p = target.startsWith('/') ? target : posix.join(splitPathDirEntry(p)[0], target);
    st = await lstat(p).catch(() => null);
  }
  if (!st) {
    const [parent] = splitPathDirEntry(p);
    const ps = await stat(parent).catch(() => {
      throw new CopyError(`stat ${parent}: no such file or directory`);
    });
    if (!ps.isDirectory()) throw new CopyError('not a directory');
    return { path: p, exists: false, isDir: false, rebaseName: '' };
  }
  return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
}

/** go-archive CopyInfoSourcePath: a local source, the last symlink followed with -L. */
export async function localSourceInfo(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  const missing = (p: string) => new CopyError(`lstat ${p}: no such file or directory`);
  if (followLink) {
    const real = await realpath(path).catch(() => { throw missing(path); });
    [resolved, rebaseName] = getRebaseName(path, real);
  } else {
    const slash = path.lastIndexOf('/', hasTrailingSep(path) ? path.length - 2 : path.length);
    const dir = path.slice(0, slash + 1) || '/';
    const base = path.slice(slash + 1);
    const realDir = await realpath(dir).catch(() => { throw missing(dir); });
    resolved = `${realDir === '/' ? '' : realDir}/${base}`;
    if (hasTrailingSep(path) && posix.basename(path) !== posix.basename(resolved)) rebaseName = posix.basename(path);
  }
  const st = await lstat(resolved).catch(() => { throw missing(resolved); });
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** Files below this size are read, or written, in one call; larger ones are streamed. */
const WHOLE_FILE_MAX = 1024 * 1024;

/**
 * A tar of a local file or directory, entries named `name`, `name/child`... (TarResourceRebase).
 * Symlinks are archived as symlinks; hardlinked files once, then as links. Metadata and small
 * files are read synchronously (the CLI does nothing else meanwhile); each entry waits for the
 * pack to take it, so a slow reader holds the walk back.
 */
export function localTar(path: string, name: string): Readable {
  const pack = tar.pack();
  const seen = new Map<string, string>();
  const add = async (abs: string, entryName: string): Promise<void> => {
    const st = lstatSync(abs);
    const base = { name: entryName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) {
      await entry(pack, { ...base, name: `${entryName}/`, type: 'directory' });
      for (const child of readdirSync(abs).sort()) await add(`${abs}/${child}`, `${entryName}/${child}`);
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...base, type: 'symlink', linkname: readlinkSync(abs) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? seen.get(key) : undefined;
      if (first) {
        await entry(pack, { ...base, type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1) seen.set(key, entryName);
      if (st.size < WHOLE_FILE_MAX) {
        const data = readFileSync(abs);
        // The size the archive says is the size read (a file growing meanwhile is cut at lstat's size, as tar does).
        await entry(pack, { ...base, type: 'file', size: Math.min(data.length, st.size) }, data.length > st.size ? data.subarray(0, st.size) : data);
      } else {
        await fileEntry(pack, { ...base, type: 'file', size: st.size }, abs);
      }
    }
    // Devices, fifos and sockets are left out (berth's client runs unprivileged as often as not).
  };
  add(path, name).then(() => pack.finalize(), (err: unknown) => pack.destroy(err as Error));
  // A streamx readable: it pipes into the request as a Node stream does, without a per-chunk async step.
  return pack as unknown as Readable;
}

type PackHeader = Partial<tar.Header> & { name: string };

function entry(pack: tar.Pack, header: PackHeader, data?: Buffer): Promise<void> {
  return new Promise((res, rej) => {
    const done = (err?: Error | null) => (err ? rej(err) : res());
    if (data) pack.entry(header as tar.Header, data, done);
    else pack.entry(header as tar.Header, done);
  });
}

function fileEntry(pack: tar.Pack, header: PackHeader, abs: string): Promise<void> {
  return new Promise((res, rej) => {
    const sink = pack.entry(header as tar.Header, (err) => (err ? rej(err) : res()));
    const src = createReadStream(abs, { highWaterMark: WHOLE_FILE_MAX, end: (header.size ?? 0) - 1 });
    src.once('error', rej);
    src.pipe(sink);
  });
}

/** Lexically cleaned relative name; null when ".." would climb above the root. */
function cleanName(name: string): string | null {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(c);
  }
  return out.join('/');
}

/**
 * Extracts a tar from the daemon into local directory `dest` (go-archive Untar with NoLchown and
 * NoOverwriteDirNonDir). The archive is not trusted: names and links that climb out of `dest` are
 * refused, and nothing is written through a symlink (a stricter rule than go-archive's).
 *
 * File system calls are synchronous (the CLI does nothing else meanwhile: a thread-pool round trip
 * per call was most of the time for many small files). Directories already found to be real
 * directories, or made here, are remembered: the archive cannot turn them into anything else, as
 * replacing a directory by a non-directory is refused.
 */
export async function extractLocal(input: Readable, dest: string, rename: (name: string) => string = (n) => n): Promise<void> {
  const extract = tar.extract();
  input.pipe(extract);
  input.once('error', (e) => extract.destroy(e));
  const dirTimes: [string, Date][] = [];
  const q = (s: string) => JSON.stringify(s);
  const root = dest.replace(/\/+$/, '');
  const dirs = new Set<string>();
  const isRealDir = (p: string): boolean => {
    if (dirs.has(p)) return true;
    if (!lstatOrNull(p)?.isDirectory()) return false;
    dirs.add(p);
    return true;
  };
  for await (const e of extract) {
    const h = e.header;
    const name = rename(h.name);
    const rel = cleanName(name);
    if (rel === null) throw new CopyError(`${q(name)} is outside of ${q(dest)}`);
    const abs = rel === '' ? dest : `${root}/${rel}`;
    const parts = rel.split('/').filter(Boolean);
    let parent = root;
    for (const p of parts.slice(0, -1)) {
      parent = `${parent}/${p}`;
      if (dirs.has(parent)) continue;
      const st = lstatOrNull(parent);
      if (!st) mkdirSync(parent, { mode: 0o755 });
      else if (!st.isDirectory()) throw new CopyError(`refusing to write through ${q(parent)}: not a directory`);
      dirs.add(parent);
    }
    const existing: Stats | null = rel === '' ? null : lstatOrNull(abs);
    const isDirEntry = h.type === 'directory';
    if (existing) {
      if (existing.isDirectory() && !isDirEntry) throw new CopyError(`cannot overwrite directory ${q(abs)} with non-directory ${q(dest)}`);
      if (!existing.isDirectory() && isDirEntry) throw new CopyError(`cannot overwrite non-directory ${q(abs)} with directory ${q(dest)}`);
      if (!isDirEntry) rmSync(abs, { recursive: true, force: true });
    }
    const mtime = h.mtime ?? new Date();
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        if (rel !== '' && !existing) mkdirSync(abs, { mode: 0o700 });
        chmodSync(abs, mode);
        if (rel !== '') dirs.add(abs);
        dirTimes.push([abs, mtime]);
        break;
      case 'file': case 'contiguous-file':
        await writeEntry(e, abs, mode, mtime);
        continue;
      case 'symlink': {
        const target = h.linkname ?? '';
        const depth = parts.length - 1;
        if (!target.startsWith('/') && cleanName(`${'x/'.repeat(depth)}${target}`) === null) throw new CopyError(`invalid symlink ${q(abs)} -> ${q(target)}`);
        symlinkSync(target, abs);
        try { lutimesSync(abs, mtime, mtime); } catch { /* as docker: best effort */ }
        break;
      }
      case 'link': {
        const target = cleanName(rename(h.linkname ?? ''));
        if (target === null || target === '') throw new CopyError(`invalid hardlink ${q(h.linkname ?? '')} -> ${q(name)}`);
        // Reached without symlinks too: a link made earlier in the archive must not lead outside.
        let dir = root;
        for (const p of target.split('/').slice(0, -1)) {
          dir = `${dir}/${p}`;
          if (!isRealDir(dir)) throw new CopyError(`invalid hardlink ${q(h.linkname ?? '')} -> ${q(name)}`);
        }
        linkSync(`${root}/${target}`, abs);
        break;
      }
      default:
        break; // devices and fifos: not made by the client
    }
    for await (const _ of e) void _;
  }
  for (const [d, t] of dirTimes.reverse()) {
    try { utimesSync(d, t, t); } catch { /* best effort */ }
  }
}

function lstatOrNull(p: string): Stats | null {
  return lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/**
 * One regular file of the archive, created new (never through a symlink). Its bytes are gathered
 * and written with one writev per WHOLE_FILE_MAX, so a small file costs open, write, chmod,
 * utimes and close, all synchronous.
 */
async function writeEntry(body: AsyncIterable<unknown>, abs: string, mode: number, mtime: Date): Promise<void> {
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    let pending: Buffer[] = [];
    let size = 0;
    const flush = () => {
      let bufs = pending;
      while (bufs.length > 0) {
        let n = writevSync(fd, bufs);
        // Short writes: drop what was written and go on with the rest.
        let i = 0;
        while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
        bufs = bufs.slice(i);
        if (n > 0 && bufs[0]) bufs[0] = bufs[0].subarray(n);
      }
      pending = [];
      size = 0;
    };
    for await (const chunk of body) {
      const b = chunk as Buffer;
      pending.push(b);
      size += b.length;
      if (size >= WHOLE_FILE_MAX || pending.length >= 1024) flush();
    }
    flush();
    fchmodSync(fd, mode);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}
