import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as api from '../types/index.ts';
import type { ContainerEngine, PathStat } from '../../engine/index.ts';
import { toApiChanges, toApiPathStat } from './archive-views.ts';
import { type ApiRequest, type Reply, type Route, created, ok, param, queryBool, streamed } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { commitConfigSchema } from '../schemas/container.ts';

/** What the archive routes need of the container engine. */
export type ArchiveBackend = Pick<ContainerEngine, 'statPath' | 'archive' | 'extract' | 'export' | 'changes' | 'commit'>;

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
const statHeader = (s: PathStat): string => Buffer.from(JSON.stringify(toApiPathStat(s))).toString('base64');

/** cp (archive HEAD/GET/PUT), export, diff (changes) and commit. */
export function archiveRoutes(b: ArchiveBackend): Route[] {
  const commitConfig = bodyValidator<api.ContainerConfig>(commitConfigSchema());
  return [
    // Before GET: the router would otherwise answer HEAD with the GET route.
    { method: 'HEAD', path: '/containers/:id/archive', handler: async (req) => {
      const stat = await b.statPath(param(req, 'id'), req.query.get('path') ?? '');
      req.res.setHeader(STAT_HEADER, statHeader(stat));
      return { kind: 'empty', status: 200 };
    } },
    { method: 'GET', path: '/containers/:id/archive', handler: async (req) => {
      const r = await b.archive(param(req, 'id'), req.query.get('path') ?? '');
      return sendTar(req, r.stream, { [STAT_HEADER]: statHeader(r.stat) });
    } },
    { method: 'PUT', path: '/containers/:id/archive', handler: async (req) => {
      await b.extract(param(req, 'id'), req.query.get('path') ?? '', req.raw, {
        noOverwriteDirNonDir: queryBool(req.query, 'noOverwriteDirNonDir'),
        copyUIDGID: queryBool(req.query, 'copyUIDGID'), signal: req.signal,
      });
      return { kind: 'empty', status: 200 };
    } },
    { method: 'GET', path: '/containers/:id/export', handler: async (req) => sendTar(req, await b.export(param(req, 'id')), {}) },
    { method: 'GET', path: '/containers/:id/changes', handler: async (req) => ok(toApiChanges(await b.changes(param(req, 'id')))) },
    { method: 'POST', path: '/commit', handler: async (req) => {
      const q = req.query;
      const repo = q.get('repo') ?? '';
      const tag = q.get('tag') ?? '';
      const config = await readBody(req, commitConfig);
      const id = await b.commit(q.get('container') ?? '', {
        ...(repo ? { ref: tag ? `${repo}:${tag}` : repo } : {}),
        comment: q.get('comment') ?? '', author: q.get('author') ?? '', pause: queryBool(q, 'pause', true),
        changes: q.getAll('changes').filter((c) => c !== ''), config,
      });
      return created({ Id: id } satisfies api.CommitResponse);
    } },
  ];
}

/** Streams a tar; an error after the first byte can only cut the connection. */
async function sendTar(req: ApiRequest, stream: Readable, headers: Record<string, string>): Promise<Reply> {
  req.res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  try {
    await pipeline(stream, req.res);
  } catch {
    stream.destroy();
    req.res.destroy();
  }
  return streamed;
}
