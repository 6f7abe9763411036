import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { decompress, detectCompression } from '../../image/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { SECRETS_DIR } from './contract.ts';

/** Extraction into a root through the native helper (chrooted: no entry lands outside `root`). */
export interface ContextExtractor {
  tarIn(root: string, dir: string, input: Readable, opts?: { signal?: AbortSignal }): Promise<void>;
}

/** The first bytes of a stream, put back, so the compression can be told. */
async function peek(input: Readable, n: number): Promise<Buffer> {
  for (;;) {
    const chunk = input.read() as Buffer | null;
    if (chunk) {
      input.unshift(chunk);
      if (chunk.length >= n) return chunk;
    }
    const more = await new Promise<boolean>((res) => {
      const done = () => { input.off('readable', go); res(false); };
      const go = () => { input.off('end', done); res(true); };
      input.once('readable', go);
      input.once('end', done);
    });
    if (!more) return (input.read() as Buffer | null) ?? Buffer.alloc(0);
  }
}

/** The plain tar of a context that may be gzip, bzip2 or xz compressed (dockerd accepts all three). */
async function plainTar(body: Readable): Promise<Readable> {
  const kind = detectCompression(await peek(body, 6));
  if (kind === 'bzip2' || kind === 'xz') {
    const child = spawn(kind === 'bzip2' ? 'bzip2' : 'xz', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
    body.pipe(child.stdin);
    const out = new PassThrough();
    child.stdout.pipe(out);
    child.once('exit', (code) => { if (code !== 0) out.destroy(new EngineError('InvalidParameter', `context: ${kind} decompression failed`)); });
    return out;
  }
  return decompress(body);
}

/**
 * Extracts a build context (the request body) into `dir` and takes the `--secret` files out of
 * it into `secretsDir` (never visible to COPY). Returns secret id → file.
 */
export async function extractContext(x: ContextExtractor, body: Readable, dir: string, secretsDir: string, signal: AbortSignal): Promise<Map<string, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await x.tarIn(dir, '/', await plainTar(body), { signal });
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
  return secrets;
}
