import type { JsonMessage, StepEvent } from '../../../api/types/index.ts';
import { humanSize } from '../../../lib/units.ts';

/**
 * `berth build`'s progress display, fed with the messages of the POST /build stream. With berth's
 * step events (contract.ts, `berthprogress=1`) it draws BuildKit's two views:
 *
 * - plain: a log where each step is a numbered block (`#3 [build 2/4] RUN make`, its output lines
 *   as `#3 0.105 cc -o app`, then `#3 DONE 1.8s`, `#3 CACHED` or `#3 ERROR: …`); lines of steps
 *   running in parallel interleave but always carry their number.
 * - tty: a view redrawn in place (cursor up, clear to the end of the screen) listing every step with
 *   its state and elapsed time, the last lines of output of the running ones, parallel stages at
 *   once; it collapses to the list of steps when the build ends.
 *
 * Without step events (a daemon that does not send them) the legacy `Step N/M` stream is printed
 * as docker's legacy builder prints it.
 */

/** The stream the display writes to (a terminal in tty mode). */
export interface DisplayOutput {
  write(s: string): unknown;
  columns?: number;
  rows?: number;
}

type VertexState = 'running' | 'cached' | 'done' | 'error';

interface SubLine { text: string; done: boolean; start: number; end?: number }

interface Vertex {
  num: number;
  name: string;
  state: VertexState;
  start: number;
  end?: number;
  /** Complete output lines (the last LOG_KEEP), with their time since start. */
  logs: Array<{ t: number; text: string }>;
  partial: string;
  partialT: number;
  /** Status lines under the step (context transfer, image pull), keyed so they update in place. */
  subs: Map<string, SubLine>;
  error?: string;
}

/** Output lines kept per step (for the tty view and the error box). */
const LOG_KEEP = 30;
/** Output lines of a running step shown in the tty view. */
const TTY_LOG_LINES = 6;

/** Lines of the legacy builder's own bookkeeping, replaced by the step view when events come. */
const LEGACY_STEP_LINE = /^(Step \d+\/\d+ : |\s*---> |Successfully built |Successfully tagged |Removing intermediate container |\n$)/;

/** A handle on a vertex the CLI itself adds (context upload, export). */
export interface LocalVertex {
  /** Sets or updates a status line under it. */
  status(key: string, text: string, done?: boolean): void;
  done(): void;
  fail(message: string): void;
}

export class BuildDisplay {
  readonly #out: DisplayOutput;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #vertices = new Map<string, Vertex>();
  readonly #order: Vertex[] = [];
  #nextNum = 1;
  #eventsSeen = false;
  /** Legacy step lines held back until it is known whether step events come. */
  #held: string[] = [];
  /** Text that belongs to no step (warnings): printed as it comes (plain) or after the view (tty). */
  #loose: string[] = [];
  #afterError: string[] = [];
  #lastPlain: Vertex | undefined;
  #started: number;
  #drawnLines = 0;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;
  #dirty = false;
  /** The image ID from the aux message. */
  imageId: string | undefined;
  /** The names the daemon tagged ("Successfully tagged x"). */
  readonly tagged: string[] = [];
  /** The last error the stream reported. */
  error: { message: string; code?: number } | undefined;

  constructor(out: DisplayOutput, mode: 'plain' | 'tty', o: { now?: () => number } = {}) {
    this.#out = out;
    this.#tty = mode === 'tty';
    this.#now = o.now ?? Date.now;
    this.#started = this.#now();
    if (this.#tty) {
      this.#timer = setInterval(() => this.#draw(), 100);
      this.#timer.unref();
    }
  }

