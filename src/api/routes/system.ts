import type * as api from '../types/index.ts';
import { API_VERSION, MIN_API_VERSION } from '../types/index.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { EventBus, EngineEvent } from '../../engine/events.ts';
import { type ApiRequest, type Route, ok, streamed } from '../router.ts';
import { EngineError } from '../../lib/errors.ts';

/** What the system routes need: facts only the engine knows. */
export interface SystemBackend {
  version(): Omit<api.VersionResponse, 'ApiVersion' | 'MinAPIVersion'>;
  info(): Promise<Record<string, unknown>>;
  events: EventBus;
}

const PING_HEADERS = {
  'Api-Version': API_VERSION, 'Builder-Version': '1', 'Docker-Experimental': 'false', Swarm: 'inactive',
  'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Type': 'text/plain; charset=utf-8',
};

export function systemRoutes(b: SystemBackend): Route[] {
  const ping = (req: ApiRequest) => {
    req.res.writeHead(200, { ...PING_HEADERS, 'Content-Length': 2 });
    req.res.end(req.method === 'HEAD' ? undefined : 'OK');
    return streamed;
  };
  return [
    { method: 'GET', path: '/_ping', handler: ping },
    { method: 'HEAD', path: '/_ping', handler: ping },
    { method: 'GET', path: '/version', handler: () => ok({ ...b.version(), ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION }) },
    { method: 'GET', path: '/info', handler: async () => ok(await b.info()) },
    { method: 'GET', path: '/events', handler: (req) => eventsRoute(b.events, req) },
  ];
}

function toSeconds(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new EngineError('InvalidParameter', `invalid timestamp: ${v}`);
  return t / 1000;
}

function matches(ev: EngineEvent, f: ReadonlyMap<string, readonly string[]>): boolean {
  const get = (k: string) => f.get(k) ?? [];
  if (get('type').length && !get('type').includes(ev.Type)) return false;
  if (get('event').length && !get('event').some((e) => ev.Action === e || ev.Action.startsWith(`${e}:`))) return false;
  const ids = [...get('container'), ...get('image'), ...get('network'), ...get('volume')];
  if (ids.length && !ids.some((i) => ev.Actor.ID.startsWith(i) || ev.Actor.Attributes['name'] === i || ev.Actor.Attributes['image'] === i)) return false;
  for (const l of get('label')) {
    const eq = l.indexOf('=');
    const [k, v] = eq < 0 ? [l, undefined] : [l.slice(0, eq), l.slice(eq + 1)];
    if (!(k in ev.Actor.Attributes) || (v !== undefined && ev.Actor.Attributes[k] !== v)) return false;
  }
  return true;
}

/** GET /events: past events since `since`, then live ones until `until` or the client leaves. */
async function eventsRoute(bus: EventBus, req: ApiRequest) {
  const filters = parseFilters(req.query.get('filters'));
  const since = toSeconds(req.query.get('since'));
  const until = toSeconds(req.query.get('until'));
  const res = req.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const send = (ev: EngineEvent) => { if (matches(ev, filters)) res.write(JSON.stringify(ev) + '\n'); };
  if (since !== undefined) for (const ev of bus.since(since * 1e9)) if (until === undefined || ev.time <= until) send(ev);
  if (until !== undefined && until * 1000 <= Date.now()) { res.end(); return streamed; }
  await new Promise<void>((resolve) => {
    const unsubscribe = bus.subscribe((ev) => { if (until === undefined || ev.time <= until) send(ev); });
    const stop = () => { unsubscribe(); resolve(); };
    req.signal.addEventListener('abort', stop);
    if (until !== undefined) setTimeout(stop, until * 1000 - Date.now());
  });
  res.end();
  return streamed;
}
