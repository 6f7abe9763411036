import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineError, invalid } from '../lib/errors.ts';
import type { HiddenPath } from './public-message.ts';

/**
 * The Engine API's routing vocabulary. A Route matches a method and a path pattern (":name" takes
 * one segment, "*name" takes the rest, as container names and image references may contain "/").
 * Handlers return a Reply; streaming handlers write to `req.res` themselves and return `streamed`.
 */
export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** API version the client asked for ("1.47" when the path had no prefix). */
  version: string;
  raw: IncomingMessage;
  res: ServerResponse;
  /** Set for hijacked requests (Upgrade: tcp): the raw socket and the bytes already read past the head. */
  hijack?: { socket: Duplex; head: Buffer };
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Host directories messages must not show (api/public-message.ts). */
  hiddenPaths?: readonly HiddenPath[];
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'empty'; status: number }
  | { kind: 'text'; status: number; body: string; contentType?: string }
  | { kind: 'streamed' };

export type Handler = (req: ApiRequest) => Promise<Reply> | Reply;

export interface Route {
  method: string;
  path: string;
  handler: Handler;
}

export const ok = (body: unknown, status = 200): Reply => ({ kind: 'json', status, body });
export const created = (body: unknown): Reply => ({ kind: 'json', status: 201, body });
export const noContent = (): Reply => ({ kind: 'empty', status: 204 });
export const notModified = (): Reply => ({ kind: 'empty', status: 304 });
export const streamed: Reply = { kind: 'streamed' };

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

/** Matches requests to routes. Patterns are compiled once. */
export class Router {
  readonly #routes: CompiledRoute[] = [];

  add(routes: readonly Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      const pattern = r.path
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) { names.push(seg.slice(1)); return '([^/]+)'; }
          if (seg.startsWith('*')) { names.push(seg.slice(1)); return '(.+)'; }
          return seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      this.#routes.push({ ...r, regex: new RegExp(`^${pattern}$`), names });
    }
    return this;
  }

  /** The route and params for a request; `methodMismatch` when only the method was wrong. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'none' | 'method' {
    let sawPath = false;
    for (const r of this.#routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      const verb = method === 'HEAD' && r.method === 'GET' ? 'GET' : method;
      if (r.method !== verb) { sawPath = true; continue; }
      const params: Record<string, string> = {};
      try {
        r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]!); });
      } catch (err) {
        throw invalid(`malformed path: ${path}`, err);
      }
      return { route: r, params };
    }
    return sawPath ? 'method' : 'none';
  }
}

/** Path parameter; throws InvalidParameter if the route did not declare it (a bug). */
export function param(req: ApiRequest, name: string): string {
  const v = req.params[name];
  if (v === undefined) throw invalid(`missing path parameter ${name}`);
  return v;
}

/** Docker's boolean form values: "", "0", "no", "false", "none" are false; absent takes the default. */
export function queryBool(q: URLSearchParams, key: string, dflt = false): boolean {
  const v = q.get(key);
  if (v === null) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

/**
 * An integer form value as Go's strconv.Atoi reads it (decimal digits and a sign: no spaces, hex,
 * exponents or fractions); absent or empty takes the default.
 * @throws EngineError InvalidParameter for anything else
 */
export function queryInt(q: URLSearchParams, key: string, dflt?: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(n)) throw invalid(`invalid value for ${key}: ${v}`);
  return n;
}

/**
 * The largest JSON body the API reads (a container create with every option is a few KB). Streams
 * (build contexts, image tars, archive uploads) are not JSON and are not read through here.
 */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

const tooLarge = () => invalid(`request body is larger than ${MAX_JSON_BODY / 1024 / 1024} MiB: JSON bodies are limited to that`);

function parseJsonText<T>(text: string, dflt: T): T {
  if (text === '') return dflt;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`, err);
  }
}

/**
 * Reads and parses a JSON body; an empty body is `dflt`. Malformed JSON, or a body over
 * MAX_JSON_BODY (refused by its Content-Length before reading, or as soon as it grows past it), is a 400.
 */
export async function readJson<T>(req: ApiRequest, dflt: T): Promise<T> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY) throw tooLarge();
  if (req.raw.readableEnded) return dflt;
  const body = await new Promise<Buffer>((resolve, reject) => {
    const raw = req.raw;
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => { raw.off('data', onData); raw.off('end', onEnd); raw.off('error', onError); raw.off('close', onClose); };
    // Refusing must not destroy the request: the server drains the rest and still sends the 400.
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > MAX_JSON_BODY) { done(); reject(tooLarge()); } else chunks.push(c);
    };
    const onEnd = () => { done(); resolve(Buffer.concat(chunks)); };
    const onError = (err: Error) => { done(); reject(err); };
    const onClose = () => { if (!raw.complete) { done(); reject(new EngineError('Canceled', 'client closed the connection before the end of the body')); } };
    raw.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
  return parseJsonText(body.toString('utf8').trim(), dflt);
}

/**
 * The JSON body of a hijacked request (exec start). With `Upgrade: tcp` Node hands the bytes read
 * past the head to the 'upgrade' event; the body is the first Content-Length bytes of them.
 */
export async function readHijackJson<T>(req: ApiRequest, dflt: T): Promise<T> {
  if (!req.hijack) return readJson(req, dflt);
  const len = Number(req.headers['content-length'] ?? 0);
  if (len > MAX_JSON_BODY) throw tooLarge();
  let buf = req.hijack.head;
  if (buf.length < len) {
    const socket = req.hijack.socket;
    buf = await new Promise<Buffer>((resolve) => {
      const chunks = [buf];
      let have = buf.length;
      const finish = () => { socket.off('data', onData); socket.off('end', finish); socket.pause(); resolve(Buffer.concat(chunks)); };
      const onData = (c: Buffer) => { chunks.push(c); have += c.length; if (have >= len) finish(); };
      socket.on('data', onData);
      socket.once('end', finish);
    });
  }
  req.hijack.head = buf.subarray(len);
  return parseJsonText(buf.subarray(0, len).toString('utf8').trim(), dflt);
}
