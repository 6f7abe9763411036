import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RegistryAuth } from './contract.ts';
import { Authenticator } from './auth.ts';
import { parseWwwAuthenticate } from './challenge.ts';
import type { Endpoint } from './endpoints.ts';
import { TransportError } from './errors.ts';
import { responseError, type HttpRequest, type HttpResponse, type HttpTransport } from './http.ts';

export interface ConnRequest {
  method: HttpRequest['method'];
  /** Path below the endpoint ("/v2/library/busybox/manifests/latest") or an absolute URL (upload Location). */
  target: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  /** Token scopes this request needs. */
  scopes: readonly string[];
  signal?: AbortSignal | undefined;
  followRedirects?: boolean;
}

/**
 * One reachable registry endpoint with its authorization state: the result of a successful
 * ping. `request` adds Authorization (never to another origin), re-fetches a token once on a 401
 * and adopts a challenge a registry only reveals on a later 401.
 */
export class RegistryConnection {
  readonly origin: string;

  private constructor(
    readonly endpoint: Endpoint,
    readonly http: HttpTransport,
    readonly dispatcher: Dispatcher,
    readonly auth: Authenticator,
  ) {
    this.origin = new URL(endpoint.base).origin;
  }

  /**
   * Pings the endpoints of one group in order (https, then http for an insecure registry) and
   * returns a connection to the first that answers over HTTP. Throws the last transport error
   * (Unavailable) when none answers, or the registry's error for a 5xx ping.
   */
  static async open(group: readonly Endpoint[], http: HttpTransport, creds: RegistryAuth | undefined, signal?: AbortSignal): Promise<RegistryConnection> {
    let last: unknown;
    // The alternative that answered last time goes first: one ping per session, not two.
    const groupKey = group.map((e) => e.base).join(' ');
    const known = http.reachable.get(groupKey);
    const ordered = known ? [...group.filter((e) => e.base === known), ...group.filter((e) => e.base !== known)] : group;
    for (const ep of ordered) {
      const dispatcher = http.dispatcherFor(ep);
      const url = new URL(`${ep.base}/v2/`);
      let res: HttpResponse;
      try {
        res = await http.send({ method: 'GET', url, signal }, dispatcher);
      } catch (err) {
        last = err;
        if (err instanceof TransportError) {
          http.logger?.debug({ url: url.href, err: err.message }, 'registry ping failed');
          continue;
        }
        throw err;
      }
      const auth = new Authenticator(http, dispatcher, creds);
      if (res.status === 401) auth.useChallenges(parseWwwAuthenticate(res.headers['www-authenticate']));
      if (res.status >= 500) throw await responseError(res, `Get "${url.href}"`);
      await res.body.dump().catch(() => undefined);
      if (group.length > 1) http.reachable.set(groupKey, ep.base);
      return new RegistryConnection(ep, http, dispatcher, auth);
    }
    throw last;
  }

  /** Absolute URL for a path below the endpoint or a Location. */
  url(target: string | URL): URL {
    return typeof target === 'string' ? new URL(this.endpoint.base + target) : target;
  }

  /** Sends with authorization; the caller reads or dumps the body. */
  async request(req: ConnRequest): Promise<HttpResponse> {
    const url = this.url(req.target);
    const replayable = !(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body));
    for (let round = 0; ; round++) {
      const headers: Record<string, string> = { ...req.headers };
      if (url.origin === this.origin) {
        const authz = await this.auth.authorization(req.scopes, req.signal);
        if (authz) headers['authorization'] = authz;
      }
      const sent: HttpRequest = { method: req.method, url, headers, signal: req.signal, authOrigin: this.origin };
      if (req.body !== undefined) sent.body = req.body;
      if (req.followRedirects !== undefined) sent.followRedirects = req.followRedirects;
      const res = await this.http.send(sent, this.dispatcher);
      if (res.status !== 401 || round > 0 || !replayable || url.origin !== this.origin) return res;
      // A challenge we had not seen (the ping needed no auth), or a token the registry no longer takes.
      const hadScheme = this.auth.scheme;
      const adopted = !hadScheme && this.auth.useChallenges(parseWwwAuthenticate(res.headers['www-authenticate']));
      if (!adopted && !this.auth.canRefresh()) return res;
      if (!adopted) this.auth.invalidate(req.scopes);
      await res.body.dump().catch(() => undefined);
    }
  }
}
