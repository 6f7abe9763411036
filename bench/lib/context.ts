/**
 * What every benchmark gets: the engines, the CLI targets, a place for rows and extra sections,
 * and helpers that time a CLI command over targets without letting one failing engine stop
 * the rest of the suite.
 */
import { removeAllContainers, type BerthEngine, type DockerEngine, type PodmanEngine, type Target, type TargetId } from './engines.ts';
import { abort, median, type CmdResult } from './proc.ts';
import type { Row } from './report.ts';

export interface BenchContext {
  root: string;
  berth: BerthEngine;
  docker: DockerEngine;
  podman: PodmanEngine;
  targets: Target[];
  rows: Row[];
  /** Extra markdown sections (e.g. the run --rm breakdown), in order. */
  sections: string[];
  /** Scales iteration counts (BENCH_SCALE, default 1) for quick trial runs. */
  n(count: number): number;
  log(msg: string): void;
}

export interface Benchmark {
  name: string;
  describe: string;
  /** Needs none of the engines: a run of only such benchmarks starts no daemon. */
  standalone?: boolean;
  run(ctx: BenchContext): Promise<void>;
}

/** Set by Ctrl-C: the timing loops stop and the suite goes straight to cleanup. */
export { abort };

/** Runs a CLI command that must succeed; throws with its output otherwise. */
export function ok(r: CmdResult, what: string): string {
  if (abort.requested) throw new Error('aborted');
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return r.stdout.trim();
}

/**
 * Times one command per target, round-robin: iteration i runs on every target before iteration
 * i+1 starts, so load from other work on the machine spreads evenly over the engines instead
 * of skewing whichever one ran during a busy spell. A target whose command fails leaves the
 * rotation (its error goes into `errors`); the others go on. Durations are in ms.
 */
export function interleaved(ctx: BenchContext, ids: TargetId[], argsFor: (t: Target) => string[], n: number, warm: number): { times: Map<TargetId, number[]>; errors: string[] } {
  const live = ctx.targets.filter((t) => ids.includes(t.id));
  const times = new Map<TargetId, number[]>(live.map((t) => [t.id, []]));
  const errors: string[] = [];
  for (let i = 0; i < warm + n; i++) {
    for (const t of [...live]) {
      if (abort.requested) throw new Error('aborted');
      const r = t.run(argsFor(t));
      try {
        ok(r, `${t.label} ${argsFor(t).join(' ')}`);
      } catch (err) {
        if (abort.requested) throw err;
        errors.push(`${t.label} failed: ${String((err as Error).message).slice(0, 300)}`);
        times.delete(t.id);
        live.splice(live.indexOf(t), 1);
        continue;
      }
      if (i >= warm) times.get(t.id)!.push(r.ms);
    }
  }
  for (const [id, xs] of times) if (xs.length) ctx.log(`  ${id}: median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`);
  return { times, errors };
}

/** Applies `f` to each target's durations. */
export function summarize(times: Map<TargetId, number[]>, f: (xs: number[]) => number): Partial<Record<TargetId, number>> {
  const out: Partial<Record<TargetId, number>> = {};
  for (const [id, xs] of times) out[id] = f(xs);
  return out;
}

/** Removes every container in every engine; a benchmark calls it in `finally`. */
export function cleanAll(ctx: BenchContext): void {
  for (const e of [ctx.berth, ctx.docker, ctx.podman]) {
    try { removeAllContainers(e); } catch (err) { ctx.log(`  cleanup of ${e.id} failed: ${String(err)}`); }
  }
}

export const ALL: TargetId[] = ['berth', 'docker-berthd', 'docker', 'podman'];
export { median };

/** Round-robin over targets (as `interleaved`), with a step that returns a value per run; a failing target leaves. */
export function roundRobin<T>(ts: Target[], n: number, warm: number, step: (t: Target, i: number) => T): { out: Map<TargetId, T[]>; errors: string[] } {
  const live = [...ts];
  const out = new Map<TargetId, T[]>(ts.map((t) => [t.id, []]));
  const errors: string[] = [];
  for (let i = 0; i < warm + n; i++) {
    for (const t of [...live]) {
      if (abort.requested) throw new Error('aborted');
      let v: T;
      try {
        v = step(t, i);
      } catch (err) {
        if (abort.requested || String(err).includes('aborted')) throw err;
        errors.push(`${t.label}: ${String((err as Error).message ?? err).slice(0, 400)}`);
        out.delete(t.id);
        live.splice(live.indexOf(t), 1);
        continue;
      }
      if (i >= warm) out.get(t.id)!.push(v);
    }
  }
  return { out, errors };
}

/** One figure per target from its recorded values (targets without values left out). */
export function pick<T>(m: Map<TargetId, T[]>, f: (xs: T[]) => number): Partial<Record<TargetId, number>> {
  const o: Partial<Record<TargetId, number>> = {};
  for (const [id, xs] of m) if (xs.length) o[id] = f(xs);
  return o;
}
