import { lstatSync, mkdirSync } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, isErrno } from '../lib/errors.ts';

/**
 * Path checks shared by everything that writes hostile tar content under a root directory
 * (layer apply, archive spooling). A tar entry name becomes a list of components relative to the
 * root; nothing absolute and nothing that climbs above the root is accepted.
 */

/**
 * The root-relative components of a tar entry name ("./a/b/" → ["a","b"], "." → []).
 * InvalidParameter for an absolute name, a NUL byte, or a ".." that would leave the root.
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw invalid(`invalid tar entry name ${JSON.stringify(name)}: contains NUL`);
  if (name.startsWith('/')) throw invalid(`invalid tar entry name ${JSON.stringify(name)}: absolute path`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw invalid(`invalid tar entry name ${JSON.stringify(name)}: escapes the root`);
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

/**
 * Makes sure every directory on the way to `parts` (excluding the last component) exists under
 * root and is a real directory, never a symlink, so a write to the final component cannot be
 * redirected outside root. Missing directories are created with mode 0755. `verified` caches
 * directories already checked during one extraction; callers drop entries they replace.
 * InvalidParameter when a parent is a symlink or not a directory.
 */
export async function ensureSafeParents(root: string, parts: readonly string[], verified: Set<string>): Promise<void> {
  let rel = '';
  for (let i = 0; i < parts.length - 1; i++) {
    rel = rel === '' ? parts[i]! : `${rel}/${parts[i]!}`;
    if (verified.has(rel)) continue;
    const abs = join(root, rel);
    try {
      const st = await lstat(abs);
      if (st.isSymbolicLink()) throw invalid(`refusing to write through symlink ${rel}`);
      if (!st.isDirectory()) throw invalid(`refusing to write below non-directory ${rel}`);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await mkdir(abs, { mode: 0o755 });
    }
    verified.add(rel);
  }
}

/**
 * ensureSafeParents with synchronous calls: for extractors that do their metadata work on the
 * calling thread (a thread-pool round trip per lstat/mkdir costs more than the call itself).
 */
export function ensureSafeParentsSync(root: string, parts: readonly string[], verified: Set<string>): void {
  let rel = '';
  for (let i = 0; i < parts.length - 1; i++) {
    rel = rel === '' ? parts[i]! : `${rel}/${parts[i]!}`;
    if (verified.has(rel)) continue;
    const abs = join(root, rel);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) mkdirSync(abs, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw invalid(`refusing to write through symlink ${rel}`);
    else if (!st.isDirectory()) throw invalid(`refusing to write below non-directory ${rel}`);
    verified.add(rel);
  }
}

/** Forgets `rel` and everything below it in a `verified` cache (after replacing a directory). */
export function forgetVerified(verified: Set<string>, rel: string): void {
  if (!verified.delete(rel)) return;
  const prefix = `${rel}/`;
  for (const v of verified) if (v.startsWith(prefix)) verified.delete(v);
}
