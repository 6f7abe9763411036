/**
 * Read-path benchmarks through the docker CLI: `ps -a` with 100 created (never started)
 * containers, and `inspect` of one of them. The table judges the docker CLI→berthd column
 * against docker (same client, so only the daemons differ); berth CLI and podman are shown too.
 */
import { ALL, cleanAll, interleaved, median, ok, summarize, type BenchContext, type Benchmark } from '../lib/context.ts';
import type { TargetId } from '../lib/engines.ts';
import { dockerCli } from '../lib/engines.ts';

/** Creates `n` containers per engine; berthd's through the docker CLI (faster to set up). */
function populate(ctx: BenchContext, n: number): Map<string, string> {
  const last = new Map<string, string>();
  const creators: Array<[string, (a: string[]) => ReturnType<typeof ctx.docker.cli>]> = [
    ['berth', (a) => dockerCli(ctx.root, ctx.berth.host, a)],
    ['docker', (a) => ctx.docker.cli(a)],
    ['podman', (a) => ctx.podman.cli(a)],
  ];
  for (const [engine, cli] of creators) {
    try {
      for (let i = 0; i < n; i++) last.set(engine, ok(cli(['create', 'busybox', 'true']), `${engine} create`));
    } catch (err) {
      ctx.log(`  ${engine}: populate failed: ${String(err).slice(0, 200)}`);
    }
  }
  return last;
}

export const psInspect: Benchmark = {
  name: 'ps-inspect',
  describe: '`ps -a` with 100 created containers (median of 10) and `inspect` of one (median of 20)',
  async run(ctx) {
    const count = ctx.n(100);
    const nPs = ctx.n(10);
    const nInspect = ctx.n(20);
    try {
      ctx.log(`creating ${count} containers per engine`);
      const last = populate(ctx, count);
      const idOf = (engineId: string) => last.get(engineId) ?? 'missing';
      ctx.log(`ps -a with ${count} containers, median of ${nPs}`);
      // Every target must list all of its engine's containers before its timing means anything.
      const complete = ALL.filter((id: TargetId) => {
        const t = ctx.targets.find((x) => x.id === id)!;
        const listed = t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;
        if (listed !== count) ctx.log(`  ${t.label}: ps -aq listed ${listed}, expected ${count}; left out`);
        return listed === count;
      });
      const ps = interleaved(ctx, complete, () => ['ps', '-a'], nPs, 1);
      ctx.rows.push({
        bench: 'ps-inspect', metric: `\`ps -a\` with ${count} created containers, median of ${nPs}`, unit: 'ms', values: summarize(ps.times, median),
        primary: 'docker-berthd', goal: { vsDocker: 1, text: 'docker CLI: ≤1x dockerd' },
        ...(ps.errors.length ? { note: ps.errors.join(' ') } : {}),
      });
      ctx.log(`inspect one container, median of ${nInspect}`);
      const ins = interleaved(ctx, complete, (t) => ['inspect', idOf(t.engine.id)], nInspect, 2);
      ctx.rows.push({
        bench: 'ps-inspect', metric: `\`inspect <ctr>\`, median of ${nInspect}`, unit: 'ms', values: summarize(ins.times, median),
        primary: 'docker-berthd', goal: { vsDocker: 1, text: 'docker CLI: ≤1x dockerd' },
        ...(ins.errors.length ? { note: ins.errors.join(' ') } : {}),
      });
    } finally {
      cleanAll(ctx);
    }
  },
};
