import { Transform, type Readable } from 'node:stream';
import { EngineError } from '../../lib/errors.ts';
import { repositoryScope } from './auth.ts';
import { hasBlob, type BlobTarget } from './blobs.ts';
import type { UploadOptions, UploadOutcome } from './contract.ts';
import { canceledError, RegistryError, TRANSIENT_CODES, TransportError } from './errors.ts';
import { header, responseError, type HttpResponse } from './http.ts';

/** Chunk size when the registry refuses a monolithic PUT and none was asked for. */
const FALLBACK_CHUNK = 10 * 1024 * 1024;
/** Statuses of a monolithic PUT that mean "send it in chunks instead"... */
const NO_MONOLITHIC = new Set([400, 405, 413, 415, 416]);
/** ...unless the registry says what was wrong with the bytes themselves. */
const CONTENT_ERRORS = new Set(['DIGEST_INVALID', 'SIZE_INVALID', 'BLOB_UPLOAD_INVALID', 'UNAUTHORIZED', 'DENIED']);

interface Desc {
  digest: string;
  size: number;
}

/**
 * Uploads a blob unless the repository has it: HEAD; then a cross-repository mount when
 * `mountFrom` is given (201 → mounted; 202 → upload into the session it opened; an error → a
 * plain upload); else POST + monolithic PUT ?digest= with the whole body (Content-Length = size),
 * or PATCH chunks with Content-Range + PUT when `chunkSize` is set or the registry refused the
 * monolithic PUT. Transient failures start again from a fresh `open()`, up to the transport's
 * retries. Throws the registry's error (Unauthorized/Forbidden/…), InvalidParameter when the
 * registry's digest differs.
 */
export async function pushBlob(t: BlobTarget, desc: Desc, open: () => Promise<Readable>, opts: UploadOptions = {}): Promise<UploadOutcome> {
  const { signal } = opts;
  if (await hasBlob(t, desc.digest, signal)) return { kind: 'exists' };
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadOnce(t, desc, open, opts);
    } catch (err) {
      if (signal?.aborted) throw canceledError(err);
      const transient = (err instanceof TransportError && !!err.code && TRANSIENT_CODES.has(err.code))
        || (err instanceof RegistryError && (err.status === 429 || err.status >= 500));
      if (!transient || attempt >= t.conn.http.retries) throw err;
      t.conn.http.logger?.debug({ digest: desc.digest, attempt, err: (err as Error).message }, 'blob upload failed, starting again');
      await t.conn.http.backoff(attempt, signal);
    }
  }
}

