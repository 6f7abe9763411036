import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { ContainerService, WaitCondition } from '../../engine/containers/service.ts';
import type { AttachConnector } from '../../engine/containers/attach.ts';
import { followLogs, readLogs, parseTimeNs, type LogEntry } from '../../engine/containers/logs.ts';
import { selectContainers } from '../../engine/containers/list.ts';
import { removeLink } from '../../engine/containers/links.ts';
import type { ContainerRecord } from '../../engine/containers/record.ts';
import { type ApiRequest, type Route, created, noContent, ok, param, queryBool, queryInt, streamed } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { containerCreateSchema } from '../schemas/container.ts';
import { sendConmonControl } from '../../runtime/conmon.ts';
import { frame, STDERR, STDOUT } from '../streams.ts';
import { attachRoute } from './attach.ts';
import { adaptCreateForVersion } from './container-compat.ts';
import { toContainerInspect, toContainerSummary } from './container-views.ts';
import { summaryPorts, type ContainerNetView } from './network-views.ts';
import { topProcesses } from './top.ts';

/** What the container routes need besides the container service. */
export interface ContainerRouteDeps {
  containers: ContainerService;
  attach: AttachConnector;
  /** The image ID a reference names, if any (ps --filter ancestor). */
  resolveImageId(ref: string): Promise<string | undefined>;
  execIdsOf(containerId: string): string[];
  graphData(containerId: string): Record<string, string> | null;
  /** SizeRw and SizeRootFs for `ps -s` and `inspect -s`. */
  sizes(c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }>;
  /** The container's networks for inspect and ps; absent when networking is off. */
  netView?(c: ContainerRecord): ContainerNetView;
  /** The container's mount points (inspect and ps `Mounts`); absent without volumes. */
  mountsOf?(containerId: string): api.MountPoint[];
}

