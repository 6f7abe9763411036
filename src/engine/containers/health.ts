import type { ContainerConfig, HealthConfig, HealthState } from '../../api/types/index.ts';
import { EngineError, messageOf } from '../../lib/errors.ts';
import { type Clock, systemClock } from './restart.ts';

/** dockerd's health-check defaults (daemon/health.go); durations on the wire are nanoseconds. */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 } as const;
/** Probe output kept per result; longer output is cut and ends with "...". */
export const MAX_PROBE_OUTPUT = 4096;
/** Results kept in State.Health.Log. */
export const MAX_HEALTH_LOG = 5;

/** The command a container's probe runs, or undefined when it has no (or a NONE) health check. */
export function probeCommand(config: ContainerConfig): string[] | undefined {
  const test = config.Healthcheck?.Test;
  if (!test?.length) return undefined;
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest.length ? rest : undefined;
  if (kind === 'CMD-SHELL') {
    if (!rest.length) return undefined;
    return [...(config.Shell?.length ? config.Shell : ['/bin/sh', '-c']), ...rest];
  }
  return undefined; // NONE, or a type dockerd ignores with a warning
}

/**
 * dockerd's create-time checks of Config.Healthcheck (1 ms is its minimum duration). An unset
 * duration is 0 or absent, and null (docker-py sends null for every field it leaves unset; Go
 * decodes null into a zero Duration). Negative values and values in (0, 1ms) are refused, as dockerd does.
 * @throws EngineError InvalidParameter with dockerd's wording
 */
export function validateHealthConfig(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const min = (v: number | null | undefined, name: string) => {
    if (v != null && v !== 0 && v < 1_000_000) throw new EngineError('InvalidParameter', `${name} in Healthcheck cannot be less than 1ms`);
  };
  min(h.Interval, 'Interval');
  min(h.Timeout, 'Timeout');
  if ((h.Retries ?? 0) < 0) throw new EngineError('InvalidParameter', 'Retries in Healthcheck cannot be negative');
  min(h.StartPeriod, 'StartPeriod');
  min(h.StartInterval, 'StartInterval');
}

/** One probe's outcome as the runner reports it. */
export interface ProbeOutcome { exitCode: number; output: string; timedOut?: boolean }

/** Runs a probe command inside a running container (ExecService.runProbe). */
export type ProbeRunner = (containerId: string, cmd: string[], opts: { timeoutMs: number; user?: string; workingDir?: string; signal: AbortSignal }) => Promise<ProbeOutcome>;

/** What the monitor needs to know about a container it watches. */
export interface HealthSubject {
  id: string;
  config: ContainerConfig;
  state: { startedAt: string; health?: HealthState };
}

export interface HealthMonitorDeps {
  probe: ProbeRunner;
  /** Records the container's new health (State.Health); called on every change. */
  save(id: string, health: HealthState): void;
  /** A status change: `health_status: healthy` and so on. */
  publish(id: string, action: string): void;
  clock?: Clock;
  log?: { debug(o: object, m?: string): void };
}

interface Timings { intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number }

interface Watch {
  subject: HealthSubject;
  cmd: string[];
  health: HealthState;
  startedMs: number;
  timer: unknown;
  abort: AbortController;
  stopped: boolean;
}

/**
 * Health checks of running containers (dockerd's health monitor). Per container: begin (status
 * `starting`) → a probe every interval (the start interval while starting within the start period)
 * → `healthy` on a zero exit, `unhealthy` after `retries` failures in a row (failures inside the
 * start period do not count while still starting) → end when the container stops or pauses: the
 * timer and any running probe go, a late result is dropped, the last health stays on record.
 * Probes run one at a time, the next interval counted from the end of the last probe.
 */
export class HealthMonitor {
  readonly #watches = new Map<string, Watch>();
  readonly #clock: Clock;

  constructor(private readonly deps: HealthMonitorDeps) {
    this.#clock = deps.clock ?? systemClock;
  }

