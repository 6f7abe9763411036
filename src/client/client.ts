import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { API_VERSION, type JsonMessage } from '../api/types/index.ts';

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

/** The socket berthd listens on by default. */
export const DEFAULT_SOCKET = '/run/berth.sock';

/** Which daemon to talk to: -H, then BERTH_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return daemonHost(flag, env).host;
}

/** The daemon address to use and where it came from (for messages about a host berth cannot use). */
export function daemonHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { host: string; source: string } {
  if (flag) return { host: flag, source: '-H' };
  for (const name of ['BERTH_HOST', 'DOCKER_HOST']) if (env[name]) return { host: env[name]!, source: name };
  return { host: `unix://${DEFAULT_SOCKET}`, source: 'default' };
}

/** A daemon address the client cannot use (`tcp://`, `ssh://`, no scheme): the CLI prints it and exits 1. */
export class HostError extends Error {
  override name = 'HostError';
}

/**
 * The socket path of a `unix://` host (`unix://` alone is the default socket, as docker's is).
 * @throws HostError for any other scheme or a malformed address, naming where the address came from.
 */
export function socketPathOf(host: string, source = '-H'): string {
  const from = source === 'default' ? '' : ` (from ${source})`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(host);
  if (!m) throw new HostError(`invalid daemon host ${JSON.stringify(host)}${from}: expected unix:///path/to/socket`);
  if (m[1]!.toLowerCase() !== 'unix') {
    throw new HostError(`cannot use daemon host ${JSON.stringify(host)}${from}: berth connects to unix:// sockets only (e.g. unix://${DEFAULT_SOCKET})`);
  }
  if (m[2]!.includes('\0')) throw new HostError(`invalid daemon host ${JSON.stringify(host)}${from}: the socket path contains a NUL byte`);
  return m[2] || DEFAULT_SOCKET;
}

/**
 * A typed Engine API client over a unix socket. Speaks the versioned paths (/v1.47/...), turns error
 * answers into ApiError, and can hijack a connection for attach/exec.
 */
export class EngineClient {
  readonly socketPath: string;

  /** @throws HostError when `host` is not a usable unix:// address; `source` names where it came from. */
  constructor(host: string, source?: string) {
    this.socketPath = socketPathOf(host, source);
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

  /**
   * POST /build with `context` (a tar, maybe compressed) as the body. Returns the JSON message
   * stream (read it with jsonMessages); an error found before streaming began is an ApiError.
   */
  build(context: NodeJS.ReadableStream, q: BuildQuery, o: { signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    const json = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));
    const flag = (v: boolean | undefined): true | undefined => (v ? true : undefined);
    return this.raw('POST', '/build', {
      query: {
        t: q.t, dockerfile: q.dockerfile, buildargs: json(q.buildargs), labels: json(q.labels), target: q.target,
        nocache: flag(q.nocache), pull: flag(q.pull), cachefrom: json(q.cachefrom), networkmode: q.networkmode,
        extrahosts: q.extrahosts?.length ? q.extrahosts.join(',') : undefined, rm: q.rm ?? true, forcerm: flag(q.forcerm),
        q: flag(q.q), platform: q.platform, version: '1',
        berthprogress: flag(q.berthprogress), berthsecrets: q.berthsecrets?.length ? JSON.stringify(q.berthsecrets) : undefined,
      },
      rawBody: context, headers: { 'Content-Type': 'application/x-tar' }, ...(o.signal ? { signal: o.signal } : {}),
    });
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

/**
 * The query of POST /build: Docker's legacy-builder parameters (API v1.47) and berth's extensions
 * (`berthprogress`, `berthsecrets`; see src/engine/builds/contract.ts).
 */
export interface BuildQuery {
  t?: string[];
  dockerfile?: string;
  /** A null value: the daemon leaves the argument unset (docker's `--build-arg KEY` with no KEY in the env). */
  buildargs?: Record<string, string | null>;
  labels?: Record<string, string>;
  target?: string;
  nocache?: boolean;
  pull?: boolean;
  cachefrom?: string[];
  networkmode?: string;
  extrahosts?: string[];
  /** Default true, as docker's `--rm`. */
  rm?: boolean;
  forcerm?: boolean;
  q?: boolean;
  platform?: string;
  berthprogress?: boolean;
  berthsecrets?: string[];
}

/**
 * Calls `onMessage` with each message of a JSON-lines progress stream (build, pull, load) as it
 * arrives; resolves at the end of the stream. A line that is not JSON rejects.
 */
export function jsonMessages(s: NodeJS.ReadableStream, onMessage: (m: JsonMessage) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let rest = '';
    let failed = false;
    const decoder = new StringDecoder('utf8');
    const take = (line: string): void => {
      if (failed || line.trim() === '') return;
      try { onMessage(JSON.parse(line) as JsonMessage); } catch (err) { failed = true; reject(err); }
    };
    s.on('data', (c: Buffer | string) => {
      const text = rest + (typeof c === 'string' ? c : decoder.write(c));
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) take(l);
    });
    let ended = false;
    s.on('end', () => { ended = true; take(rest + decoder.end()); if (!failed) resolve(); });
    s.on('error', reject);
    s.on('close', () => { if (!ended && !failed) reject(new Error('the daemon closed the connection before the answer was complete')); });
  });
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

/** A failed connection to the socket as one line, as docker words it (no errno stack for the user). */
function connectError(err: NodeJS.ErrnoException, socket: string): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTDIR' || err.code === 'ENOTSOCK') {
    return new Error(`Cannot connect to the Berth daemon at unix://${socket}. Is the berth daemon running?`, { cause: err });
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new Error(`permission denied while trying to connect to the Berth daemon socket at unix://${socket}`, { cause: err });
  }
  if (err.code === 'EPIPE' || err.code === 'ECONNRESET') {
    return new Error(`error during connect: the Berth daemon at unix://${socket} closed the connection`, { cause: err });
  }
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