export function containerRoutes(d: ContainerRouteDeps): Route[] {
  const svc = d.containers;
  const createBody = bodyValidator<api.ContainerCreateBody>(containerCreateSchema());
  return [
    { method: 'GET', path: '/containers/json', handler: async (req) => {
      const filters = parseFilters(req.query.get('filters'));
      const limit = queryInt(req.query, 'limit');
      const ancestors = new Map<string, string | undefined>();
      for (const a of filters.get('ancestor') ?? []) ancestors.set(a, await d.resolveImageId(a));
      const imageMatches = (ref: string, c: ContainerRecord) => ancestors.get(ref) === c.imageId;
      const list = selectContainers(svc.list(), { all: queryBool(req.query, 'all'), filters, ...(limit !== undefined ? { limit } : {}) },
        {
          resolve: (r) => svc.resolve(r), imageMatches,
          ...(d.netView ? {
            networksOf: (c: ContainerRecord) => d.netView!(c).attached.flatMap((a) => [a.net.name, a.net.id]),
            portsOf: (c: ContainerRecord) => {
              const ports = summaryPorts(c, d.netView!(c));
              return { published: ports.filter((p) => p.PublicPort).map((p) => `${p.PrivatePort}/${p.Type}`), exposed: ports.map((p) => `${p.PrivatePort}/${p.Type}`) };
            },
          } : {}),
          ...(d.mountsOf ? { volumesOf: (c: ContainerRecord) => d.mountsOf!(c.id).flatMap((m) => [m.Name ?? '', m.Destination].filter(Boolean)) } : {}),
        });
      const out = list.map((c) => toContainerSummary(c, d.netView?.(c)));
      if (d.mountsOf) out.forEach((s) => { s.Mounts = d.mountsOf!(s.Id); });
      if (queryBool(req.query, 'size')) await Promise.all(list.map(async (c, i) => Object.assign(out[i]!, await d.sizes(c))));
      return ok(out);
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
    { method: 'GET', path: '/containers/:id/json', handler: async (req) => {
      const c = svc.resolve(param(req, 'id'));
      const view = toContainerInspect(c, svc.paths(c.id), d.execIdsOf(c.id), d.graphData(c.id), d.netView?.(c));
      if (d.mountsOf) view.Mounts = d.mountsOf(c.id);
      if (queryBool(req.query, 'size')) Object.assign(view, await d.sizes(c));
      return ok(view);
    } },
    { method: 'GET', path: '/containers/:id/top', handler: async (req) => {
      const c = svc.resolve(param(req, 'id'));
      if (!svc.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
      const pids = await svc.runtimeFor(c.runtime).pids(c.id);
      return ok(await topProcesses(pids, req.query.get('ps_args') || '-ef'));
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
      const c = svc.resolve(param(req, 'id'));
      if (!svc.isRunning(c.id)) throw new EngineError('Conflict', `Container ${c.id} is not running`);
      await sendConmonControl(svc.paths(c.id).ctlFifo, 1, queryInt(req.query, 'h', 0)!, queryInt(req.query, 'w', 0)!);
      return ok(null);
    } },
    // `*id`: a link name has slashes (`docker rm --link /web/db` sends /containers//web/db?link=1).
    { method: 'DELETE', path: '/containers/*id', handler: async (req) => {
      if (queryBool(req.query, 'link')) {
        await removeLink({ repo: svc.repo, network: svc.deps.network, liveHostsPath: (id) => (svc.isRunning(id) ? svc.paths(id).hostsPath : undefined) }, param(req, 'id'));
        return noContent();
      }
      await svc.remove(param(req, 'id'), { force: queryBool(req.query, 'force'), volumes: queryBool(req.query, 'v') });
      return noContent();
    } },
    { method: 'POST', path: '/containers/:id/wait', handler: (req) => waitRoute(svc, req) },
    { method: 'GET', path: '/containers/:id/logs', handler: (req) => logsRoute(svc, req) },
    { method: 'POST', path: '/containers/:id/attach', handler: (req) => attachRoute(d, req) },
  ];
}

/** Headers go out at once, then the body when the condition is met (API W11: `docker run` waits for them). */
async function waitRoute(svc: ContainerService, req: ApiRequest) {
  const cond = (req.query.get('condition') || 'not-running') as WaitCondition;
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new EngineError('InvalidParameter', `invalid condition: "${cond}"`);
  const result = svc.wait(param(req, 'id'), cond, req.signal);
  req.res.writeHead(200, { 'Content-Type': 'application/json' });
  req.res.flushHeaders();
  try {
    const r = await result;
    req.res.end(JSON.stringify(r) + '\n');
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

async function logsRoute(svc: ContainerService, req: ApiRequest) {
  const c = svc.resolve(param(req, 'id'));
  const q = req.query;
  const stdout = queryBool(q, 'stdout');
  const stderr = queryBool(q, 'stderr');
  if (!stdout && !stderr) throw new EngineError('InvalidParameter', 'Bad parameters: you must choose at least one stream');
  if (c.hostConfig.LogConfig?.Type === 'none') throw new EngineError('InvalidParameter', `configured logging driver does not support reading`);
  // dockerd (daemon/logs.go): strconv.Atoi, and anything it cannot read, or a negative count, means all lines.
  const tailRaw = q.get('tail') ?? '';
  const tail = /^[+-]?\d+$/.test(tailRaw) && Number(tailRaw) >= 0 ? Number(tailRaw) : undefined;
  const sinceNs = parseSince(q.get('since'));
  const untilNs = parseSince(q.get('until'));
  const opts = { stdout, stderr, ...(tail !== undefined ? { tail } : {}), ...(sinceNs && sinceNs > 0n ? { sinceNs } : {}), ...(untilNs && untilNs > 0n ? { untilNs } : {}) };
  const timestamps = queryBool(q, 'timestamps');
  const tty = !!c.config.Tty;
  const res = req.res;
  res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  res.flushHeaders();
  const write = (e: LogEntry) => {
    const data = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data;
    return res.write(tty ? data : frame(e.stream === 'stdout' ? STDOUT : STDERR, data));
  };
  const path = svc.paths(c.id).logPath;
  for await (const e of readLogs(path, opts)) {
    if (req.signal.aborted) return streamed;
    if (!write(e)) await new Promise((r) => res.once('drain', r));
  }
  if (queryBool(q, 'follow') && svc.isRunning(c.id) && untilNs === undefined) {
    for await (const e of followLogs(path, { ...opts, tail: undefined } as typeof opts, svc.exited(c.id), req.signal)) {
      if (!write(e)) await new Promise((r) => res.once('drain', r));
    }
  }
  res.end();
  return streamed;
}