  /** A step the CLI runs itself ("[internal] load build context", "exporting to image"). */
  addLocal(name: string): LocalVertex {
    const v = this.#vertex(`local:${name}:${this.#nextNum}`, name);
    return {
      status: (key, text, done = false) => {
        const sub = v.subs.get(key);
        if (sub) { sub.text = text; if (done && !sub.done) { sub.done = true; sub.end = this.#now(); } } else v.subs.set(key, { text, done, start: this.#now(), ...(done ? { end: this.#now() } : {}) });
        if (!this.#tty && done) this.#plainLine(v, `${text} done`);
        this.#changed();
      },
      done: () => { this.#settle(v, 'done', this.#now() - v.start); },
      fail: (message) => { v.error = message; this.#settle(v, 'error', this.#now() - v.start); },
    };
  }

  /** Feeds one message of the build stream. */
  message(m: JsonMessage): void {
    if (m.id === 'berth.step' && m.aux && typeof m.aux === 'object') { this.#step(m.aux as StepEvent); return; }
    if (m.id === 'berth.output') return;
    if (m.errorDetail || m.error) { this.error = { message: m.errorDetail?.message ?? m.error ?? 'unknown error', ...(m.errorDetail?.code ? { code: m.errorDetail.code } : {}) }; return; }
    if (m.aux && typeof m.aux === 'object' && typeof (m.aux as { ID?: unknown }).ID === 'string') { this.imageId = (m.aux as { ID: string }).ID; return; }
    if (m.stream !== undefined) { this.#stream(m.stream); return; }
    if (m.status !== undefined) this.#status(m);
  }

  #stream(text: string): void {
    const tag = /^Successfully tagged (.+)\n?$/.exec(text);
    if (tag) this.tagged.push(tag[1]!);
    if (LEGACY_STEP_LINE.test(text)) {
      if (!this.#eventsSeen) this.#held.push(text);
      return;
    }
    this.#flushHeld();
    // Text after a step failed (dockerd's Dockerfile excerpt around the failing line) follows
    // the failed step's output box, as BuildKit orders them.
    if (this.#eventsSeen && this.#order.some((v) => v.state === 'error')) { this.#afterError.push(text); return; }
    if (this.#eventsSeen) {
      // Text outside the steps (warnings, a RUN's output from a daemon that does not tag it).
      const running = this.#order.filter((v) => v.state === 'running' && !v.name.startsWith('[internal]'));
      if (running.length === 1) { this.#log(running[0]!, text, this.#now()); return; }
    }
    if (this.#tty) { this.#loose.push(text); this.#changed(); } else this.#out.write(text);
  }

  /** Pull progress (`FROM` of an image not here yet). */
  #status(m: JsonMessage): void {
    const running = [...this.#order].reverse().find((v) => v.state === 'running' && !v.name.startsWith('[internal]'));
    const text = `${m.id ? `${m.id}: ` : ''}${m.status}${m.progress && this.#tty ? ` ${m.progress}` : ''}`;
    if (!running || !this.#eventsSeen) {
      this.#flushHeld();
      if (!m.progress || !this.#tty) { if (this.#tty) this.#loose.push(`${text}\n`); else this.#out.write(`${text}\n`); }
      return;
    }
    const done = /complete|Already exists|Downloaded newer image|Image is up to date|Digest:/i.test(m.status ?? '');
    const key = m.id ?? m.status ?? '';
    const sub = running.subs.get(key);
    if (sub) { sub.text = text; sub.done = done; if (done) sub.end = this.#now(); } else running.subs.set(key, { text, done, start: this.#now(), ...(done ? { end: this.#now() } : {}) });
    if (!this.#tty && !m.progress) this.#plainLine(running, text);
    this.#changed();
  }

  #step(ev: StepEvent): void {
    if (!this.#eventsSeen) { this.#eventsSeen = true; this.#held = []; }
    const at = ev.ts ?? this.#now();
    let v = this.#vertices.get(ev.vertex);
    if (!v) v = this.#vertex(ev.vertex, ev.name ?? ev.vertex, at);
    else if (ev.name && ev.status === 'started') v.name = ev.name;
    switch (ev.status) {
      case 'started': break;
      case 'log': this.#log(v, ev.data ?? '', at); break;
      case 'cached': this.#settle(v, 'cached', ev.elapsedMs ?? 0); break;
      case 'done': this.#settle(v, 'done', ev.elapsedMs ?? at - v.start); break;
      case 'error':
        if (ev.error !== undefined) v.error = ev.error;
        this.#settle(v, 'error', ev.elapsedMs ?? at - v.start);
        break;
    }
    this.#changed();
  }

  #vertex(key: string, name: string, at = this.#now()): Vertex {
    const v: Vertex = { num: this.#nextNum++, name, state: 'running', start: at, logs: [], partial: '', partialT: 0, subs: new Map() };
    this.#vertices.set(key, v);
    this.#order.push(v);
    if (!this.#tty) this.#plainHeader(v);
    this.#changed();
    return v;
  }

  #log(v: Vertex, data: string, at: number): void {
    const t = Math.max(0, at - v.start);
    const parts = (v.partial + data).split('\n');
    if (v.partial === '') v.partialT = t;
    v.partial = parts.pop()!;
    for (const line of parts) {
      this.#keepLine(v, { t: v.partialT, text: line.replace(/\r$/, '') });
      v.partialT = t;
    }
    if (parts.length && v.partial !== '') v.partialT = t;
  }

  #keepLine(v: Vertex, l: { t: number; text: string }): void {
    v.logs.push(l);
    if (v.logs.length > LOG_KEEP) v.logs.shift();
    if (!this.#tty) this.#plainLine(v, `${(l.t / 1000).toFixed(3)} ${l.text}`);
  }

  #settle(v: Vertex, state: VertexState, elapsedMs: number): void {
    if (v.partial !== '') { this.#keepLine(v, { t: v.partialT, text: v.partial }); v.partial = ''; }
    v.state = state;
    v.end = v.start + elapsedMs;
    if (!this.#tty) {
      if (state === 'cached') this.#plainLine(v, 'CACHED');
      else if (state === 'done') this.#plainLine(v, `DONE ${secs(elapsedMs)}`);
      else this.#plainLine(v, `ERROR: ${v.error ?? 'failed'}`);
    }
    this.#changed();
  }

  #flushHeld(): void {
    if (this.#eventsSeen || this.#held.length === 0) return;
    const text = this.#held.join('');
    this.#held = [];
    if (this.#tty) this.#loose.push(text); else this.#out.write(text);
  }

  // ---- plain ----

  #plainHeader(v: Vertex): void {
    this.#out.write(`${this.#lastPlain ? '\n' : ''}#${v.num} ${v.name}\n`);
    this.#lastPlain = v;
  }

  #plainLine(v: Vertex, text: string): void {
    if (this.#lastPlain !== v) this.#out.write('\n');
    this.#lastPlain = v;
    this.#out.write(`#${v.num} ${text}\n`);
  }

  // ---- tty ----

  #changed(): void { this.#dirty = true; }

  /** The lines of the tty view. `final`: no output lines, the header says FINISHED. */
  frame(final = false): string[] {
    const width = Math.max(40, (this.#out.columns ?? 80) - 1);
    const now = this.#now();
    const done = this.#order.filter((v) => v.state !== 'running').length;
    const total = ((this.#finished ? now : now) - this.#started) / 1000;
    const head = `[+] Building ${total.toFixed(1)}s (${done}/${this.#order.length})${final ? ` ${this.error ? 'FINISHED' : 'FINISHED'}` : ''}`;
    const lines: string[] = [head];
    const row = (left: string, ms: number | undefined): string => {
      const right = ms === undefined ? '' : secs(ms);
      const room = width - right.length - 1;
      const l = left.length > room ? `${left.slice(0, Math.max(0, room - 3))}...` : left;
      return right ? `${l.padEnd(room)} ${right}` : l;
    };
    for (const v of this.#order) {
      const prefix = v.state === 'cached' ? ' => CACHED ' : v.state === 'error' ? ' => ERROR ' : ' => ';
      lines.push(row(`${prefix}${v.name}`, (v.end ?? now) - v.start));
      for (const s of v.subs.values()) lines.push(row(` => => ${s.text}`, s.done || final ? (s.end ?? now) - s.start : (now - s.start)));
      if (!final && v.state === 'running') {
        const logs = [...v.logs.map((l) => l.text), ...(v.partial ? [v.partial] : [])].slice(-TTY_LOG_LINES);
        // eslint-disable-next-line no-control-regex -- a log line must not move the cursor or clear the screen
        for (const l of logs) lines.push(row(` => => # ${l.replace(/\t/g, '  ').replace(/[\x00-\x1f\x7f]/g, '')}`, undefined));
      }
    }
    // Too tall for the terminal: drop finished steps from the top (moving up past the screen breaks redraws).
    const rows = this.#out.rows ?? 24;
    if (!final && lines.length > rows - 1) {
      const keep = lines.slice(0, 1);
      const body = lines.slice(1);
      return [...keep, ...body.slice(body.length - (rows - 2))];
    }
    return lines;
  }

  #draw(final = false): void {
    if (!this.#tty || (!this.#dirty && !final && this.#order.every((v) => v.state !== 'running'))) return;
    this.#dirty = false;
    const lines = this.frame(final);
    let s = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A\r\x1b[J` : '';
    s += lines.map((l) => `${l}\n`).join('');
    this.#drawnLines = lines.length;
    this.#out.write(s);
  }

  /**
   * Ends the display: the final tty frame (or nothing more in plain mode), then the output of the
   * step that failed, boxed as BuildKit does, and text that belonged to no step.
   */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearInterval(this.#timer);
    if (!this.#eventsSeen && this.#held.length) {
      // No step events came: this daemon speaks only the legacy stream.
      const text = this.#held.join('');
      this.#held = [];
      if (this.#tty) this.#loose.push(text); else this.#out.write(text);
    }
    if (this.#tty) {
      this.#draw(true);
      if (this.#loose.length) this.#out.write(this.#loose.join(''));
    }
    const failed = this.#order.find((v) => v.state === 'error' && v.logs.length > 0);
    if (failed) {
      const box = failed.logs.slice(-10).map((l) => `${(l.t / 1000).toFixed(3)} ${l.text}\n`).join('');
      this.#out.write(`------\n > ${failed.name}:\n${box}------\n`);
    }
    if (this.#afterError.length) this.#out.write(this.#afterError.join(''));
  }

  /** True once a step event arrived. */
  get stepEvents(): boolean { return this.#eventsSeen; }
}

const secs = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)}s`;

/** "2.05kB" style sizes for transfer lines. */
export const transferSize = (bytes: number): string => humanSize(bytes).replace(/\s+/g, '');
