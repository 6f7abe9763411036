/**
 * A bare Engine API client over a unix socket for tests that need many calls quickly (no CLI
 * start-up per call) or calls they can abandon half-way (a daemon killed under them).
 */
import { request } from 'node:http';
import type { Readable } from 'node:stream';

export interface ApiReply { status: number; text: string; json<T = unknown>(): T }

/**
 * One request; resolves with status and body once the body has ended. A JSON-able `body` is sent
 * as JSON, a Buffer or stream as `contentType`. Never rejects on an HTTP status; rejects when the
 * connection fails (for instance, the daemon died).
 */
export function apiCall(socket: string, method: string, path: string, body?: unknown, opts: { contentType?: string; timeoutMs?: number } = {}): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const raw = body === undefined || Buffer.isBuffer(body) || isStream(body) ? body : Buffer.from(JSON.stringify(body));
    const type = raw === body ? opts.contentType ?? 'application/octet-stream' : 'application/json';
    const req = request({
      socketPath: socket, method, path: `/v1.47${path}`,
      headers: { Host: 'berth', ...(raw !== undefined ? { 'Content-Type': type } : {}), ...(Buffer.isBuffer(raw) ? { 'Content-Length': raw.length } : {}) },
      timeout: opts.timeoutMs ?? 60_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (isStream(raw)) raw.pipe(req);
    else req.end(raw);
  });
}

/** Like apiCall, but fails the test on a status of 400 or more; returns the parsed body (or text). */
export async function apiOk<T = unknown>(socket: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await apiCall(socket, method, path, body);
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${r.text.trim()}`);
  try { return r.json<T>(); } catch { return r.text as T; }
}

function isStream(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}
