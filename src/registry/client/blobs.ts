import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import { EngineError, invalid } from '../../lib/errors.ts';
import type { RegistryConnection } from './connection.ts';
import { canceledError, errorCode, networkError, TRANSIENT_CODES } from './errors.ts';
import { header, responseError } from './http.ts';

export interface BlobTarget {
  conn: RegistryConnection;
  /** Repository path ("library/busybox"). */
  path: string;
  scopes: readonly string[];
}

const blobPath = (path: string, digest: string) => `/v2/${path}/blobs/${digest}`;

/**
 * GET a blob from `offset`, following redirects to blob storage (Authorization stays with the
 * registry's origin). 206 answers are checked against the requested start; a 200 to a range
 * request has its first `offset` bytes dropped here. `size` is the blob's total length when the
 * response tells it. The caller verifies the digest.
 */
export async function openBlob(t: BlobTarget, digest: string, offset: number, signal?: AbortSignal): Promise<{ stream: Readable; size: number | undefined }> {
  const headers: Record<string, string> = { accept: '*/*' };
  if (offset > 0) headers['range'] = `bytes=${offset}-`;
  const res = await t.conn.request({ method: 'GET', target: blobPath(t.path, digest), headers, scopes: t.scopes, signal });
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
    if (!m || Number(m[1]) !== offset) {
      await res.body.dump().catch(() => undefined);
      throw new EngineError('Unavailable', `blob ${digest}: registry answered range ${offset}- with ${header(res, 'content-range') ?? 'no Content-Range'}`);
    }
    return { stream: res.body, size: m[3] === '*' ? undefined : Number(m[3]) };
  }
  if (res.status === 416 && offset > 0) {
    // Nothing left to send: the blob is exactly `offset` bytes long.
    const m = /^bytes \*\/(\d+)$/.exec(header(res, 'content-range') ?? '');
    if (m && Number(m[1]) === offset) {
      await res.body.dump().catch(() => undefined);
      return { stream: Readable.from([]), size: offset };
    }
  }
  if (res.status !== 200) {
    throw await responseError(res);
  }
  const len = header(res, 'content-length');
  const size = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
  if (offset === 0) return { stream: res.body, size };
  return { stream: pipeline(res.body, skipBytes(offset), () => undefined), size };
}

/** Drops the first n bytes of a stream (a server that ignored our Range header). */
export function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (left >= chunk.length) {
        left -= chunk.length;
        cb();
        return;
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      cb(null, rest);
    },
    flush(cb) {
      cb(left > 0 ? new EngineError('Unavailable', `blob ended ${left} bytes before the resume offset`) : null);
    },
  });
}

/**
 * The whole blob in memory, checked against the descriptor's size and digest (configs, small
 * blobs). A connection lost part-way resumes with a Range request, up to the transport's retries.
 */
export async function getBlobBytes(t: BlobTarget, desc: { digest: string; size: number }, signal?: AbortSignal): Promise<Buffer> {
  const hash = createHash(desc.digest.startsWith('sha512:') ? 'sha512' : 'sha256');
  const chunks: Buffer[] = [];
  let got = 0;
  for (let attempt = 1; ; attempt++) {
    const { stream } = await openBlob(t, desc.digest, got, signal);
    try {
      for await (const c of stream as AsyncIterable<Buffer>) {
        got += c.length;
        if (got > desc.size) {
          stream.destroy();
          throw invalid(`blob ${desc.digest}: more than the expected ${desc.size} bytes`);
        }
        hash.update(c);
        chunks.push(c);
      }
      break;
    } catch (err) {
      if (signal?.aborted) throw canceledError(err);
      if (err instanceof EngineError) throw err;
      const code = errorCode(err);
      if (attempt >= t.conn.http.retries || !code || !TRANSIENT_CODES.has(code)) {
        throw networkError('GET', t.conn.url(blobPath(t.path, desc.digest)), err);
      }
      await t.conn.http.backoff(attempt, signal);
    }
  }
  if (got !== desc.size) throw invalid(`blob ${desc.digest}: got ${got} bytes, expected ${desc.size}`);
  const actual = `${desc.digest.split(':')[0]}:${hash.digest('hex')}`;
  if (actual !== desc.digest) throw invalid(`blob verification failed: expected ${desc.digest}, got ${actual}`);
  return Buffer.concat(chunks);
}

/** HEAD the blob: true on 200, false on 404, the registry's error otherwise. */
export async function hasBlob(t: BlobTarget, digest: string, signal?: AbortSignal): Promise<boolean> {
  const res = await t.conn.request({ method: 'HEAD', target: blobPath(t.path, digest), scopes: t.scopes, signal });
  if (res.status !== 200 && res.status !== 404) throw await responseError(res);
  await res.body.dump().catch(() => undefined);
  return res.status === 200;
}
