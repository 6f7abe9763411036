import { createServer, ServerResponse, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { unlinkSync, chmodSync, chownSync } from 'node:fs';
import { API_VERSION, MIN_API_VERSION } from './types/index.ts';
import { EngineError, messageForVersion } from '../lib/errors.ts';
import { httpStatusOf } from './http-status.ts';
import { hidePaths, type HiddenPath } from './public-message.ts';
import type { ApiRequest, Reply, Router } from './router.ts';

/** What the server needs to log; pino satisfies it. */
export interface ApiLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ApiServerOptions {
  router: Router;
  log: ApiLogger;
  /** Version string for the Server header and /version. */
  serverVersion: string;
  /**
   * Host directories (the data and exec roots) that error messages must not show: a failure deep in
   * the engine (an fs error, a tool's stderr) names them as `as` instead ("<data-root>/volumes/…").
   */
  hiddenPaths?: readonly HiddenPath[];
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;

/**
 * The Engine API over HTTP/1.1. Owns the wire rules every response follows (DESIGN "API
 * compatibility"): version prefixes, the Api-Version/Ostype/Server headers, error bodies with an
 * exact `application/json` content type, no request timeout (streams run for hours), and hijacked
 * connections for attach and exec, whether or not the client sent `Upgrade: tcp`.
 */
export class ApiServer {
  readonly #http: Server;
  readonly #sockets = new Set<Duplex>();

  constructor(private readonly opts: ApiServerOptions) {
    this.#http = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 5000 });
    this.#http.on('request', (req, res) => void this.#dispatch(req, res));
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new ServerResponse(req);
      void this.#dispatch(req, res, { socket, head });
    });
    this.#http.on('connection', (s: Duplex) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Listens on a unix socket path, replacing a stale socket file. */
  async listenUnix(path: string, mode = 0o660, gid?: number): Promise<void> {
    try { unlinkSync(path); } catch { /* absent */ }
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(path, () => { this.#http.off('error', reject); resolve(); });
    });
    chmodSync(path, mode);
    if (gid !== undefined) chownSync(path, 0, gid);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }

  #commonHeaders(): Record<string, string> {
    return { 'Api-Version': API_VERSION, Ostype: 'linux', Server: `Berth/${this.opts.serverVersion} (linux)` };
  }

  async #dispatch(raw: IncomingMessage, res: ServerResponse, hijack?: { socket: Duplex; head: Buffer }): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://berth');
    let path = url.pathname.replace(/\/+$/, '') || '/';
    let version = API_VERSION;
    const m = VERSION_PREFIX.exec(path);
    if (m) { version = m[1]!; path = m[2]!; }
    const ac = new AbortController();
    // 'close' on the response fires when the client disconnects before we finish.
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    hijack?.socket.on('close', () => ac.abort());
    const log = this.opts.log;
    for (const [k, v] of Object.entries(this.#commonHeaders())) res.setHeader(k, v);
    try {
      if (cmpVersion(version, API_VERSION) > 0) {
        throw new EngineError('InvalidParameter', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      }
      if (cmpVersion(version, MIN_API_VERSION) < 0) {
        throw new EngineError('InvalidParameter', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      const found = this.opts.router.match(raw.method ?? 'GET', path);
      if (found === 'none' || found === 'method') {
        throw new EngineError('NotFound', `page not found`);
      }
      const req: ApiRequest = {
        method: raw.method ?? 'GET', path, params: found.params, query: url.searchParams, headers: raw.headers,
        version, raw, res, signal: ac.signal, ...(hijack ? { hijack } : {}), ...(this.opts.hiddenPaths ? { hiddenPaths: this.opts.hiddenPaths } : {}),
      };
      log.debug({ method: req.method, path: raw.url }, 'request');
      const reply = await found.route.handler(req);
      // A handler may stop reading early (a tar's end blocks come before the client's padding).
      if (!hijack && reply.kind !== 'streamed') await drainBody(raw);
      this.#send(res, reply, raw.method === 'HEAD');
    } catch (err) {
      // Refused before the body was read (a bad query on an upload): drain it, so the client can
      // finish sending and read our answer instead of failing with a broken pipe.
      if (!hijack) await drainBody(raw);
      const status = httpStatusOf(err);
      const message = hidePaths(messageForVersion(err, version), this.opts.hiddenPaths ?? []);
      if (status >= 500) log.error({ err, method: raw.method, path: raw.url }, 'request failed');
      else log.debug({ status, message, path: raw.url }, 'request refused');
      if (hijack && !res.headersSent) {
        // An upgrade request has no ServerResponse wired to the socket: write the answer by hand.
        const body = JSON.stringify({ message });
        hijack.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headerLines(this.#commonHeaders())}\r\n${body}`);
        return;
      }
      if (res.headersSent) {
        // Mid-stream: the stream's own format carries errors; all we can do is end it.
        res.destroy();
        return;
      }
      if (status === 304) { res.writeHead(304).end(); return; }
      const body = JSON.stringify({ message });
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    }
  }

  #send(res: ServerResponse, reply: Reply, head: boolean): void {
    switch (reply.kind) {
      case 'streamed':
        return;
      case 'empty':
        res.writeHead(reply.status).end();
        return;
      case 'json': {
        const body = JSON.stringify(reply.body) + '\n';
        res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(head ? undefined : body);
        return;
      }
      case 'text':
        res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(reply.body) });
        res.end(head ? undefined : reply.body);
    }
  }
}

function headerLines(h: Record<string, string>): string {
  return Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('');
}

/** Compares "1.41" and "1.47" numerically. */
export function cmpVersion(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/**
 * Takes over the connection of an attach or exec-start request (API W9). With `Upgrade: tcp` the
 * answer is `101 UPGRADED` (the Go client refuses anything else); without it, `200 OK` and the raw
 * socket, as dockerd does. Returns the socket; the HTTP layer no longer touches it.
 */
export function hijackConnection(req: ApiRequest, contentType: string): Duplex {
  const upgrade = req.hijack !== undefined;
  const socket = req.hijack?.socket ?? req.raw.socket;
  const headers: Record<string, string> = {
    'Api-Version': API_VERSION, Ostype: 'linux', 'Content-Type': contentType,
  };
  let head: string;
  if (upgrade) head = `HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${headerLines(headers)}\r\n`;
  else {
    // Stop Node's HTTP parser from reading stdin bytes as a new request.
    req.raw.socket.removeAllListeners('data');
    head = `HTTP/1.1 200 OK\r\n${headerLines(headers)}\r\n`;
  }
  socket.write(head);
  if (req.hijack?.head.length) socket.unshift(req.hijack.head);
  return socket;
}

/** Reads and discards what is left of a request body, so the client never writes into a closed socket. */
async function drainBody(raw: import('node:http').IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return;
  raw.resume();
  await new Promise<void>((resolve) => { raw.once('end', resolve); raw.once('close', resolve); });
}
