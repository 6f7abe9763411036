import { API_VERSION, MIN_API_VERSION } from '../types/index.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { EngineEvent, EventsEngine, SystemEngine } from '../../engine/index.ts';
import { type ApiRequest, type Route, ok, streamed } from '../router.ts';
import { EngineError } from '../../lib/errors.ts';
import { toApiEvent, toApiInfo, toApiVersion } from './system-views.ts';

/** What the system routes need: facts only the engine knows. */
export interface SystemBackend {
  system: Pick<SystemEngine, 'version' | 'info'>;
  events: EventsEngine;
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
    { method: 'GET', path: '/version', handler: async () => ok({ ...toApiVersion(await b.system.version()), ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION }) },
    { method: 'GET', path: '/info', handler: async () => ok(toApiInfo(await b.system.info())) },
    { method: 'GET', path: '/events', handler: (req) => eventsRoute(b.events, req) },
  ];
}

/**
 * An events timestamp as dockerd reads one (seconds, optionally with a fraction, as the CLI sends
 * them; an RFC 3339 time is accepted too), in nanoseconds since the epoch.
 */
export function parseEventTime(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return Number(BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0')));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new EngineError('InvalidParameter', `invalid timestamp: ${v}`);
  return t * 1e6;
}

/**
 * GET /events: past events between `since` and `until` from the bus's history, then live ones
 * until `until` passes or the client leaves. Written with backpressure: a client that stops
 * reading is cut off once its subscription's queue overflows, never buffered without bound.
 */
async function eventsRoute(events: EventsEngine, req: ApiRequest) {
  const filters = parseFilters(req.query.get('filters'));
  const sinceRaw = req.query.get('since');
  const untilRaw = req.query.get('until');
  const since = parseEventTime(sinceRaw);
  const until = parseEventTime(untilRaw);
  if (since !== undefined && until !== undefined && until < since) {
    throw new EngineError('InvalidParameter', '`since` time (' + sinceRaw + ') cannot be after `until` time (' + untilRaw + ')');
  }
  const { past, live: sub } = events.watch({ filters, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) });
  const res = req.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const abort = new AbortController();
  const onClose = () => abort.abort();
  req.signal.addEventListener('abort', onClose);
  res.once('close', onClose);
  let timer: NodeJS.Timeout | undefined;
  if (until !== undefined) timer = setTimeout(() => { abort.abort(); }, Math.max(0, until / 1e6 - Date.now()));
  const write = async (ev: EngineEvent) => {
    if (res.write(`${JSON.stringify(toApiEvent(ev))}\n`)) return;
    await new Promise<void>((resolve) => {
      const done = () => { res.off('drain', done); abort.signal.removeEventListener('abort', done); resolve(); };
      res.on('drain', done);
      abort.signal.addEventListener('abort', done, { once: true });
    });
  };
  try {
    for (const ev of past) {
      if (abort.signal.aborted) break;
      await write(ev);
    }
    // An `until` in the past: the history is all there is.
    if (until === undefined || until > Date.now() * 1e6) {
      for (let ev = await sub.next(abort.signal); ev && !abort.signal.aborted; ev = await sub.next(abort.signal)) await write(ev);
    }
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener('abort', onClose);
    sub.close();
  }
  // A reader that fell too far behind is disconnected rather than sent a stream with holes.
  if (sub.overflowed) res.destroy();
  else res.end();
  return streamed;
}
