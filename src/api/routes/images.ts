import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { progressMessage, type Progress } from '../../lib/progress.ts';
import { type ApiRequest, type Reply, type Route, ok, param, queryBool, streamed } from '../router.ts';
import { readBody } from '../body-schema.ts';
import type { ImageEngine } from '../../engine/index.ts';
import {
  toApiImageDeletes, toApiImageHistory, toApiImageInspect, toApiImagePrune, toApiImageSummary, toApiSearchResult, versionedImageInspect,
} from './image-views.ts';
import { toJsonMessage } from './progress-views.ts';
import { authConfigBody, credentialsOf, registryAuthOf } from './registry-auth.ts';
import { publicMessageOf } from '../public-message.ts';

/** What the image routes need: the engine's images. */
export type ImageBackend = ImageEngine;

/**
 * Writes a progress stream as Docker's JSON messages (one object per line, toJsonMessage). An
 * error before the first line is thrown (the client gets a proper status) unless `errorsInStream`;
 * after it, it goes in-stream as Docker does: {"errorDetail":{"message":…},"error":…}.
 */
export async function writeJsonStream(req: ApiRequest, messages: AsyncIterable<Progress>, opts: { errorsInStream?: boolean } = {}): Promise<Reply> {
  const res = req.res;
  if (opts.errorsInStream) res.writeHead(200, { 'Content-Type': 'application/json' });
  try {
    for await (const m of messages) {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify(toJsonMessage(m))}\n`);
    }
  } catch (err) {
    if (!res.headersSent) throw err;
    const message = publicMessageOf(req, err);
    res.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
  }
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end();
  return streamed;
}

/** Streams a docker-archive of refs as application/x-tar. */
async function sendArchive(b: ImageBackend, req: ApiRequest, refs: readonly string[]): Promise<Reply> {
  // Set, not written: a lookup failure before the first byte still becomes a JSON error.
  req.res.setHeader('Content-Type', 'application/x-tar');
  await b.save(refs, req.res);
  return streamed;
}

/** "repo" + "tag" query values as one reference (a digest "tag" joins with "@"). */
function joinRef(repo: string, tag: string | null): string {
  if (!tag) return repo;
  return tag.includes(':') ? `${repo}@${tag}` : `${repo}:${tag}`;
}

/** POST /images/create: import (fromSrc=-) or a registry pull (fromImage, with tag or digest in `tag`). */
async function createImage(b: ImageBackend, req: ApiRequest): Promise<Reply> {
  const q = req.query;
  const fromSrc = q.get('fromSrc');
  if (fromSrc !== null && fromSrc !== '') {
    if (fromSrc !== '-') throw new EngineError('NotImplemented', 'importing from a URL is not supported');
    const repo = q.get('repo') ?? '';
    const ref = repo ? joinRef(repo, q.get('tag')) : undefined;
    const id = await b.import(req.raw, {
      changes: q.getAll('changes'),
      signal: req.signal,
      ...(ref ? { ref } : {}),
      ...(q.get('message') ? { message: q.get('message')! } : {}),
      ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
    });
    return writeJsonStream(req, (async function* () { yield progressMessage(id); })());
  }
  const image = q.get('fromImage');
  if (!image) throw new EngineError('InvalidParameter', 'fromImage or fromSrc is required');
  const tag = q.get('tag');
  const auth = registryAuthOf(req);
  // An empty tag on a name without one pulls every tag (the API's rule; `docker pull -a`).
  const allTags = !tag && !/[:@][^/]*$/.test(image);
  return writeJsonStream(req, b.pull(joinRef(image, tag), {
    allTags, signal: req.signal,
    ...(auth ? { auth } : {}),
    ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
  }));
}

/** POST /images/{name}/push: the tag in `tag` (or every tag of the repository). */
function pushImage(b: ImageBackend, req: ApiRequest): Promise<Reply> {
  const auth = registryAuthOf(req);
  const tag = req.query.get('tag');
  return writeJsonStream(req, b.push(param(req, 'name'), { signal: req.signal, ...(tag ? { tag } : {}), ...(auth ? { auth } : {}) }));
}

/** POST /auth: checks credentials with the registry; the client stores them. */
async function login(b: ImageBackend, req: ApiRequest): Promise<Reply> {
  const body = await readBody(req, authConfigBody) ?? {};
  const creds = credentialsOf(body);
  if (!creds) throw new EngineError('InvalidParameter', 'username and password are required');
  const r = await b.login(body.serveraddress ?? '', creds, req.signal);
  const reply: api.AuthResponse = { Status: 'Login Succeeded', ...(r.identityToken ? { IdentityToken: r.identityToken } : {}) };
  return ok(reply);
}

/** GET /images/search: the registry's search endpoint ("term" may name a registry). */
async function search(b: ImageBackend, req: ApiRequest): Promise<Reply> {
  const term = req.query.get('term') ?? '';
  if (term === '') throw new EngineError('InvalidParameter', 'search term is required');
  const limit = Number(req.query.get('limit') || 25);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new EngineError('InvalidParameter', `limit ${req.query.get('limit')} is outside the range of [1, 100]`);
  const auth = registryAuthOf(req);
  const hits = await b.search(term, { limit, filters: parseFilters(req.query.get('filters')), signal: req.signal, ...(auth ? { auth } : {}) });
  return ok(hits.map(toApiSearchResult));
}

/**
 * The image endpoints. Names may contain "/" ("localhost:5000/app"), so they are `*name` patterns
 * with a fixed suffix; the literal /images/json, /images/get, /images/load, /images/prune and
 * /images/create come first.
 */
export function imageRoutes(b: ImageBackend): Route[] {
  return [
    { method: 'GET', path: '/images/json', handler: async (req) => ok((await b.list({
      all: queryBool(req.query, 'all'),
      filters: parseFilters(req.query.get('filters')),
      digests: queryBool(req.query, 'digests'),
    })).map(toApiImageSummary)) },
    { method: 'GET', path: '/images/get', handler: (req) => sendArchive(b, req, req.query.getAll('names')) },
    // dockerd answers a load 200 whatever happens, its error inside the stream (docker load and
    // docker-py's images.load read it there).
    { method: 'POST', path: '/images/load', handler: (req) =>
      writeJsonStream(req, b.load(req.raw, { quiet: queryBool(req.query, 'quiet'), signal: req.signal }), { errorsInStream: true }) },
    { method: 'POST', path: '/images/prune', handler: async (req) => ok(toApiImagePrune(await b.prune({ filters: parseFilters(req.query.get('filters')) }))) },
    { method: 'POST', path: '/images/create', handler: (req) => createImage(b, req) },
    { method: 'GET', path: '/images/search', handler: (req) => search(b, req) },
    { method: 'POST', path: '/auth', handler: (req) => login(b, req) },
    { method: 'POST', path: '/images/*name/push', handler: (req) => pushImage(b, req) },
    { method: 'GET', path: '/images/*name/json', handler: async (req) => ok(versionedImageInspect(toApiImageInspect(await b.inspect(param(req, 'name'))), req.version)) },
    { method: 'GET', path: '/images/*name/history', handler: async (req) => ok(toApiImageHistory(await b.history(param(req, 'name')))) },
    { method: 'GET', path: '/images/*name/get', handler: (req) => sendArchive(b, req, [param(req, 'name')]) },
    { method: 'POST', path: '/images/*name/tag', handler: async (req) => {
      const repo = req.query.get('repo') ?? '';
      if (repo === '') throw new EngineError('InvalidParameter', 'repository name must have at least one component');
      await b.tag(param(req, 'name'), joinRef(repo, req.query.get('tag')));
      return { kind: 'empty', status: 201 };
    } },
    { method: 'DELETE', path: '/images/*name', handler: async (req) => ok(toApiImageDeletes(await b.remove(param(req, 'name'), {
      force: queryBool(req.query, 'force'),
      noprune: queryBool(req.query, 'noprune'),
    }))) },
  ];
}
