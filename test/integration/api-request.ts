import { request } from 'node:http';

export interface ApiAnswer { status: number; body: string; json: () => unknown }

/**
 * One raw Engine API request over the daemon's socket: for bodies no client would send
 * (wrong types, nulls, oversized), which the CLIs cannot produce.
 */
export function apiRequest(socketPath: string, method: string, path: string, body?: string | Buffer | object): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false, headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) as unknown });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
