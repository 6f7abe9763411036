import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { EngineError } from '../../lib/errors.ts';
import type { Endpoint } from './endpoints.ts';
import { parseWwwAuthenticate } from './challenge.ts';
import { canceledError, errorCode, errorFromResponse, networkError, TRANSIENT_CODES, type RegistryError } from './errors.ts';

/** The logging the client does (pino's Logger satisfies it). */
export interface RegistryLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Knobs of the HTTP layer; the defaults suit a daemon, tests shorten the back-off. */
export interface HttpTransportOptions {
  /** Attempts per request for transient failures (default 4). */
  retries?: number;
  /** First back-off delay in ms, doubled per attempt (default 200). */
  backoffMs?: number;
  /** Longest wait honoured from a Retry-After header, in ms (default 30 s). */
  maxRetryAfterMs?: number;
  /** Docker's per-registry certificate directory (default /etc/docker/certs.d; "" disables it). */
  certsDir?: string;
  /** PEM bundle added to the system roots when a certs.d CA is in use (the daemon's NODE_EXTRA_CA_CERTS). */
  extraCaFile?: string;
  logger?: RegistryLogger;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  signal?: AbortSignal | undefined;
  /** Origin ("https://host:port") that may see the Authorization header; redirects elsewhere drop it. */
  authOrigin?: string;
  /** Follow 30x (GET/HEAD only; default true for those). */
  followRedirects?: boolean;
  /** Retry transient failures (default: true unless the body is a stream). */
  retry?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

/** First value of a response header. */
export function header(res: { headers: HttpResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const USER_AGENT = 'berth (registry client)';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/**
 * Pooled keep-alive HTTP(S) for registry traffic: one undici Agent for verified TLS, one that
 * accepts any certificate (insecure registries only), and one per certs.d directory. Retries
 * transient failures (connection reset, timeouts, 5xx, 429) with exponential back-off and follows
 * redirects itself so Authorization never reaches another origin. Connection refused and DNS
 * failures are not retried: a registry that is down is reported at once. `close()` ends the pools.
 */
export class HttpTransport {
  readonly retries: number;
  readonly #backoffMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #certsDir: string;
  readonly #extraCaFile: string | undefined;
  readonly logger: RegistryLogger | undefined;
  readonly #agents = new Map<string, Agent>();
  /** Endpoint base that answered last, per group of alternatives (HTTPS or HTTP for an insecure registry). */
  readonly reachable = new Map<string, string>();

  constructor(opts: HttpTransportOptions = {}) {
    this.retries = Math.max(1, opts.retries ?? 4);
    this.#backoffMs = opts.backoffMs ?? 200;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
    this.#certsDir = opts.certsDir ?? '/etc/docker/certs.d';
    this.#extraCaFile = opts.extraCaFile;
    this.logger = opts.logger;
  }

  /** The pool for an endpoint's TLS settings. */
  dispatcherFor(ep: Pick<Endpoint, 'skipVerify' | 'certsKey' | 'base'>): Dispatcher {
    if (ep.skipVerify) return this.#agent('insecure', () => ({ rejectUnauthorized: false }));
    if (!ep.base.startsWith('https:') || !this.#certsDir) return this.#agent('default', () => ({}));
    const dir = join(this.#certsDir, ep.certsKey);
    if (!existsSync(dir)) return this.#agent('default', () => ({}));
    return this.#agent(`certs:${ep.certsKey}`, () => this.#certsDirTls(dir));
  }

  #agent(key: string, tls: () => Record<string, unknown>): Agent {
    let a = this.#agents.get(key);
    if (!a) {
      a = new Agent({ connect: { timeout: 15_000, ...tls() }, headersTimeout: 120_000, bodyTimeout: 120_000, keepAliveTimeout: 10_000 });
      this.#agents.set(key, a);
    }
    return a;
  }

  /** Docker's certs.d layout: *.crt are CA roots, <name>.cert + <name>.key a client certificate. */
  #certsDirTls(dir: string): Record<string, unknown> {
    const files = readdirSync(dir).sort();
    const cas = files.filter((f) => f.endsWith('.crt')).map((f) => readFileSync(join(dir, f), 'utf8'));
    const tls: Record<string, unknown> = {};
    if (cas.length) {
      const extra = this.#extraCaFile && existsSync(this.#extraCaFile) ? [readFileSync(this.#extraCaFile, 'utf8')] : [];
      tls['ca'] = [...rootCertificates, ...extra, ...cas];
    }
    const cert = files.find((f) => f.endsWith('.cert'));
    const key = cert && files.find((f) => f === cert.replace(/\.cert$/, '.key'));
    if (cert && key) {
      tls['cert'] = readFileSync(join(dir, cert));
      tls['key'] = readFileSync(join(dir, key));
    }
    return tls;
  }

  /** Back-off before attempt `attempt + 1` (1-based), honouring Retry-After when given. */
  async backoff(attempt: number, signal: AbortSignal | undefined, retryAfter?: string): Promise<void> {
    let ms = this.#backoffMs * 2 ** (attempt - 1);
    ms = Math.min(ms, 10_000) * (0.8 + Math.random() * 0.4);
    const ra = retryAfter ? parseRetryAfter(retryAfter) : undefined;
    if (ra !== undefined) ms = Math.min(ra, this.#maxRetryAfterMs);
    try {
      await sleep(ms, undefined, signal ? { signal } : {});
    } catch (err) {
      throw canceledError(err);
    }
  }

  /**
   * Sends one request: retries transient failures (when the body can be replayed), follows
   * redirects for GET/HEAD. Returns any HTTP answer, error statuses included (the caller maps
   * them); throws TransportError (Unavailable) when none came, Canceled when aborted.
   */
  async send(req: HttpRequest, dispatcher: Dispatcher): Promise<HttpResponse> {
    const replayable = !(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body));
    const retry = (req.retry ?? true) && replayable;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.#sendFollowing(req, dispatcher);
      } catch (err) {
        if (req.signal?.aborted) throw canceledError(err);
        if (err instanceof EngineError) throw err;
        const code = errorCode(err);
        if (retry && attempt < this.retries && code && TRANSIENT_CODES.has(code)) {
          this.logger?.debug({ url: req.url.href, code, attempt }, 'registry request failed, retrying');
          await this.backoff(attempt, req.signal);
          continue;
        }
        throw networkError(req.method, req.url, err);
      }
      if (retry && attempt < this.retries && (res.status === 429 || (res.status >= 500 && res.status !== 501 && res.status !== 505))) {
        this.logger?.debug({ url: req.url.href, status: res.status, attempt }, 'registry answered with a retryable status');
        await res.body.dump().catch(() => undefined);
        await this.backoff(attempt, req.signal, header(res, 'retry-after'));
        continue;
      }
      return res;
    }
  }

  async #sendFollowing(req: HttpRequest, dispatcher: Dispatcher): Promise<HttpResponse> {
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      if (req.authOrigin !== undefined && url.origin !== req.authOrigin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      const r = await request(url, {
        method: req.method,
        headers: { 'user-agent': USER_AGENT, ...headers },
        body: req.body ?? null,
        signal: req.signal ?? null,
        dispatcher,
      });
      const res: HttpResponse = { status: r.statusCode, headers: r.headers, body: r.body, url };
      const location = header(res, 'location');
      if (!follow || !REDIRECTS.has(res.status) || !location) return res;
      await r.body.dump().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new EngineError('Unavailable', `${req.method} ${req.url.href}: stopped after ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      this.logger?.debug({ from: res.url.href, to: url.origin + url.pathname }, 'registry redirect');
    }
  }

  /** Ends the connection pools. */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close().catch(() => a.destroy())));
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * Reads a whole response body, refusing more than `limit` bytes (manifests, tokens, error
 * bodies) with `tooLarge` as the error.
 */
export async function readBody(body: AsyncIterable<Buffer | Uint8Array> & { destroy(err?: Error): unknown }, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) {
      const err = tooLarge();
      body.destroy(err);
      throw err;
    }
    chunks.push(Buffer.from(c.buffer, c.byteOffset, c.length));
  }
  return Buffer.concat(chunks);
}

/** Reads an error response's body (capped at 64 KiB) as text. */
export async function readErrorText(res: HttpResponse): Promise<string> {
  try {
    return (await readBody(res.body, 64 * 1024, () => new Error('error body too large'))).toString('utf8');
  } catch {
    return '';
  }
}

/** The RegistryError for an unsuccessful response: its body and any Bearer error in WWW-Authenticate. */
export async function responseError(res: HttpResponse, prefix?: string): Promise<RegistryError> {
  const body = await readErrorText(res);
  return errorFromResponse(res.status, header(res, 'content-type'), body, prefix, parseWwwAuthenticate(res.headers['www-authenticate']));
}
