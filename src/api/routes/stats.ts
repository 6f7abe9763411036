import type * as api from '../types/index.ts';
import type { ContainerEngine } from '../../engine/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { type ApiRequest, type Route, ok, param, queryBool, streamed } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { containerUpdateSchema } from '../schemas/container.ts';
import { adaptUpdateForVersion } from './container-compat.ts';
import { toApiStats } from './stats-views.ts';

/** What the stats and update routes need of the container engine. */
export type ResourceBackend = Pick<ContainerEngine, 'stats' | 'update'>;

/** GET /containers/{id}/stats and POST /containers/{id}/update. */
export function statsRoutes(b: ResourceBackend): Route[] {
  const updateBody = bodyValidator<api.ContainerUpdateBody>(containerUpdateSchema());
  return [
  { method: 'GET', path: '/containers/:id/stats', handler: (req) => statsRoute(b, req) },
  { method: 'POST', path: '/containers/:id/update', handler: async (req) => {
    const body = await readBody(req, updateBody) ?? {};
    adaptUpdateForVersion(body, req.version);
    const warnings = await b.update(param(req, 'id'), body);
    return ok({ Warnings: warnings.length ? warnings : null } satisfies api.ContainerUpdateResponse);
  } },
  ];
}

/** Newline-delimited JSON frames; errors found before the first frame are ordinary error replies. */
async function statsRoute(b: ResourceBackend, req: ApiRequest) {
  const ref = param(req, 'id');
  const stream = queryBool(req.query, 'stream', true);
  const oneShot = queryBool(req.query, 'one-shot');
  if (stream && oneShot) throw new EngineError('InvalidParameter', 'cannot have stream=true and one-shot=true');
  const frames = b.stats(ref, { stream, oneShot, signal: req.signal });
  const first = await frames.next();
  const res = req.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  if (!first.done) res.write(JSON.stringify(toApiStats(first.value)) + '\n');
  if (stream) {
    res.flushHeaders();
    try {
      for await (const f of frames) {
        if (req.signal.aborted || res.destroyed) break;
        res.write(JSON.stringify(toApiStats(f)) + '\n');
      }
    } catch {
      // The container went away mid-stream: the stream just ends, as dockerd's does.
    }
  }
  res.end();
  return streamed;
}