  /**
   * Starts probing a running container. `reset` (a start or restart; the default) sets `starting`
   * and a zero streak, keeping the log; without it (unpause) the health goes on where it was.
   */
  begin(c: HealthSubject, opts: { reset?: boolean } = {}): void {
    this.end(c.id);
    const cmd = probeCommand(c.config);
    if (!cmd) return;
    const prev = c.state.health;
    const health: HealthState = opts.reset === false && prev
      ? { ...prev, Log: [...(prev.Log ?? [])] }
      : { Status: 'starting', FailingStreak: 0, Log: [...(prev?.Log ?? [])] };
    const startedMs = Date.parse(c.state.startedAt);
    const w: Watch = { subject: c, cmd, health, startedMs: Number.isFinite(startedMs) ? startedMs : this.#clock.now(), timer: undefined, abort: new AbortController(), stopped: false };
    this.#watches.set(c.id, w);
    this.deps.save(c.id, health);
    this.#schedule(w);
  }

  /** Stops probing (idempotent); a probe under way is killed and its result ignored. */
  end(id: string): void {
    const w = this.#watches.get(id);
    if (!w) return;
    w.stopped = true;
    this.#clock.clearTimeout(w.timer);
    w.abort.abort();
    this.#watches.delete(id);
  }

  /** The live health of a watched container. */
  current(id: string): HealthState | undefined {
    return this.#watches.get(id)?.health;
  }

  close(): void {
    for (const id of [...this.#watches.keys()]) this.end(id);
  }

  #cfg(w: Watch): Timings {
    const h = w.subject.config.Healthcheck ?? {};
    const ms = (ns: number | undefined, dflt: number) => (ns ? ns / 1e6 : dflt);
    return {
      intervalMs: ms(h.Interval, HEALTH_DEFAULTS.intervalMs), timeoutMs: ms(h.Timeout, HEALTH_DEFAULTS.timeoutMs),
      startPeriodMs: ms(h.StartPeriod, HEALTH_DEFAULTS.startPeriodMs), startIntervalMs: ms(h.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
      retries: h.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries,
    };
  }

  #schedule(w: Watch): void {
    const cfg = this.#cfg(w);
    const inStartPeriod = this.#clock.now() - w.startedMs < cfg.startPeriodMs;
    const delay = inStartPeriod && w.health.Status === 'starting' ? cfg.startIntervalMs : cfg.intervalMs;
    w.timer = this.#clock.setTimeout(() => void this.#probe(w), delay);
  }

  async #probe(w: Watch): Promise<void> {
    if (w.stopped) return;
    const cfg = this.#cfg(w);
    const start = this.#clock.now();
    const c = w.subject;
    let out: ProbeOutcome;
    try {
      out = await this.deps.probe(c.id, w.cmd, {
        timeoutMs: cfg.timeoutMs, signal: w.abort.signal,
        ...(c.config.User ? { user: c.config.User } : {}), ...(c.config.WorkingDir ? { workingDir: c.config.WorkingDir } : {}),
      });
    } catch (err) {
      out = { exitCode: -1, output: messageOf(err) };
    }
    if (w.stopped) return;
    if (out.timedOut) {
      const d = goDuration(cfg.timeoutMs);
      out = { exitCode: -1, output: out.output ? `Health check exceeded timeout (${d}): ${out.output}` : `Health check exceeded timeout (${d})` };
    }
    this.#record(w, { start, end: this.#clock.now(), exitCode: out.exitCode, output: out.output }, cfg);
    this.#schedule(w);
  }

  #record(w: Watch, r: { start: number; end: number; exitCode: number; output: string }, cfg: Timings): void {
    const h = w.health;
    const old = h.Status;
    h.Log = [...h.Log, { Start: new Date(r.start).toISOString(), End: new Date(r.end).toISOString(), ExitCode: r.exitCode, Output: r.output }].slice(-MAX_HEALTH_LOG);
    if (r.exitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else if (!(h.Status === 'starting' && r.start - w.startedMs < cfg.startPeriodMs)) {
      h.FailingStreak++;
      if (h.FailingStreak >= cfg.retries) h.Status = 'unhealthy';
    }
    this.deps.save(w.subject.id, h);
    if (h.Status !== old) this.deps.publish(w.subject.id, `health_status: ${h.Status}`);
    this.deps.log?.debug({ id: w.subject.id, exitCode: r.exitCode, status: h.Status }, 'health probe');
  }
}

/** Go's time.Duration.String for a whole number of milliseconds or more: 30s, 1.5s, 500ms, 1m30s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trimFloat(ms)}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${trimFloat(Math.round(s * 1e9) / 1e9)}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

const trimFloat = (x: number): string => String(Number(x.toFixed(9)));

/**
 * Collects probe output up to MAX_PROBE_OUTPUT bytes; the rest is dropped and marked with "..."
 * (dockerd's limitedBuffer).
 */
export class LimitedBuffer {
  readonly #chunks: Buffer[] = [];
  #len = 0;
  #truncated = false;
  write(b: Buffer): void {
    const keep = Math.min(MAX_PROBE_OUTPUT - this.#len, b.length);
    if (keep > 0) { this.#chunks.push(b.subarray(0, keep)); this.#len += keep; }
    if (keep < b.length) this.#truncated = true;
  }
  toString(): string {
    return Buffer.concat(this.#chunks).toString('utf8') + (this.#truncated ? '...' : '');
  }
}
