import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid } from '../lib/errors.ts';

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

export function queryInt(q: URLSearchParams, key: string, dflt?: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalid(`invalid value for ${key}: ${v}`);
  return n;
}

/** Reads and parses a JSON body; an empty body is `dflt`. Malformed JSON is a 400. */
export async function readJson<T>(req: ApiRequest, dflt: T): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of req.raw) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return dflt;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`, err);
  }
}

/**
 * The JSON body of a hijacked request (exec start). With `Upgrade: tcp` Node hands the bytes read
 * past the head to the 'upgrade' event; the body is the first Content-Length bytes of them.
 */
export async function readHijackJson<T>(req: ApiRequest, dflt: T): Promise<T> {
  if (!req.hijack) return readJson(req, dflt);
  const len = Number(req.headers['content-length'] ?? 0);
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
  const text = buf.subarray(0, len).toString('utf8').trim();
  if (text === '') return dflt;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`, err);
  }
}
