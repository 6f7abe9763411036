import type { Readable } from 'node:stream';
import { EngineError, invalid, kindOf } from '../../lib/errors.ts';
import { repositoryScope } from './auth.ts';
import { getBlobBytes, hasBlob, openBlob, type BlobTarget } from './blobs.ts';
import { RegistryConnection } from './connection.ts';
import type {
  BlobFetchOptions, Descriptor, FetchedManifest, RegistryAuth, RegistryOptions, RepositoryRef, RepositorySession,
  UploadOptions, UploadOutcome,
} from './contract.ts';
import { endpointsFor, type Endpoint } from './endpoints.ts';
import { canceledError, errorCode, networkError, TRANSIENT_CODES } from './errors.ts';
import { header, readBody, responseError, type HttpTransport } from './http.ts';
import { checkManifest, digestOf, isDigestRef, MANIFEST_ACCEPT, MANIFEST_LIMIT } from './manifests.ts';
import { listTags } from './tags.ts';
import { pushBlob } from './uploads.ts';

export interface SessionDeps {
  http: HttpTransport;
  options: RegistryOptions;
  auth: RegistryAuth | undefined;
  actions: 'pull' | 'pull,push';
}

/**
 * RepositorySession over HTTP. Endpoints are pinged lazily, once per session: a pull session on
 * docker.io tries each mirror first and falls back to the next endpoint on any error from it; the
 * origin is reached over HTTPS, or plain HTTP when an insecure registry does not speak TLS.
 * Tokens are cached per scope inside the session's connections.
 */
export class RegistrySession implements RepositorySession {
  readonly #conns = new Map<string, Promise<RegistryConnection>>();
  readonly #scopes: readonly string[];

  constructor(readonly repo: RepositoryRef, private readonly deps: SessionDeps) {
    this.#scopes = [repositoryScope(repo.path, deps.actions)];
  }

  /** Runs `fn` against the first endpoint group that works (mirrors only for pull sessions). */
  async #run<T>(signal: AbortSignal | undefined, fn: (t: BlobTarget) => Promise<T>): Promise<T> {
    const eps = endpointsFor(this.repo.domain, this.deps.options, this.deps.actions === 'pull');
    const groups: Endpoint[][] = [...eps.filter((e) => e.mirror).map((e) => [e]), eps.filter((e) => !e.mirror)];
    for (const group of groups) {
      try {
        const conn = await this.#conn(group, signal);
        return await fn({ conn, path: this.repo.path, scopes: this.#scopes });
      } catch (err) {
        if (!group[0]?.mirror || signal?.aborted || kindOf(err) === 'Canceled') throw err;
        this.deps.http.logger?.warn({ mirror: group[0].base, err: (err as Error).message }, 'registry mirror failed, trying the next endpoint');
      }
    }
    throw new EngineError('Internal', `no endpoint for ${this.repo.domain}`);
  }

  #conn(group: readonly Endpoint[], signal: AbortSignal | undefined): Promise<RegistryConnection> {
    const key = group[0]!.base;
    let p = this.#conns.get(key);
    if (!p) {
      p = RegistryConnection.open(group, this.deps.http, this.deps.auth, signal);
      this.#conns.set(key, p);
      p.catch(() => this.#conns.delete(key));
    }
    return p;
  }

  getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const name = `${this.repo.domain}/${this.repo.path}${isDigestRef(reference) ? '@' : ':'}${reference}`;
    return this.#run(signal, async (t) => {
      const target = `/v2/${t.path}/manifests/${reference}`;
      for (let attempt = 1; ; attempt++) {
        const res = await t.conn.request({ method: 'GET', target, headers: { accept: MANIFEST_ACCEPT }, scopes: t.scopes, signal });
        if (res.status !== 200) throw await responseError(res);
        const tooLarge = () => invalid(`manifest ${name} is larger than ${MANIFEST_LIMIT} bytes`);
        if (Number(header(res, 'content-length') ?? 0) > MANIFEST_LIMIT) {
          await res.body.dump().catch(() => undefined);
          throw tooLarge();
        }
        let bytes: Buffer;
        try {
          bytes = await readBody(res.body, MANIFEST_LIMIT, tooLarge);
        } catch (err) {
          if (err instanceof EngineError) throw err;
          if (signal?.aborted) throw canceledError(err);
          const code = errorCode(err);
          if (attempt >= t.conn.http.retries || !code || !TRANSIENT_CODES.has(code)) throw networkError('GET', t.conn.url(target), err);
          await t.conn.http.backoff(attempt, signal);
          continue;
        }
        return checkManifest({ bytes, contentType: header(res, 'content-type'), reference, headerDigest: header(res, 'docker-content-digest'), name });
      }
    });
  }

  getBlobBytes(desc: Pick<Descriptor, 'digest' | 'size'>, signal?: AbortSignal): Promise<Buffer> {
    return this.#run(signal, (t) => getBlobBytes(t, desc, signal));
  }

  openBlob(digest: string, opts: BlobFetchOptions = {}): Promise<{ stream: Readable; size: number | undefined }> {
    return this.#run(opts.signal, (t) => openBlob(t, digest, opts.offset ?? 0, opts.signal));
  }

  hasBlob(digest: string, signal?: AbortSignal): Promise<boolean> {
    return this.#run(signal, (t) => hasBlob(t, digest, signal));
  }

  pushBlob(desc: Pick<Descriptor, 'digest' | 'size'>, open: () => Promise<Readable>, opts: UploadOptions = {}): Promise<UploadOutcome> {
    return this.#run(opts.signal, (t) => pushBlob(t, desc, open, opts));
  }

  putManifest(reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<string> {
    return this.#run(signal, async (t) => {
      const res = await t.conn.request({
        method: 'PUT', target: `/v2/${t.path}/manifests/${reference}`, scopes: t.scopes, signal, body: bytes,
        headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      });
      if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
        throw await responseError(res);
      }
      await res.body.dump().catch(() => undefined);
      return header(res, 'docker-content-digest') || digestOf(bytes);
    });
  }

  listTags(signal?: AbortSignal): Promise<string[]> {
    return this.#run(signal, (t) => listTags(t, signal));
  }
}
