import { STATUS_CODES } from 'node:http';
import { EngineError } from '../../lib/errors.ts';
import { basicHeader } from './auth.ts';
import { RegistryConnection } from './connection.ts';
import type { RegistryAuth, RegistryClientApi, RegistryOptions, RepositoryRef, RepositorySession, SearchResult } from './contract.ts';
import { endpointsFor, searchBases } from './endpoints.ts';
import { RegistryError } from './errors.ts';
import { HttpTransport, type HttpTransportOptions, type RegistryLogger } from './http.ts';
import { searchRegistry } from './search.ts';
import { RegistrySession } from './session.ts';

/** Transport knobs besides RegistryOptions (tests shorten the back-off; the daemon may move certs.d). */
export type RegistryClientTuning = Omit<HttpTransportOptions, 'logger' | 'retries'>;

/**
 * The OCI distribution client (RegistryClientApi) the image engine pulls, pushes, logs in and
 * searches with. Holds pooled keep-alive connections; `close()` ends them. Sessions are cheap and
 * hold their own auth state.
 */
export class RegistryClient implements RegistryClientApi {
  readonly #http: HttpTransport;

  constructor(private readonly options: RegistryOptions, logger?: RegistryLogger, tuning: RegistryClientTuning = {}) {
    const opts: HttpTransportOptions = { ...tuning };
    if (logger) opts.logger = logger;
    if (options.retries !== undefined) opts.retries = options.retries;
    this.#http = new HttpTransport(opts);
  }

  repository(repo: RepositoryRef, auth: RegistryAuth | undefined, actions: 'pull' | 'pull,push'): RepositorySession {
    return new RegistrySession(repo, { http: this.#http, options: this.options, auth, actions });
  }

  /**
   * Docker's loginV2: ping /v2/, then fetch a token with the credentials (offline, so the
   * token server may hand back a refresh token, returned as the identity token) or send Basic,
   * and GET /v2/ with it. Unauthorized, worded as Docker's daemon words it:
   * `Get "https://h/v2/": unauthorized: incorrect username or password` when the token server
   * refuses; `login attempt to https://h/v2/ failed with status: 401 Unauthorized` when the
   * registry does.
   */
  async login(domain: string, auth: RegistryAuth, signal?: AbortSignal): Promise<{ identityToken?: string }> {
    const conn = await RegistryConnection.open(endpointsFor(domain, this.options, false), this.#http, auth, signal);
    const url = conn.url('/v2/');
    const scheme = conn.auth.scheme;
    if (scheme === undefined) return {};
    if (scheme === 'basic' && !basicHeader(auth)) {
      throw new RegistryError('Unauthorized', `Get "${url.href}": unauthorized: authentication required`, 401, []);
    }
    if (scheme === 'bearer') {
      try {
        await conn.auth.authorization([], signal, true);
      } catch (err) {
        if (err instanceof EngineError && !(err instanceof RegistryError) || !(err instanceof Error)) throw err;
        const kind = err instanceof RegistryError && err.kind !== 'Unavailable' ? 'Unauthorized' : 'Unavailable';
        throw new RegistryError(kind, `Get "${url.href}": ${err.message}`, err instanceof RegistryError ? err.status : 0,
          err instanceof RegistryError ? err.errors : [], { cause: err });
      }
    }
    const res = await conn.request({ method: 'GET', target: '/v2/', scopes: [], signal });
    await res.body.dump().catch(() => undefined);
    if (res.status !== 200) {
      const kind = res.status === 401 || res.status === 403 ? 'Unauthorized' : 'Unavailable';
      throw new RegistryError(kind, `login attempt to ${url.href} failed with status: ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd(), res.status, []);
    }
    const identityToken = conn.auth.refreshToken;
    return identityToken ? { identityToken } : {};
  }

  search(domain: string, term: string, limit: number, _auth?: RegistryAuth, signal?: AbortSignal): Promise<SearchResult[]> {
    return searchRegistry(this.#http, domain, searchBases(domain, this.options), term, limit, signal);
  }

  /** Ends the connection pools; sessions must not be used afterwards. */
  close(): Promise<void> {
    return this.#http.close();
  }
}
