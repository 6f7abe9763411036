/**
 * A minimal Docker Engine API client over a unix socket, just enough to time the calls the docker
 * CLI makes for `run --rm` (create, attach, wait, start, delete). Each call resolves with the
 * moment its response headers (or 101 upgrade) arrived, measured with process.hrtime.
 */
import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ApiEndpoint { socket: string; version: string }

export const now = () => Number(process.hrtime.bigint()) / 1e6;

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    res.on('error', reject);
  });
}

/**
 * A call whose headers and body are separate milestones (wait registers before it returns).
 * Rejects on a status of 400 or more, with the daemon's message.
 */
export function call(ep: ApiEndpoint, method: string, path: string, body?: unknown): { headers: Promise<number>; done: Promise<{ at: number; body: string }> } {
  let onHeaders!: (at: number) => void;
  let onFail!: (err: Error) => void;
  const headers = new Promise<number>((res, rej) => { onHeaders = res; onFail = rej; });
  const done = new Promise<{ at: number; body: string }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      socketPath: ep.socket, method, path: `${ep.version}${path}`,
      headers: { Host: 'api', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      onHeaders(now());
      readBody(res).then((text) => {
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: ${res.statusCode} ${text.trim()}`));
        else resolve({ at: now(), body: text });
      }, reject);
    });
    req.on('error', (e) => { onFail(e); reject(e); });
    req.end(payload);
  });
  done.catch((e: Error) => onFail(e));
  return { headers, done };
}

/** POST .../attach with `Upgrade: tcp`; resolves at the 101 with the raw stream and its end. */
export function attach(ep: ApiEndpoint, id: string): Promise<{ at: number; ended: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: ep.socket, method: 'POST', path: `${ep.version}/containers/${id}/attach?stream=1&stdout=1&stderr=1`,
      headers: { Host: 'api', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' },
    });
    req.on('upgrade', (_res, sock: Duplex, head: Buffer) => {
      const at = now();
      void head;
      const ended = new Promise<number>((r) => {
        sock.on('data', () => undefined);
        sock.on('end', () => { r(now()); sock.destroy(); });
        sock.on('close', () => r(now()));
      });
      resolve({ at, ended });
    });
    req.on('response', (res) => { readBody(res).then((t) => reject(new Error(`attach: ${res.statusCode} ${t}`)), reject); });
    req.on('error', reject);
    req.end();
  });
}
