import { EventEmitter } from 'node:events';

/** One engine event, in the shape GET /events sends (API W16), legacy fields included. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

/**
 * In-process event bus with a short history, so `events --since` can replay recent events.
 * Subscribers get every event published after they subscribe.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  readonly #history: EngineEvent[] = [];
  constructor(private readonly historySize = 1024) {
    this.#emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const ev: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = id;
      if (attributes['image']) ev.from = attributes['image'];
    }
    this.#history.push(ev);
    if (this.#history.length > this.historySize) this.#history.shift();
    this.#emitter.emit('event', ev);
  }

  /** Past events at or after `sinceNs` (nanoseconds since the epoch). */
  since(sinceNs: number): EngineEvent[] {
    return this.#history.filter((e) => e.timeNano >= sinceNs);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.#emitter.on('event', fn);
    return () => this.#emitter.off('event', fn);
  }
}
