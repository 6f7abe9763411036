import type { Dispatcher } from 'undici';
import type { RegistryAuth } from './contract.ts';
import type { AuthChallenge } from './challenge.ts';
import { RegistryError } from './errors.ts';
import { readBody, responseError, type HttpTransport } from './http.ts';
import { EngineError } from '../../lib/errors.ts';

/** Docker's OAuth client id (registry/auth.go AuthClientID). */
const CLIENT_ID = 'docker';
/** Distribution's minimum token lifetime: shorter or missing expires_in counts as 60 s. */
const MIN_TOKEN_SECONDS = 60;
const TOKEN_BODY_LIMIT = 1024 * 1024;

/** The scope string for a repository: "repository:library/busybox:pull,push". */
export const repositoryScope = (path: string, actions: string) => `repository:${path}:${actions}`;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Authorization for one registry endpoint and one set of credentials, as Docker's
 * challenge manager + token/basic handlers do it: the ping's (or a later 401's) challenge
 * decides the scheme; Bearer tokens come from the realm (GET with basic credentials, or an OAuth2
 * POST with the identity token) and are cached per scope set until they expire; Basic sends the
 * credentials on every request. Anonymous when no credentials are given.
 */
export class Authenticator {
  #challenge: AuthChallenge | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  /** Token fetches in flight per scope set, so parallel blob requests share one. */
  readonly #pending = new Map<string, Promise<CachedToken>>();
  /** A refresh token the token server handed out (login returns it as the identity token). */
  refreshToken: string | undefined;

  constructor(
    private readonly http: HttpTransport,
    private readonly dispatcher: Dispatcher,
    private readonly creds: RegistryAuth | undefined,
  ) {}

  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  get challenge(): AuthChallenge | undefined {
    return this.#challenge;
  }

  /** Takes the challenges of a 401 (ping or later): Bearer is preferred over Basic. Returns false when none applies. */
  useChallenges(challenges: readonly AuthChallenge[]): boolean {
    const pick = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']) ?? challenges.find((c) => c.scheme === 'basic');
    if (!pick) return false;
    this.#challenge = pick;
    return true;
  }

  /** True when the Authorization for `scopes` came from the token server (worth one re-fetch on a 401). */
  canRefresh(): boolean {
    return this.#challenge?.scheme === 'bearer' && !this.creds?.registryToken;
  }

  /** Forgets the cached token for these scopes (after a 401 with it). */
  invalidate(scopes: readonly string[]): void {
    this.#tokens.delete(scopeKey(scopes));
  }

  /** The Authorization header value for a request needing `scopes`, or undefined (anonymous, no challenge). */
  async authorization(scopes: readonly string[], signal?: AbortSignal, offline = false): Promise<string | undefined> {
    const c = this.#challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return basicHeader(this.creds);
    if (this.creds?.registryToken) return `Bearer ${this.creds.registryToken}`;
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    let p = this.#pending.get(key);
    if (!p) {
      p = this.#fetchToken(c, scopes, signal, offline).finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    const t = await p;
    this.#tokens.set(key, t);
    return `Bearer ${t.token}`;
  }

  async #fetchToken(c: AuthChallenge, scopes: readonly string[], signal: AbortSignal | undefined, offline: boolean): Promise<CachedToken> {
    const realm = parseRealm(c.params['realm'] ?? '');
    const service = c.params['service'];
    const refresh = this.creds?.identityToken || this.refreshToken;
    let res;
    if (refresh) {
      // OAuth2 refresh-token grant, as Distribution's fetchTokenWithOAuth does for identity tokens.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: CLIENT_ID });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.http.send({ method: 'POST', url: realm, body: form.toString(), signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' } }, this.dispatcher);
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.append('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (offline) {
        url.searchParams.append('offline_token', 'true');
        url.searchParams.append('client_id', CLIENT_ID);
      }
      const headers: Record<string, string> = {};
      const basic = basicHeader(this.creds);
      if (basic && this.creds?.username) {
        url.searchParams.append('account', this.creds.username);
        headers['authorization'] = basic;
      }
      res = await this.http.send({ method: 'GET', url, headers, signal }, this.dispatcher);
    }
    if (res.status !== 200) {
      throw await responseError(res);
    }
    const body = await readBody(res.body, TOKEN_BODY_LIMIT, () => new EngineError('Unavailable', `token response from ${realm.origin} is too large`));
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown; refresh_token?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new EngineError('Unavailable', `unable to decode token response from ${realm.origin}`, { cause: err });
    }
    const token = typeof parsed.access_token === 'string' && parsed.access_token ? parsed.access_token : parsed.token;
    if (typeof token !== 'string' || !token) {
      throw new RegistryError('Unauthorized', 'authorization server did not include a token in the response', 200, []);
    }
    if (typeof parsed.refresh_token === 'string' && parsed.refresh_token) this.refreshToken = parsed.refresh_token;
    const lifetime = Math.max(MIN_TOKEN_SECONDS, typeof parsed.expires_in === 'number' ? parsed.expires_in : 0);
    const issued = typeof parsed.issued_at === 'string' ? Date.parse(parsed.issued_at) : NaN;
    const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
    // Renew a few seconds early so a token does not expire between check and use.
    return { token, expiresAt: start + lifetime * 1000 - 5_000 };
  }
}

const scopeKey = (scopes: readonly string[]) => [...scopes].sort().join(' ');

function parseRealm(realm: string): URL {
  try {
    const u = new URL(realm);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  } catch {
    // reported below
  }
  throw new EngineError('Unavailable', `invalid token auth challenge realm: ${JSON.stringify(realm)}`);
}

/** "Basic base64(user:pass)" when both are given. */
export function basicHeader(creds: RegistryAuth | undefined): string | undefined {
  if (!creds?.username || !creds.password) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}
