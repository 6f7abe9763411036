/**
 * Image builds (issue 6): a 10-step Dockerfile over a 50 MiB context, built cold (`--no-cache`),
 * fully cached, and after changing one file that is copied mid-way (the steps before it hit the
 * cache, it and the rest run again). Targets: the berth CLI and the docker CLI's legacy builder
 * against berthd, dockerd's legacy builder (DOCKER_BUILDKIT=0; the docker CLI here has no buildx,
 * so BuildKit cannot be driven), and `podman build`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanAll, median, ok, pick, roundRobin, type BenchContext, type Benchmark } from '../lib/context.ts';
import type { Target } from '../lib/engines.ts';
import { timed } from '../lib/proc.ts';

const MiB = 1024 * 1024;
const DOCKERFILE = [
  'FROM busybox',
  'ENV APP=/app',
  'WORKDIR /app',
  'COPY data/ /app/data/',
  'RUN du -s /app/data > /app/size',
  'COPY a.txt /app/',
  'RUN cat a.txt > copy',
  'LABEL bench=build',
  'EXPOSE 80',
  'CMD ["cat", "/app/copy"]',
  '',
].join('\n');

/** `build` through a target, with the legacy builder for the docker CLI. */
function build(t: Target, args: string[]): ReturnType<typeof timed> {
  const x = t.argv(['build', ...args]);
  return timed(x.cmd, x.args, { ...x.env, DOCKER_BUILDKIT: '0' }, 600_000);
}

export const buildBench: Benchmark = {
  name: 'build',
  describe: '10-step Dockerfile, 50 MiB context: cold (--no-cache), fully cached, one copied file changed',
  async run(ctx: BenchContext) {
    const dir = mkdtempSync(join(ctx.root, 'build-ctx-'));
    try {
      mkdirSync(join(dir, 'data'));
      for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'data', `f${i}`), randomBytes(MiB));
      writeFileSync(join(dir, 'a.txt'), 'first\n');
      writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
      const n = ctx.n(3);
      const phase = (label: string, args: (i: number) => string[], before?: (i: number) => void) => roundRobin(ctx.targets, n, 1, (t, i) => {
        before?.(i);
        const r = build(t, [...args(i), '-t', `bench-build:${t.id}`, dir]);
        ok(r, `${t.label} build (${label})`);
        return r.ms;
      });
      // Every target builds once first so that cached and changed runs have a cache to hit.
      for (const t of ctx.targets) ok(build(t, ['-t', `bench-build:${t.id}`, dir]), `${t.label} first build`);
      const cold = phase('cold', () => ['--no-cache']);
      const cached = phase('cached', () => []);
      let v = 0;
      const changed = phase('changed', () => [], () => writeFileSync(join(dir, 'a.txt'), `change ${++v}\n`));
      for (const t of ctx.targets) {
        const out = t.run(['run', '--rm', `bench-build:${t.id}`]).stdout.trim();
        if (!out.startsWith('change')) ctx.log(`  ${t.label}: the built image printed ${JSON.stringify(out)}`);
      }
      const note = `Context: 50 files of 1 MiB random bytes plus a small a.txt, sent whole each time (no .dockerignore). Timed: the whole CLI command. Cold runs use --no-cache (the base image is local for all). "Changed": a.txt rewritten before each run; steps 1-5 hit the cache, 6-10 run. docker targets use DOCKER_BUILDKIT=0. One warm-up round each.`;
      ctx.rows.push(
        { bench: 'build', metric: `cold build (--no-cache), median of ${n}`, unit: 'ms', values: pick(cold.out, median), goal: { vsDocker: 0.45, text: '≤0.45x docker legacy (BuildKit\'s ratio)' }, note: [note, ...cold.errors].join(' ') },
        { bench: 'build', metric: `fully cached rebuild, median of ${n}`, unit: 'ms', values: pick(cached.out, median), goal: { vsDocker: 0.45, text: '≤0.45x docker legacy' }, note: cached.errors.join(' ') },
        { bench: 'build', metric: `rebuild after one copied file changed, median of ${n}`, unit: 'ms', values: pick(changed.out, median), goal: { vsDocker: 0.45, text: '≤0.45x docker legacy' }, note: changed.errors.join(' ') },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const t of ctx.targets) t.run(['rmi', '-f', `bench-build:${t.id}`]);
      cleanAll(ctx);
    }
  },
};
