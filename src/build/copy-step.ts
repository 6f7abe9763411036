import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod as chmodPath, lstat, open, readdir } from 'node:fs/promises';
import { posix, dirname, basename } from 'node:path';
import { Readable } from 'node:stream';
import { decompress } from '../image/index.ts';
import { EngineError } from '../lib/errors.ts';
import type { BuildRootFs } from './backend.ts';
import { matchSource, treeChecksum, type KnownDigests } from './copy-sources.ts';

export interface CopyInput {
  kind: 'COPY' | 'ADD';
  /** Expanded sources as written (heredoc names kept). */
  sources: string[];
  heredocs: ReadonlySet<string>;
  heredocFs: BuildRootFs;
  srcFs: BuildRootFs;
  fromImage: boolean;
  tmpDir: string;
  download(url: string): Promise<string>;
  dirFs(dir: string): BuildRootFs;
  /** Digests of the context's files, by host path (see treeChecksum). */
  known?: KnownDigests;
}

/** What a COPY/ADD will copy, with its checksums, and how to copy it into a root. */
export interface CopyPlan {
  /** `file:<hex>`, `dir:<hex>` or `multi:<hex>` for history. */
  srcHash: string;
  /** Content checksum of everything copied (the cache key's part). */
  checksum: string;
  apply(root: BuildRootFs, o: { dest: string; dirDest: boolean; owner: { uid: number; gid: number }; chmod?: number }): Promise<void>;
}

interface Item {
  fs: BuildRootFs;
  path: string;
  isDir: boolean;
  /** A local tar (plain or compressed) that ADD unpacks. */
  archive?: 'none' | 'gzip' | 'bzip2' | 'xz';
  sum: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Matches COPY/ADD sources and checksums them. Errors use dockerd's words. */
export async function copySources(i: CopyInput): Promise<CopyPlan> {
  const items: Item[] = [];
  for (const src of i.sources) {
    if (i.heredocs.has(src)) {
      const path = `/${src}`;
      items.push({ fs: i.heredocFs, path, isDir: false, sum: await treeChecksum(await i.heredocFs.resolve(path)) });
      continue;
    }
    if (isUrl(src)) {
      if (i.kind === 'COPY') throw new EngineError('InvalidParameter', "source can't be a URL for COPY");
      const file = await i.download(src);
      const fs = i.dirFs(dirname(file));
      items.push({ fs, path: `/${basename(file)}`, isDir: false, sum: await treeChecksum(file) });
      continue;
    }
    const matched = await matchSource(i.srcFs, src);
    if (matched.length === 0) {
      throw new EngineError('InvalidParameter', i.fromImage
        ? `${i.kind} failed: stat ${src}: file does not exist`
        : `${i.kind} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
    }
    for (const m of matched) {
      const host = await i.srcFs.resolve(m.path);
      const item: Item = { fs: i.srcFs, path: m.path, isDir: m.isDir, sum: await treeChecksum(host, i.known) };
      if (i.kind === 'ADD' && !m.isDir) {
        const a = await archiveKind(host);
        if (a) item.archive = a;
      }
      items.push(item);
    }
  }
  const checksum = createHash('sha256').update(JSON.stringify(items.map((x) => [basename(x.path), x.isDir, x.archive ?? '', x.sum]))).digest('hex');
  const only = items.length === 1 ? items[0]! : undefined;
  const srcHash = only ? `${only.isDir ? 'dir' : 'file'}:${only.sum}` : `multi:${checksum}`;
  return {
    srcHash, checksum,
    apply: async (root, o) => {
      if (items.length > 1 && !o.dirDest) {
        throw new EngineError('InvalidParameter', `When using ${i.kind} with more than one source file, the destination must be a directory and end with a /`);
      }
      const intoDir = o.dirDest || items.length > 1 || !!only?.isDir || !!only?.archive || !!(await root.stat(o.dest))?.isDir;
      const touched: string[] = [];
      if (intoDir) {
        await root.mkdirp(o.dest, o.owner);
        for (const it of items) {
          if (it.archive) {
            await root.extract(o.dest, await unpacked(await it.fs.resolve(it.path), i.tmpDir));
            continue;
          }
          if (it.isDir) {
            await root.extract(o.dest, it.fs.tar(it.path, ''), o.owner);
            for (const n of await it.fs.readdir(it.path)) touched.push(posix.join(o.dest, n));
          } else {
            await root.extract(o.dest, it.fs.tar(it.path, basename(it.path)), o.owner);
            touched.push(posix.join(o.dest, basename(it.path)));
          }
        }
      } else {
        const parent = posix.dirname(o.dest);
        await root.mkdirp(parent, o.owner);
        await root.extract(parent, only!.fs.tar(only!.path, posix.basename(o.dest)), o.owner);
        touched.push(o.dest);
      }
      if (o.chmod !== undefined) for (const p of touched) await chmodTree(await root.resolve(p, { followSymlinks: false }), o.chmod);
    },
  };
}

/** chmod of a copied tree (host path inside the root, already resolved), symlinks left alone. */
async function chmodTree(host: string, mode: number): Promise<void> {
  const st = await lstat(host);
  if (st.isSymbolicLink()) return;
  await chmodPath(host, mode);
  if (st.isDirectory()) for (const n of await readdir(host)) await chmodTree(`${host}/${n}`, mode);
}

/** The compression of a local tar ADD unpacks, or undefined when the file is not a tar. */
export async function archiveKind(host: string): Promise<Item['archive'] | undefined> {
  const fh = await open(host, 'r');
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = (await fh.read(head, 0, 512, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  return undefined;
}

/** A local archive ADD unpacks, decompressed and bounded like every upload (image/inflate-guard.ts). */
function unpacked(host: string, spaceRoot: string): Promise<Readable> {
  return decompress(createReadStream(host), { allowBzip2Xz: true, spaceRoot, what: 'ADD' });
}
