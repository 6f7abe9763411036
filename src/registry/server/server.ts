/**
 * The built-in registry: an OCI distribution (v2) server over node:http or node:https, backed
 * by FsRegistryStorage. Lifecycle: construct, `listen()` once, `close()` once (stops accepting,
 * lets requests in flight finish, then returns). Bodies are streamed both ways; only manifests
 * (at most 4 MiB, as Distribution) are read into memory.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { HtpasswdAuth } from './htpasswd.ts';
import {
  inspectManifest, isValidDigest, isValidName, isValidTag, looksLikeDigest, matchRoute, paginate, parseContentRange, parseRange,
  RegistryError, type Route,
} from './protocol.ts';
import { FsRegistryStorage, IO_CHUNK } from './storage.ts';

/** Distribution's limit on a manifest body. */
const MAX_MANIFEST_BYTES = 4 << 20;
/** Entries of a catalog page when the client gives no `n`. */
const CATALOG_PAGE = 1000;

export interface RegistryServerOptions {
  /** Storage root (created if missing). */
  root: string;
  host: string;
  /** 0 picks a free port (see `listen()`'s result). */
  port: number;
  /** Basic auth; every request needs it when set. */
  auth?: HtpasswdAuth;
  realm?: string;
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** Allow DELETE of blobs and manifests (405 UNSUPPORTED otherwise, as Distribution). */
  deleteEnabled?: boolean;
  /** One line per request; none when absent. */
  log?: (line: string) => void;
}

type Req = IncomingMessage;
type Res = ServerResponse;

/** An OCI distribution server on a local filesystem. */
export class RegistryServer {
  readonly #storage: FsRegistryStorage;
  readonly #server: Server;
  readonly #scheme: 'http' | 'https';

  constructor(private readonly opts: RegistryServerOptions) {
    this.#storage = new FsRegistryStorage(opts.root);
    const handler = (req: Req, res: Res): void => { void this.#serve(req, res); };
    // No overall request deadline: pushing a large layer may take longer than node's 5 minutes.
    const common = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000, highWaterMark: IO_CHUNK };
    this.#server = opts.tls ? createHttpsServer({ ...common, cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(common, handler);
    this.#scheme = opts.tls ? 'https' : 'http';
  }

