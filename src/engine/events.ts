/**
 * One engine event: what happened (`action`) to which object (`actor`: its ID and attributes such
 * as name and image). The API renders it as Docker's event message (api/routes/system-views.ts).
 */
export interface EngineEvent {
  type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder' | 'plugin';
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  scope: 'local';
  /** Nanoseconds since the epoch, strictly increasing over the bus's events. */
  timeNano: number;
}

/** Events kept for `events --since` (dockerd keeps 256). */
export const DEFAULT_HISTORY = 2048;
/** Events a subscriber may have waiting; one more and it is dropped (its stream ends). */
export const DEFAULT_SUBSCRIBER_QUEUE = 1024;

/**
 * A subscriber's bounded queue. The bus pushes without ever waiting; a reader that falls
 * `maxQueue` events behind is closed with `overflowed` set, so a slow client costs bounded memory
 * and never holds up the daemon or other subscribers.
 */
export class EventSubscription {
  readonly #queue: EngineEvent[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  overflowed = false;

  constructor(private readonly opts: { maxQueue: number; filter?: (ev: EngineEvent) => boolean; onClose: () => void }) {}

  /** Called by the bus. */
  push(ev: EngineEvent): void {
    if (this.#closed || (this.opts.filter && !this.opts.filter(ev))) return;
    if (this.#queue.length >= this.opts.maxQueue) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.#queue.push(ev);
    this.#wake?.();
  }

  /** The next event; undefined once closed (by `close`, an overflow or the abort signal). */
  async next(signal?: AbortSignal): Promise<EngineEvent | undefined> {
    while (!this.#queue.length) {
      if (this.#closed || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => { this.#wake = undefined; signal?.removeEventListener('abort', done); resolve(); };
        this.#wake = done;
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    return this.#queue.shift();
  }

  get queued(): number { return this.#queue.length; }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = this.overflowed ? 0 : this.#queue.length;
    this.opts.onClose();
    this.#wake?.();
  }
}

/**
 * In-process event bus with a bounded history (a ring buffer), so `events --since` can replay
 * recent events. Publishing is synchronous and O(subscribers); each subscriber has its own bounded
 * queue (EventSubscription).
 */
export class EventBus {
  readonly #history: (EngineEvent | undefined)[];
  #next = 0;
  readonly #subs = new Set<EventSubscription>();
  readonly #listeners = new Set<(ev: EngineEvent) => void>();
  #lastNs = 0;

  constructor(private readonly historySize = DEFAULT_HISTORY) {
    this.#history = new Array<EngineEvent | undefined>(historySize);
  }

  publish(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    let nowNs = Number(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n));
    // Strictly increasing, so --since/--until at an event's own timeNano is exact. A double holds
    // today's nanosecond times to 256 ns, so the step is 512.
    if (nowNs <= this.#lastNs) nowNs = this.#lastNs + 512;
    this.#lastNs = nowNs;
    const ev: EngineEvent = { type, action, actor: { id, attributes }, scope: 'local', timeNano: nowNs };
    this.#history[this.#next % this.historySize] = ev;
    this.#next++;
    for (const s of this.#subs) s.push(ev);
    for (const fn of this.#listeners) fn(ev);
  }

  /** Past events with sinceNs <= timeNano <= untilNs (nanoseconds since the epoch), oldest first. */
  since(sinceNs: number, untilNs = Infinity): EngineEvent[] {
    const out: EngineEvent[] = [];
    const first = Math.max(0, this.#next - this.historySize);
    for (let i = first; i < this.#next; i++) {
      const ev = this.#history[i % this.historySize]!;
      if (ev.timeNano >= sinceNs && ev.timeNano <= untilNs) out.push(ev);
    }
    return out;
  }

  /** A synchronous listener (it must not block); returns the unsubscribe function. */
  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => { this.#listeners.delete(fn); };
  }

  /** A queued subscription to events published from now on (a stream to a client); close it when done. */
  open(opts: { maxQueue?: number; filter?: (ev: EngineEvent) => boolean } = {}): EventSubscription {
    const sub: EventSubscription = new EventSubscription({
      maxQueue: opts.maxQueue ?? DEFAULT_SUBSCRIBER_QUEUE, ...(opts.filter ? { filter: opts.filter } : {}),
      onClose: () => this.#subs.delete(sub),
    });
    this.#subs.add(sub);
    return sub;
  }

  get subscribers(): number { return this.#subs.size; }

  /** EventsEngine.watch (contracts/events.ts): the history and the live subscription in one tick. */
  watch(opts: { filters: ReadonlyMap<string, readonly string[]>; since?: number; until?: number }): { past: EngineEvent[]; live: EventSubscription } {
    const { filters, since, until } = opts;
    const inRange = (ev: EngineEvent) => until === undefined || ev.timeNano <= until;
    const live = this.open({ filter: (ev) => inRange(ev) && matchEvent(ev, filters) });
    const past = since !== undefined || until !== undefined ? this.since(since ?? 0, until ?? Infinity).filter((ev) => matchEvent(ev, filters)) : [];
    return { past, live };
  }
}

/**
 * dockerd's event filter (daemon/events/filter.go): every given key must match. `container`,
 * `network`, `volume`, `daemon`, `plugin` … match the Actor's ID or name attribute by prefix,
 * whatever the event's type (a network named like the container matches too); `image` exactly
 * by ID or name, with or without its tag; `label` as k or k=v on the attributes; `event` exactly,
 * or by prefix when one value is health_status, exec_create or exec_start.
 */
export function matchEvent(ev: EngineEvent, filters: ReadonlyMap<string, readonly string[]>): boolean {
  const values = (k: string) => filters.get(k) ?? [];
  const exact = (k: string, ...sources: string[]) => !values(k).length || sources.some((s) => values(k).includes(s));
  const fuzzy = (k: string, ...sources: string[]) => !values(k).length || sources.some((s) => values(k).some((v) => s === v || s.startsWith(v)));
  const events = values('event');
  const fuzzyEvent = events.some((e) => e === 'health_status' || e === 'exec_create' || e === 'exec_start');
  if (fuzzyEvent ? !fuzzy('event', ev.action) : !exact('event', ev.action)) return false;
  if (!exact('type', ev.type) || !exact('scope', ev.scope)) return false;
  const attrs = ev.actor.attributes;
  for (const t of ['container', 'daemon', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config']) {
    // dockerd does not look at the type here: the ID or the name attribute decides.
    if (!fuzzy(t, ev.actor.id, attrs['name'] ?? '')) return false;
  }
  if (values('image').length) {
    const name = (ev.type === 'image' ? attrs['name'] : attrs['image']) ?? '';
    if (!exact('image', ev.actor.id, name, stripTag(ev.actor.id), stripTag(name))) return false;
  }
  for (const l of values('label')) {
    const eq = l.indexOf('=');
    const [k, v] = eq < 0 ? [l, undefined] : [l.slice(0, eq), l.slice(eq + 1)];
    if (!(k in attrs) || (v !== undefined && attrs[k] !== v)) return false;
  }
  return true;
}

/** `busybox:latest` → `busybox`, `reg:5000/a/b:1` → `reg:5000/a/b`; digests and IDs stay. */
function stripTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}
