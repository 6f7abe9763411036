import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { parseTimeNs, type ContainerEngine, type LogEntry, type WaitCondition } from '../../engine/index.ts';
import { type ApiRequest, type Route, created, noContent, ok, param, queryBool, queryInt, streamed } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { containerCreateSchema } from '../schemas/container.ts';
import { frame, STDERR, STDOUT } from '../streams.ts';
import { attachRoute } from './attach.ts';
import { adaptCreateForVersion } from './container-compat.ts';
import { toContainerInspect, toContainerSummary } from './container-views.ts';

/** /containers: lifecycle, inspect and list, logs, attach, top, resize, wait and prune. */
export function containerRoutes(svc: ContainerEngine): Route[] {
  const createBody = bodyValidator<api.ContainerCreateBody>(containerCreateSchema());
  return [
    { method: 'GET', path: '/containers/json', handler: async (req) => {
      const limit = queryInt(req.query, 'limit');
      const list = await svc.list({
        all: queryBool(req.query, 'all'), filters: parseFilters(req.query.get('filters')), size: queryBool(req.query, 'size'),
        ...(limit !== undefined ? { limit } : {}),
      });
      return ok(list.map((c) => toContainerSummary(c)));
    } },
    { method: 'POST', path: '/containers/create', handler: async (req) => {
      const body = await readBody(req, createBody);
      if (!body) throw new EngineError('InvalidParameter', 'config cannot be empty in order to create a container');
      adaptCreateForVersion(body, req.version);
      const r = await svc.create(body, req.query.get('name') ?? undefined);
      return created({ Id: r.id, Warnings: r.warnings } satisfies api.ContainerCreateResponse);
    } },
    { method: 'POST', path: '/containers/prune', handler: async (req) => {
      const r = await svc.prune(parseFilters(req.query.get('filters')));
      return ok({ ContainersDeleted: r.deleted.length ? r.deleted : null, SpaceReclaimed: r.reclaimed });
    } },
    { method: 'GET', path: '/containers/:id/json', handler: async (req) =>
      ok(toContainerInspect(await svc.inspect(param(req, 'id'), { size: queryBool(req.query, 'size') }))) },
    { method: 'GET', path: '/containers/:id/top', handler: async (req) => {
      const r = await svc.top(param(req, 'id'), req.query.get('ps_args') || '-ef');
      return ok({ Titles: r.titles, Processes: r.processes });
    } },
    { method: 'POST', path: '/containers/:id/start', handler: async (req) => { await svc.start(param(req, 'id')); return noContent(); } },
    { method: 'POST', path: '/containers/:id/stop', handler: async (req) => {
      const t = queryInt(req.query, 't');
      await svc.stop(param(req, 'id'), { ...(t !== undefined ? { timeout: t } : {}), ...(req.query.get('signal') ? { signal: req.query.get('signal')! } : {}) });
      return noContent();
    } },
    { method: 'POST', path: '/containers/:id/restart', handler: async (req) => {
      const t = queryInt(req.query, 't');
      await svc.restart(param(req, 'id'), { ...(t !== undefined ? { timeout: t } : {}), ...(req.query.get('signal') ? { signal: req.query.get('signal')! } : {}) });
      return noContent();
    } },
    { method: 'POST', path: '/containers/:id/kill', handler: async (req) => { await svc.kill(param(req, 'id'), req.query.get('signal') || 'SIGKILL'); return noContent(); } },
    { method: 'POST', path: '/containers/:id/pause', handler: async (req) => { await svc.pause(param(req, 'id')); return noContent(); } },
    { method: 'POST', path: '/containers/:id/unpause', handler: async (req) => { await svc.unpause(param(req, 'id')); return noContent(); } },
    { method: 'POST', path: '/containers/:id/rename', handler: (req) => {
      const name = req.query.get('name');
      if (!name) throw new EngineError('InvalidParameter', 'Neither old nor new names may be empty');
      svc.rename(param(req, 'id'), name);
      return noContent();
    } },
    { method: 'POST', path: '/containers/:id/resize', handler: async (req) => {
      await svc.resize(param(req, 'id'), { height: queryInt(req.query, 'h', 0)!, width: queryInt(req.query, 'w', 0)! });
      return ok(null);
    } },
    // `*id`: a link name has slashes (`docker rm --link /web/db` sends /containers//web/db?link=1).
    { method: 'DELETE', path: '/containers/*id', handler: async (req) => {
      if (queryBool(req.query, 'link')) {
        await svc.removeLink(param(req, 'id'));
        return noContent();
      }
      await svc.remove(param(req, 'id'), { force: queryBool(req.query, 'force'), volumes: queryBool(req.query, 'v') });
      return noContent();
    } },
    { method: 'POST', path: '/containers/:id/wait', handler: (req) => waitRoute(svc, req) },
    { method: 'GET', path: '/containers/:id/logs', handler: (req) => logsRoute(svc, req) },
    { method: 'POST', path: '/containers/:id/attach', handler: (req) => attachRoute(svc, req) },
  ];
}

/** Headers go out at once, then the body when the condition is met (API W11: `docker run` waits for them). */
async function waitRoute(svc: ContainerEngine, req: ApiRequest) {
  const cond = (req.query.get('condition') || 'not-running') as WaitCondition;
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new EngineError('InvalidParameter', `invalid condition: "${cond}"`);
  const result = svc.wait(param(req, 'id'), cond, req.signal);
  req.res.writeHead(200, { 'Content-Type': 'application/json' });
  req.res.flushHeaders();
  try {
    const r = await result;
    const body: api.ContainerWaitResponse = { StatusCode: r.statusCode, Error: r.error !== undefined ? { Message: r.error } : null };
    req.res.end(JSON.stringify(body) + '\n');
  } catch (err) {
    if (!req.signal.aborted) req.res.end(JSON.stringify({ StatusCode: -1, Error: { Message: String(err) } }) + '\n');
  }
  return streamed;
}

function parseSince(v: string | null): bigint | undefined {
  if (!v) return undefined;
  // Docker sends seconds with an optional fraction ("1700000000.123456789").
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const t = parseTimeNs(v);
  if (t === null) throw new EngineError('InvalidParameter', `invalid value for since/until: ${v}`);
  return t;
}

async function logsRoute(svc: ContainerEngine, req: ApiRequest) {
  const q = req.query;
  // dockerd (daemon/logs.go): strconv.Atoi, and anything it cannot read, or a negative count, means all lines.
  const tailRaw = q.get('tail') ?? '';
  const tail = /^[+-]?\d+$/.test(tailRaw) && Number(tailRaw) >= 0 ? Number(tailRaw) : undefined;
  const sinceNs = parseSince(q.get('since'));
  const untilNs = parseSince(q.get('until'));
  const logs = await svc.logs(param(req, 'id'), {
    stdout: queryBool(q, 'stdout'), stderr: queryBool(q, 'stderr'), follow: queryBool(q, 'follow'), signal: req.signal,
    ...(tail !== undefined ? { tail } : {}), ...(sinceNs !== undefined ? { sinceNs } : {}), ...(untilNs !== undefined ? { untilNs } : {}),
  });
  const timestamps = queryBool(q, 'timestamps');
  const tty = logs.tty;
  const res = req.res;
  res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  res.flushHeaders();
  const write = (e: LogEntry) => {
    const data = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data;
    return res.write(tty ? data : frame(e.stream === 'stdout' ? STDOUT : STDERR, data));
  };
  for await (const e of logs.entries) {
    if (!write(e)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
  return streamed;
}
