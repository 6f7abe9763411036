import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { BuildRootFs } from './backend.ts';

/** A source a COPY/ADD matched: its path inside the source root, and whether it is a directory. */
export interface MatchedSource {
  path: string;
  isDir: boolean;
}

const hasMagic = (s: string) => /[*?[\\]/.test(s);

/** Go's filepath.Match for one path segment, as a RegExp. */
export function segmentRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += cls.startsWith('!') ? `[^${cls.slice(1).replace(/\\/g, '\\\\')}]` : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A source path made absolute in its root; `..` cannot climb above it (dockerd clamps the same way). */
export const cleanSource = (p: string): string => posix.normalize(`/${p}`).replace(/\/+$/, '') || '/';

/** The paths a source pattern matches in `fs`, sorted; [] when none. */
export async function matchSource(fs: BuildRootFs, pattern: string): Promise<MatchedSource[]> {
  const clean = cleanSource(pattern);
  if (!hasMagic(clean)) {
    const st = await fs.stat(clean);
    return st ? [{ path: clean, isDir: st.isDir }] : [];
  }
  let paths = ['/'];
  for (const seg of clean.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasMagic(seg)) {
        const p = posix.join(dir, seg);
        if (await fs.stat(p)) next.push(p);
        continue;
      }
      const re = segmentRegExp(seg);
      for (const name of await fs.readdir(dir)) if (re.test(name)) next.push(posix.join(dir, name));
    }
    paths = next;
  }
  const out: MatchedSource[] = [];
  for (const p of paths.sort()) {
    const st = await fs.stat(p);
    if (st) out.push({ path: p, isDir: st.isDir });
  }
  return out;
}

/** Content digests already known by host path (hashed while the context was extracted). */
export type KnownDigests = ReadonlyMap<string, { sha256: string; size: number }>;

/**
 * A content checksum of a file or tree (host path, already resolved in its root): names, types,
 * permission bits, link targets and the sha256 of each file's bytes, never mtimes or owners (the
 * cache must hit after a fresh checkout). Symlinks are not followed. A file whose digest is in
 * `known` with the same size is not read again.
 */
export async function treeChecksum(hostPath: string, known?: KnownDigests): Promise<string> {
  const h = createHash('sha256');
  const visit = async (p: string, rel: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isSymbolicLink()) h.update(`L ${rel} ${await readlink(p)}\0`);
    else if (st.isDirectory()) {
      h.update(`D ${rel} ${(st.mode & 0o7777).toString(8)}\0`);
      for (const name of (await readdir(p)).sort()) await visit(`${p}/${name}`, `${rel}/${name}`);
    } else if (st.isFile()) {
      const k = known?.get(p);
      let digest = k && k.size === st.size ? k.sha256 : undefined;
      if (digest === undefined) {
        const fh = createHash('sha256');
        for await (const chunk of createReadStream(p)) fh.update(chunk as Buffer);
        digest = fh.digest('hex');
      }
      h.update(`F ${rel} ${(st.mode & 0o7777).toString(8)} ${st.size} ${digest}\0`);
    } else h.update(`O ${rel} ${st.mode.toString(8)}\0`);
  };
  await visit(hostPath, '');
  return h.digest('hex');
}