async function uploadOnce(t: BlobTarget, desc: Desc, open: () => Promise<Readable>, opts: UploadOptions): Promise<UploadOutcome> {
  let location: URL | undefined;
  if (opts.mountFrom && opts.mountFrom !== t.path) {
    const target = `/v2/${t.path}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
    const scopes = [...t.scopes, repositoryScope(opts.mountFrom, 'pull')];
    const res = await t.conn.request({ method: 'POST', target, scopes, signal: opts.signal, headers: { 'content-length': '0' }, body: '' });
    if (res.status === 201) {
      await res.body.dump().catch(() => undefined);
      return { kind: 'mounted', from: opts.mountFrom };
    }
    if (res.status === 202) {
      location = locationOf(res);
      await res.body.dump().catch(() => undefined);
    } else {
      const err = await responseError(res);
      t.conn.http.logger?.debug({ digest: desc.digest, from: opts.mountFrom, err: err.message }, 'cross-repository mount failed, uploading');
    }
  }
  location ??= await startUpload(t, opts.signal);
  if (!opts.chunkSize) {
    try {
      await putMonolithic(t, location, desc, await open(), opts);
      return { kind: 'pushed' };
    } catch (err) {
      if (!(err instanceof RegistryError) || !NO_MONOLITHIC.has(err.status) || CONTENT_ERRORS.has(err.code)) throw err;
      t.conn.http.logger?.debug({ digest: desc.digest, status: err.status }, 'monolithic upload refused, uploading in chunks');
      location = await startUpload(t, opts.signal);
    }
  }
  await putChunked(t, location, desc, await open(), opts.chunkSize || FALLBACK_CHUNK, opts);
  return { kind: 'pushed' };
}

/** POST /v2/<name>/blobs/uploads/ → the upload session's Location. */
async function startUpload(t: BlobTarget, signal?: AbortSignal): Promise<URL> {
  const res = await t.conn.request({ method: 'POST', target: `/v2/${t.path}/blobs/uploads/`, scopes: t.scopes, signal, headers: { 'content-length': '0' }, body: '' });
  if (res.status !== 202) throw await responseError(res);
  await res.body.dump().catch(() => undefined);
  return locationOf(res);
}

/** The Location of an upload response, resolved against the request URL (relative or absolute; query kept). */
export function locationOf(res: HttpResponse): URL {
  const loc = header(res, 'location');
  if (!loc) throw new EngineError('Unavailable', `registry answered ${res.status} to ${res.url.pathname} without a Location`);
  return new URL(loc, res.url);
}

const withDigest = (location: URL, digest: string) => {
  const u = new URL(location);
  u.searchParams.append('digest', digest);
  return u;
};

async function putMonolithic(t: BlobTarget, location: URL, desc: Desc, source: Readable, opts: UploadOptions): Promise<void> {
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      opts.onProgress?.(sent);
      cb(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  try {
    const res = await t.conn.request({
      method: 'PUT', target: withDigest(location, desc.digest), scopes: t.scopes, signal: opts.signal,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: source.pipe(counter),
    });
    await finishPut(res, desc);
  } finally {
    // A registry may answer before reading the body; never leave the source (a file) open.
    source.destroy();
  }
}

async function putChunked(t: BlobTarget, location: URL, desc: Desc, source: Readable, chunkSize: number, opts: UploadOptions): Promise<void> {
  try {
    await sendChunks(t, location, desc, source, chunkSize, opts);
  } finally {
    source.destroy();
  }
}

async function sendChunks(t: BlobTarget, location: URL, desc: Desc, source: Readable, chunkSize: number, opts: UploadOptions): Promise<void> {
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const flush = async () => {
    if (pendingLen === 0) return;
    const chunk = Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    const res = await t.conn.request({
      method: 'PATCH', target: location, scopes: t.scopes, signal: opts.signal, body: chunk,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length),
        'content-range': `${offset}-${offset + chunk.length - 1}`,
      },
    });
    if (res.status !== 202) throw await responseError(res);
    await res.body.dump().catch(() => undefined);
    location = locationOf(res);
    offset += chunk.length;
    opts.onProgress?.(offset);
  };
  for await (const c of source as AsyncIterable<Buffer>) {
    let data = c;
    while (data.length > 0) {
      const take = Math.min(chunkSize - pendingLen, data.length);
      pending.push(data.subarray(0, take));
      pendingLen += take;
      data = data.subarray(take);
      if (pendingLen >= chunkSize) await flush();
    }
  }
  await flush();
  if (offset !== desc.size) throw new EngineError('InvalidParameter', `blob ${desc.digest}: source had ${offset} bytes, expected ${desc.size}`);
  const res = await t.conn.request({
    method: 'PUT', target: withDigest(location, desc.digest), scopes: t.scopes, signal: opts.signal,
    headers: { 'content-length': '0' }, body: '',
  });
  await finishPut(res, desc);
}

async function finishPut(res: HttpResponse, desc: Desc): Promise<void> {
  if (res.status !== 201 && res.status !== 204) throw await responseError(res);
  await res.body.dump().catch(() => undefined);
  const reported = header(res, 'docker-content-digest');
  if (reported && reported !== desc.digest) {
    throw new EngineError('InvalidParameter', `blob upload: registry reports digest ${reported}, expected ${desc.digest}`);
  }
}
