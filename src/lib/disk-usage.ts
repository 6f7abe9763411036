import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from './errors.ts';

/**
 * Bytes used below `path` (lstat sizes of everything but directories, each inode once, so hard
 * links count once); a file counts its own size; a missing path is 0. Symlinks are not followed.
 */
export async function duBytes(path: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const visit = async (p: string): Promise<void> => {
    let s;
    try { s = await lstat(p); } catch (err) {
      if (isErrno(err, 'ENOENT')) return; // gone meanwhile
      throw err;
    }
    if (!seen.has(s.ino)) {
      seen.add(s.ino);
      if (!s.isDirectory()) total += s.size;
    }
    if (!s.isDirectory()) return;
    for (const name of await readdir(p).catch(() => [] as string[])) await visit(join(p, name));
  };
  await visit(path);
  return total;
}
