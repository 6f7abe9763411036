import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { extract as tarExtract } from 'tar-stream';
import { PassThrough, type Readable } from 'node:stream';
import { decompress } from '../../image/index.ts';
import { SECRETS_DIR } from './contract.ts';

/** Extraction into a root through the native helper (chrooted: no entry lands outside `root`). */
export interface ContextExtractor {
  tarIn(root: string, dir: string, input: Readable, opts?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Extracts a build context (the request body) into `dir` and takes the `--secret` files out of
 * it into `secretsDir` (never visible to COPY). Returns secret id → file.
 */
export async function extractContext(x: ContextExtractor, body: Readable, dir: string, secretsDir: string, signal: AbortSignal): Promise<{ secrets: Map<string, string>; digests: Map<string, { sha256: string; size: number }> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // gzip, bzip2 or xz (dockerd accepts all three), bounded like every upload.
  const plain = await decompress(body, { allowBzip2Xz: true, spaceRoot: dir, what: 'build context' });
  // The same bytes go to the helper (extraction) and to a parser that hashes each file, so COPY's
  // checksums need not read the context again.
  const toHelper = new PassThrough({ highWaterMark: 1 << 20 });
  const toHash = new PassThrough({ highWaterMark: 1 << 20 });
  plain.pipe(toHelper);
  plain.pipe(toHash);
  plain.once('error', (err) => { toHelper.destroy(err); toHash.destroy(err); });
  const hashing = hashEntries(toHash, dir);
  try {
    await x.tarIn(dir, '/', toHelper, { signal });
  } catch (err) {
    // Nobody reads the rest: stop both branches and let the body drain.
    plain.unpipe(toHelper);
    plain.unpipe(toHash);
    toHash.destroy();
    plain.resume();
    throw err;
  }
  const digests = await hashing;
  const secrets = new Map<string, string>();
  const shipped = join(dir, SECRETS_DIR);
  const st = await stat(shipped).catch(() => null);
  if (st?.isDirectory()) {
    await rename(shipped, secretsDir);
    for (const name of await readdir(secretsDir)) {
      await chmod(join(secretsDir, name), 0o400);
      secrets.set(name, join(secretsDir, name));
    }
  } else if (st) await rm(shipped, { force: true });
  for (const k of [...digests.keys()]) if (k === shipped || k.startsWith(`${shipped}/`)) digests.delete(k);
  return { secrets, digests };
}

/**
 * sha256 and size of each regular file in a tar, by the host path it is extracted to. A path that
 * a later entry turns into something else (or a hard link) is dropped: its checksum is then read
 * from disk. A parse error leaves the map as it is (the helper reports bad archives).
 */
async function hashEntries(input: Readable, dir: string): Promise<Map<string, { sha256: string; size: number }>> {
  const out = new Map<string, { sha256: string; size: number }>();
  const ex = tarExtract();
  ex.on('entry', (header, stream, next) => {
    const rel = posix.normalize(`/${header.name}`).replace(/\/+$/, '');
    const key = `${dir}${rel}`;
    if (header.type !== 'file') {
      out.delete(key);
      stream.resume();
      stream.once('end', next);
      return;
    }
    const h = createHash('sha256');
    let size = 0;
    stream.on('data', (c: unknown) => { h.update(c as Buffer); size += (c as Buffer).length; });
    stream.once('end', () => { out.set(key, { sha256: h.digest('hex'), size }); next(); });
  });
  await new Promise<void>((res) => {
    ex.once('finish', res);
    ex.once('error', () => { input.resume(); res(); });
    input.once('error', () => res());
    input.once('close', () => res());
    input.pipe(ex);
  });
  return out;
}
