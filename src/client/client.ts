import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type Socket } from 'node:net';
import { API_VERSION } from '../api/types/index.ts';

/** An error answer from the daemon: its status and Docker-style message. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly status: number, message: string) { super(message); }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** Raw body (a tar, stdin): streamed as is. */
  rawBody?: NodeJS.ReadableStream | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Which daemon to talk to: -H, then BERTH_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env['BERTH_HOST'] || env['DOCKER_HOST'] || 'unix:///run/berth.sock';
}

/**
 * A typed Engine API client over a unix socket. Speaks the versioned paths (/v1.47/...), turns error
 * answers into ApiError, and can hijack a connection for attach/exec.
 */
export class EngineClient {
  readonly socketPath: string;

  constructor(host: string) {
    if (!host.startsWith('unix://')) throw new Error(`unsupported host ${host}: only unix:// is supported`);
    this.socketPath = host.slice('unix://'.length);
  }

  // No HTTP agent: each call is one short connection anyway, and the agent's server-name check
  // costs every CLI process a ~7 ms regex compile.
  readonly #connect = (): Socket => connect(this.socketPath);

  #path(path: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) qs.append(k, x);
      else qs.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const s = qs.toString();
    return `/v${API_VERSION}${path}${s ? `?${s}` : ''}`;
  }

  /** Sends a request and returns the response stream; error statuses become ApiError. */
  async raw(method: string, path: string, o: RequestOptions = {}): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Host: 'api.moby.localhost', ...(o.headers ?? {}) };
    let payload: Buffer | undefined;
    if (o.body !== undefined) {
      payload = Buffer.from(JSON.stringify(o.body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ createConnection: this.#connect, method, path: this.#path(path, o.query), headers, ...(o.signal ? { signal: o.signal } : {}) }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The daemon may refuse a body (a bad tar, a bad --change) and close while we still send it:
        // its answer is on the way, so give it a moment before reporting the broken pipe.
        if (err.code === 'EPIPE' || err.code === 'ECONNRESET') setTimeout(() => reject(connectError(err, this.socketPath)), 500);
        else reject(connectError(err, this.socketPath));
      });
      if (o.rawBody instanceof Buffer) req.end(o.rawBody);
      else if (o.rawBody) (o.rawBody as NodeJS.ReadableStream).pipe(req);
      else req.end(payload);
    });
    if (res.statusCode !== undefined && res.statusCode >= 400) {
      const text = await readAll(res);
      let message = text.toString().trim();
      try { message = (JSON.parse(message) as { message: string }).message; } catch { /* plain text */ }
      throw new ApiError(res.statusCode, message);
    }
    return res;
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, o);
    const text = (await readAll(res)).toString();
    return (text.trim() === '' ? null : JSON.parse(text)) as T;
  }

  /** For 204/304 answers. Returns the status. */
  async call(method: string, path: string, o: RequestOptions = {}): Promise<number> {
    const res = await this.raw(method, path, o);
    res.resume();
    return res.statusCode ?? 0;
  }

  /** Upgrades the connection (attach, exec start) and returns the raw socket. */
  hijack(path: string, o: RequestOptions = {}): Promise<Duplex> {
    const payload = o.body !== undefined ? Buffer.from(JSON.stringify(o.body)) : undefined;
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        createConnection: this.#connect, method: 'POST', path: this.#path(path, o.query),
        headers: { Host: 'api.moby.localhost', Connection: 'Upgrade', Upgrade: 'tcp', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}) },
      });
      req.on('upgrade', (_res, socket, head) => { if (head.length) socket.unshift(head); resolve(socket); });
      req.on('response', (res) => {
        void readAll(res).then((b) => {
          let message = b.toString().trim();
          try { message = (JSON.parse(message) as { message: string }).message; } catch { /* plain */ }
          reject(new ApiError(res.statusCode ?? 500, message));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(connectError(err, this.socketPath)));
      req.end(payload);
    });
  }
}

/** The whole body. Events rather than `for await`: the async iterator costs a CLI process ~5 ms to set up. */
export function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    let ended = false;
    s.on('end', () => { ended = true; resolve(Buffer.concat(chunks)); });
    s.on('error', reject);
    s.on('close', () => { if (!ended) reject(new Error('the daemon closed the connection before the answer was complete')); });
  });
}

function connectError(err: NodeJS.ErrnoException, socket: string): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new Error(`Cannot connect to the Berth daemon at unix://${socket}. Is the berth daemon running?`);
  }
  if (err.code === 'EACCES') return new Error(`permission denied while trying to connect to the Berth daemon socket at unix://${socket}`);
  return err;
}

/** Splits Docker's multiplexed stream into stdout/stderr writes. */
export function demux(onData: (stream: number, data: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      onData(buf[0]!, buf.subarray(8, 8 + size));
      buf = buf.subarray(8 + size);
    }
  };
}