  /** Creates the storage directories and starts listening; resolves to the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    await this.#storage.init();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.opts.port, this.opts.host, () => { this.#server.off('error', reject); resolve(); });
    });
    const a = this.#server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /**
   * Stops accepting connections, waits for requests in flight (at most `graceMs`, then cuts
   * the rest) and resolves when every connection is gone.
   */
  async close(graceMs = 30_000): Promise<void> {
    const done = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Keep-alive connections that finish their request while we wait are closed as they idle.
    const idle = setInterval(() => this.#server.closeIdleConnections(), 50);
    const hard = setTimeout(() => this.#server.closeAllConnections(), graceMs);
    this.#server.closeIdleConnections();
    try { await done; } finally { clearInterval(idle); clearTimeout(hard); }
  }

  async #serve(req: Req, res: Res): Promise<void> {
    const t0 = process.hrtime.bigint();
    if (this.opts.log) {
      const log = this.opts.log;
      res.once('close', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        log(`${req.socket.remoteAddress ?? '-'} "${req.method} ${req.url}" ${res.statusCode} ${res.getHeader('content-length') ?? '-'} ${ms.toFixed(1)}ms${res.writableFinished ? '' : ' (aborted)'}`);
      });
    }
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    try {
      if (this.opts.auth && !(await this.opts.auth.check(req.headers.authorization))) {
        res.setHeader('WWW-Authenticate', `Basic realm=${JSON.stringify(this.opts.realm ?? 'Registry Realm')}`);
        throw new RegistryError('UNAUTHORIZED');
      }
      const url = new URL(req.url ?? '/', 'http://registry');
      const route = matchRoute(url.pathname);
      if (!route) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        return;
      }
      if (route.kind !== 'base' && route.kind !== 'catalog' && !isValidName(route.name)) throw new RegistryError('NAME_INVALID', { name: route.name });
      await this.#dispatch(route, url.searchParams, req, res);
    } catch (err) {
      this.#fail(res, err);
    }
  }

  #fail(res: Res, err: unknown): void {
    if (res.headersSent) { res.destroy(err instanceof Error ? err : undefined); return; }
    const e = err instanceof RegistryError ? err : new RegistryError('UNKNOWN', err instanceof Error ? err.message : String(err));
    if (!(err instanceof RegistryError) && this.opts.log) this.opts.log(`error: ${err instanceof Error ? err.stack : String(err)}`);
    const body = e.body();
    res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
  }

  /** Absolute URL for a path, from the Host the client used (as Distribution builds them). */
  #url(req: Req, path: string): string {
    return req.headers.host ? `${this.#scheme}://${req.headers.host}${path}` : path;
  }

  async #dispatch(route: Route, q: URLSearchParams, req: Req, res: Res): Promise<void> {
    const m = req.method ?? 'GET';
    const read = m === 'GET' || m === 'HEAD';
    switch (route.kind) {
      case 'base':
        if (!read) break;
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': 2 }).end(m === 'HEAD' ? undefined : '{}');
        return;
      case 'catalog':
        if (m !== 'GET') break;
        return this.#catalog(q, req, res);
      case 'tags':
        if (m !== 'GET') break;
        return this.#tags(route.name, q, req, res);
      case 'manifest':
        if (read) return this.#getManifest(route.name, route.reference, m === 'HEAD', res);
        if (m === 'PUT') return this.#putManifest(route.name, route.reference, req, res);
        if (m === 'DELETE') return this.#deleteManifest(route.name, route.reference, res);
        break;
      case 'blob':
        if (read) return this.#getBlob(route.name, route.digest, m === 'HEAD', req, res);
        if (m === 'DELETE') return this.#deleteBlob(route.name, route.digest, res);
        break;
      case 'uploads':
        if (m === 'POST') return this.#startUpload(route.name, q, req, res);
        break;
      case 'upload':
        if (m === 'GET') return this.#uploadStatus(route.name, route.id, req, res);
        if (m === 'PATCH') return this.#patchUpload(route.name, route.id, req, res);
        if (m === 'PUT') return this.#finishUpload(route.name, route.id, q, req, res);
        if (m === 'DELETE') return this.#cancelUpload(route.name, route.id, res);
        break;
    }
    throw new RegistryError('UNSUPPORTED', { method: m });
  }

  // --- listings ---

  #page(path: string, all: string[], q: URLSearchParams, max: number, res: Res, body: (page: string[]) => object): void {
    const n = q.get('n');
    const { page, more } = paginate(all, n, q.get('last'), max);
    if (more) {
      const next = new URLSearchParams({ last: page[page.length - 1]!, n: n ?? String(max) });
      res.setHeader('Link', `<${path}?${next.toString()}>; rel="next"`);
    }
    const json = JSON.stringify(body(page));
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) }).end(json);
  }

  async #catalog(q: URLSearchParams, _req: Req, res: Res): Promise<void> {
    const repos = await this.#storage.repositories();
    this.#page('/v2/_catalog', repos, q, CATALOG_PAGE, res, (page) => ({ repositories: page }));
  }

  async #tags(name: string, q: URLSearchParams, _req: Req, res: Res): Promise<void> {
    if (!(await this.#storage.repoExists(name))) throw new RegistryError('NAME_UNKNOWN', { name });
    const tags = await this.#storage.tags(name);
    this.#page(`/v2/${name}/tags/list`, tags, q, Number.MAX_SAFE_INTEGER, res, (page) => ({ name, tags: page }));
  }

  // --- manifests ---

  async #resolve(name: string, reference: string): Promise<string> {
    if (isValidDigest(reference)) return reference;
    if (looksLikeDigest(reference) && reference.includes(':')) throw new RegistryError('MANIFEST_UNKNOWN', { reference });
    if (!isValidTag(reference)) throw new RegistryError('MANIFEST_UNKNOWN', { tag: reference });
    const d = await this.#storage.resolveTag(name, reference);
    if (!d) throw new RegistryError('MANIFEST_UNKNOWN', { tag: reference });
    return d;
  }

  async #getManifest(name: string, reference: string, head: boolean, res: Res): Promise<void> {
    const digest = await this.#resolve(name, reference);
    const m = await this.#storage.getManifest(name, digest);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', isValidDigest(reference) ? { digest } : { tag: reference });
    res.writeHead(200, {
      'Content-Type': m.mediaType, 'Content-Length': m.bytes.length, 'Docker-Content-Digest': digest, Etag: `"${digest}"`,
    }).end(head ? undefined : m.bytes);
  }

  async #putManifest(name: string, reference: string, req: Req, res: Res): Promise<void> {
    const byDigest = reference.includes(':');
    if (byDigest ? !isValidDigest(reference) : !isValidTag(reference)) throw new RegistryError(byDigest ? 'DIGEST_INVALID' : 'TAG_INVALID', { reference });
    const bytes = await readLimited(req, MAX_MANIFEST_BYTES);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (byDigest && digest !== reference) throw new RegistryError('DIGEST_INVALID', `manifest digest ${digest} does not match ${reference}`);
    const info = inspectManifest(bytes, req.headers['content-type']);
    for (const b of info.blobs) {
      if (!isValidDigest(b) || (await this.#storage.statBlob(name, b)) === undefined) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', b);
    }
    for (const c of info.manifests) {
      if (!isValidDigest(c) || !(await this.#storage.hasManifest(name, c))) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', c);
    }
    await this.#storage.putManifest(name, digest, bytes, info.mediaType, byDigest ? undefined : reference);
    res.writeHead(201, { Location: this.#url(req, `/v2/${name}/manifests/${digest}`), 'Docker-Content-Digest': digest, 'Content-Length': 0 }).end();
  }

  async #deleteManifest(name: string, reference: string, res: Res): Promise<void> {
    if (!this.opts.deleteEnabled) throw new RegistryError('UNSUPPORTED');
    let ok: boolean;
    if (isValidDigest(reference)) ok = await this.#storage.deleteManifest(name, reference);
    else if (isValidTag(reference)) ok = await this.#storage.deleteTag(name, reference);
    else throw new RegistryError('MANIFEST_UNKNOWN', { reference });
    if (!ok) throw new RegistryError('MANIFEST_UNKNOWN', { reference });
    res.writeHead(202, { 'Content-Length': 0 }).end();
  }

  // --- blobs ---

  async #getBlob(name: string, digest: string, head: boolean, req: Req, res: Res): Promise<void> {
    if (!isValidDigest(digest)) throw new RegistryError(looksLikeDigest(digest) ? 'BLOB_UNKNOWN' : 'DIGEST_INVALID', { digest });
    const blob = await this.#storage.openBlob(name, digest);
    if (!blob) throw new RegistryError('BLOB_UNKNOWN', digest);
    const { fh, size } = blob;
    const range = parseRange(req.headers.range, size);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes',
      Etag: `"${digest}"`, 'Cache-Control': 'max-age=31536000',
    };
    if (range === 'unsatisfiable') {
      await fh.close();
      const e = new RegistryError('RANGE_INVALID', { size });
      res.setHeader('Content-Range', `bytes */${size}`);
      throw e;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    headers['Content-Length'] = end - start + 1;
    res.writeHead(range ? 206 : 200, headers);
    if (head || size === 0) { await fh.close(); res.end(); return; }
    // The file stream owns the handle from here (closed at its end or on error).
    await pipeline(fh.createReadStream({ start, end, highWaterMark: IO_CHUNK }), res).catch(() => {});
  }

  async #deleteBlob(name: string, digest: string, res: Res): Promise<void> {
    if (!this.opts.deleteEnabled) throw new RegistryError('UNSUPPORTED');
    if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', { digest });
    if (!(await this.#storage.unlinkBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', digest);
    res.writeHead(202, { 'Content-Length': 0, 'Docker-Content-Digest': digest }).end();
  }

  #blobCreated(name: string, digest: string, req: Req, res: Res): void {
    res.writeHead(201, { Location: this.#url(req, `/v2/${name}/blobs/${digest}`), 'Docker-Content-Digest': digest, 'Content-Length': 0 }).end();
  }

  #uploadHeaders(name: string, id: string, size: number, req: Req): Record<string, string | number> {
    return {
      Location: this.#url(req, `/v2/${name}/blobs/uploads/${id}`), Range: `0-${size > 0 ? size - 1 : 0}`,
      'Docker-Upload-UUID': id, 'Content-Length': 0,
    };
  }

  async #startUpload(name: string, q: URLSearchParams, req: Req, res: Res): Promise<void> {
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount !== null && from !== null && isValidDigest(mount) && isValidName(from) && (await this.#storage.mountBlob(name, from, mount))) {
      this.#blobCreated(name, mount, req, res);
      return;
    }
    const digest = q.get('digest');
    if (digest !== null) {
      if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', 'digest parsing failed');
      await this.#storage.putBlob(name, digest, req);
      this.#blobCreated(name, digest, req, res);
      return;
    }
    const id = await this.#storage.startUpload(name);
    res.writeHead(202, this.#uploadHeaders(name, id, 0, req)).end();
  }

  async #uploadStatus(name: string, id: string, req: Req, res: Res): Promise<void> {
    const size = await this.#storage.uploadSize(name, id);
    if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', id);
    res.writeHead(204, this.#uploadHeaders(name, id, size, req)).end();
  }

  /**
   * The chunk's start from Content-Range, checked as Distribution does: only with a
   * Content-Length too; start ≤ end and end - start + 1 = Content-Length.
   */
  #chunkStart(req: Req): number | undefined {
    const cr = req.headers['content-range'];
    if (cr === undefined) return undefined;
    const r = parseContentRange(cr);
    if (!r || r.start > r.end) throw new RegistryError('RANGE_INVALID', { 'content-range': cr });
    const cl = req.headers['content-length'];
    if (cl !== undefined && Number(cl) !== r.end - r.start + 1) throw new RegistryError('SIZE_INVALID', { 'content-range': cr, 'content-length': cl });
    return r.start;
  }

  async #patchUpload(name: string, id: string, req: Req, res: Res): Promise<void> {
    const ct = req.headers['content-type'];
    if (ct !== undefined && ct !== '' && ct !== 'application/octet-stream') throw new RegistryError('UNKNOWN', 'bad Content-Type');
    const size = await this.#storage.appendUpload(name, id, req, this.#chunkStart(req));
    res.writeHead(202, this.#uploadHeaders(name, id, size, req)).end();
  }

  async #finishUpload(name: string, id: string, q: URLSearchParams, req: Req, res: Res): Promise<void> {
    const digest = q.get('digest');
    if (!digest) throw new RegistryError('DIGEST_INVALID', 'digest missing');
    if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', 'digest parsing failed');
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    await this.#storage.finishUpload(name, id, digest, hasBody ? req : undefined, hasBody ? this.#chunkStart(req) : undefined);
    this.#blobCreated(name, digest, req, res);
  }

  async #cancelUpload(name: string, id: string, res: Res): Promise<void> {
    if ((await this.#storage.uploadSize(name, id)) === undefined || !(await this.#storage.cancelUpload(name, id))) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', id);
    res.writeHead(204, { 'Docker-Upload-UUID': id, 'Content-Length': 0 }).end();
  }
}

/** A request body of at most `max` bytes. @throws RegistryError MANIFEST_INVALID when larger. */
async function readLimited(req: Req, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new RegistryError('MANIFEST_INVALID', `manifest is larger than ${max} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}
