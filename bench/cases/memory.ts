/**
 * Memory benchmarks: the per-container monitor cost (berth's conmon, docker's containerd-shim,
 * podman's conmon) with 20 `sleep 600` containers running, and the idle daemon footprint
 * (berthd's node process vs dockerd + containerd).
 */
import type { Engine } from '../lib/engines.ts';
import { cleanAll, ok, type BenchContext, type Benchmark } from '../lib/context.ts';
import { findProcs, memSum, sleep } from '../lib/proc.ts';

type EngineVals = { berth?: number; docker?: number; podman?: number };

function engines(ctx: BenchContext): Engine[] { return [ctx.berth, ctx.docker, ctx.podman]; }

export const rss: Benchmark = {
  name: 'rss',
  describe: 'RSS of the per-container monitor processes with 20 `sleep 600` containers, sum / count',
  async run(ctx) {
    const n = ctx.n(20);
    const rssV: EngineVals = {};
    const pssV: EngineVals = {};
    const daemonV: EngineVals = {};
    const counts: string[] = [];
    ctx.log(`monitor RSS with ${n} running containers`);
    try {
      for (const e of engines(ctx)) {
        try {
          for (let i = 0; i < n; i++) ok(e.cli(['run', '-d', 'busybox', 'sleep', '600']), `${e.id} run -d`);
          await sleep(2000); // let monitors settle after their start-up work
          const mons = findProcs(e.monitorNames, e.marker);
          const m = memSum(mons);
          if (mons.length) { rssV[e.id] = m.rssMb / mons.length; pssV[e.id] = m.pssMb / mons.length; }
          if (e.id !== 'podman') daemonV[e.id] = memSum(e.daemonProcs()).rssMb;
          counts.push(`${e.id}: ${mons.length} ${e.monitorNames.join('/')} for ${n} containers`);
          ctx.log(`  ${e.id}: ${mons.length} monitors, RSS ${m.rssMb.toFixed(1)} MB, PSS ${m.pssMb.toFixed(1)} MB`);
        } catch (err) {
          counts.push(`${e.id} failed: ${String((err as Error).message).slice(0, 200)}`);
        } finally {
          cleanAll(ctx);
        }
      }
    } finally {
      cleanAll(ctx);
    }
    ctx.rows.push({
      bench: 'rss', metric: `monitor RSS per running container (${n} running)`, unit: 'MB', values: rssV,
      goal: { max: 2, text: '≤2 MB' },
      note: `Monitors: berth = conmon, docker = containerd-shim-runc-v2, podman = conmon; sum of VmRSS / count (${counts.join('; ')}). RSS counts shared library pages in every process.`,
    });
    ctx.rows.push({
      bench: 'rss', metric: `monitor PSS per running container (${n} running)`, unit: 'MB', values: pssV,
      note: 'PSS (proportional set size) splits shared pages between the processes that map them: the memory each extra container really costs.',
    });
    ctx.rows.push({
      bench: 'rss', metric: `daemon RSS with ${n} containers running`, unit: 'MB', values: daemonV,
      note: 'berthd process tree (node + helpers) vs dockerd + containerd; podman has no daemon.',
    });
  },
};

/** Measures the daemons' RSS and PSS after 3 s of idleness, with no containers. */
export async function idleRow(ctx: BenchContext, label: string, withGoal: boolean): Promise<void> {
  cleanAll(ctx);
  await sleep(3000);
  const b = ctx.berth.daemonProcs();
  const d = ctx.docker.daemonProcs();
  const mb = memSum(b);
  const md = memSum(d);
  ctx.log(`  idle ${label}: berthd ${mb.rssMb.toFixed(1)} MB RSS / ${mb.pssMb.toFixed(1)} MB PSS, dockerd+containerd ${md.rssMb.toFixed(1)} / ${md.pssMb.toFixed(1)} MB`);
  const names = (ps: typeof b) => ps.map((p) => p.argv[0]!.split('/').pop()).join(' + ');
  ctx.rows.push({
    bench: 'idle', metric: `idle daemon RSS, ${label}`, unit: 'MB', values: { berth: mb.rssMb, docker: md.rssMb },
    ...(withGoal ? { goal: { max: 80, text: '≤80 MB' } } : {}),
    note: `berthd: ${names(b)}; docker: ${names(d)}; podman has no daemon.`,
  });
  ctx.rows.push({
    bench: 'idle', metric: `idle daemon PSS, ${label}`, unit: 'MB', values: { berth: mb.pssMb, docker: md.pssMb },
    note: 'PSS leaves out the share of file pages (the node/dockerd binaries) that other processes map too.',
  });
}

export const idle: Benchmark = {
  name: 'idle',
  describe: 'idle daemon RSS: berthd (node) vs dockerd + containerd, no containers',
  async run(ctx) {
    ctx.log('idle daemon RSS');
    await idleRow(ctx, 'after start-up and image load', true);
  },
};
