/**
 * CLI latency benchmarks: `run --rm`, `run -d` x20 and `exec`, each through the berth CLI, the
 * docker CLI against berthd, docker and podman, interleaved round-robin (see `interleaved`).
 */
import { ALL, cleanAll, interleaved, median, ok, summarize, type Benchmark } from '../lib/context.ts';
import type { TargetId } from '../lib/engines.ts';

const IMAGE = 'busybox';
const RUN_RM_GOAL = { vsDocker: 0.3, vsPodman: 0.4, text: '≤0.3x docker, ≤0.4x podman' };

export const runRm: Benchmark = {
  name: 'run-rm',
  describe: '`run --rm busybox true`, median of 20 after 2 warm-ups, default network and --network none',
  async run(ctx) {
    const n = ctx.n(20);
    try {
      ctx.log(`run --rm busybox true (default network), median of ${n}`);
      const def = interleaved(ctx, ALL, () => ['run', '--rm', IMAGE, 'true'], n, 2);
      ctx.rows.push({
        bench: 'run-rm', metric: `\`run --rm busybox true\` (default network), median of ${n}`, unit: 'ms',
        values: summarize(def.times, median), goal: RUN_RM_GOAL,
        note: ['Default network: docker attaches a veth to the bench\'s own bridge (dockerd runs with --iptables=false), podman a netavark bridge; berth has no bridge networking yet and always runs with --network none.', ...def.errors].join(' '),
      });
      ctx.log(`run --rm --network none busybox true, median of ${n}`);
      const none = interleaved(ctx, ALL, () => ['run', '--rm', '--network', 'none', IMAGE, 'true'], n, 2);
      ctx.rows.push({
        bench: 'run-rm', metric: `\`run --rm --network none busybox true\`, median of ${n}`, unit: 'ms',
        values: summarize(none.times, median), goal: RUN_RM_GOAL,
        ...(none.errors.length ? { note: none.errors.join(' ') } : {}),
      });
    } finally {
      cleanAll(ctx);
    }
  },
};

export const runDetached: Benchmark = {
  name: 'run-d',
  describe: '`run -d busybox sleep 600` x20 sequential, total wall time',
  async run(ctx) {
    const n = ctx.n(20);
    ctx.log(`run -d busybox sleep 600 x${n}, total`);
    try {
      // One warm-up each, removed so the timed series starts from zero containers.
      interleaved(ctx, ALL, () => ['run', '-d', IMAGE, 'sleep', '600'], 0, 1);
      cleanAll(ctx);
      const r = interleaved(ctx, ALL, () => ['run', '-d', IMAGE, 'sleep', '600'], n, 0);
      ctx.rows.push({
        bench: 'run-d', metric: `\`run -d busybox sleep 600\` x${n} sequential, total`, unit: 's',
        values: summarize(r.times, (xs) => xs.reduce((a, b) => a + b, 0) / 1000),
        goal: { vsDocker: 0.3, text: '≤0.3x docker' },
        note: ['Runs interleaved across engines (run i of every engine before run i+1), so all engines hold i containers at step i.', ...r.errors].join(' '),
      });
    } finally {
      cleanAll(ctx);
    }
  },
};

export const execTrue: Benchmark = {
  name: 'exec',
  describe: '`exec <ctr> true` in a running busybox, median of 20 after 2 warm-ups',
  async run(ctx) {
    const n = ctx.n(20);
    ctx.log(`exec <ctr> true, median of ${n}`);
    try {
      // One container per engine; the docker CLI→berthd target execs into berth's container too.
      const ctr = new Map<string, string>();
      const setupErrors: string[] = [];
      for (const e of [ctx.berth, ctx.docker, ctx.podman]) {
        try { ctr.set(e.id, ok(e.cli(['run', '-d', IMAGE, 'sleep', '600']), `${e.id} run -d`)); } catch (err) { setupErrors.push(String(err)); }
      }
      const ids = ALL.filter((id: TargetId) => ctr.has(ctx.targets.find((t) => t.id === id)!.engine.id));
      const r = interleaved(ctx, ids, (t) => ['exec', ctr.get(t.engine.id)!, 'true'], n, 2);
      const errors = [...setupErrors, ...r.errors];
      ctx.rows.push({
        bench: 'exec', metric: `\`exec <ctr> true\`, median of ${n}`, unit: 'ms', values: summarize(r.times, median),
        goal: { vsDocker: 0.6, text: '≤0.6x docker' },
        ...(errors.length ? { note: errors.join(' ') } : {}),
      });
    } finally {
      cleanAll(ctx);
    }
  },
};
