/**
 * The CLI itself, side by side: each quick command through the berth CLI and the docker CLI 28
 * against the same berthd (so only the client differs; the issue's target is berth ≤1.2x the
 * docker CLI), with docker→dockerd and podman for reference; then where the start-up floor is
 * (bare Node, the CLI entry, the /usr/local/bin/berth wrapper). Wall time is the median of
 * interleaved runs; CPU is the user+system time of the client process (the daemon's excluded),
 * which a busy machine disturbs less than wall time.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanAll, ok, roundRobin, type BenchContext, type Benchmark } from '../lib/context.ts';
import { DOCKER_CLI, dockerCli, type Target, type TargetId } from '../lib/engines.ts';
import { median, timed, type CmdResult } from '../lib/proc.ts';

/** CPU seconds (user + system) of this process's waited-for children so far (/proc/self/stat cutime + cstime). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 (1-based), in clock ticks of 10 ms.
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Sample { ms: number; cpuMs: number }

function sampled(run: () => CmdResult, what: string): Sample {
  const c0 = childrenCpuMs();
  const r = run();
  ok(r, what);
  return { ms: r.ms, cpuMs: childrenCpuMs() - c0 };
}

const fmtMs = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(v < 100 ? 1 : 0)} ms`);
const fmtX = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}x`);
/** Mean CPU per run: ticks are 10 ms, so only the mean over many runs means anything. */
const meanCpu = (xs: Sample[]): number => xs.reduce((a, s) => a + s.cpuMs, 0) / xs.length;

interface Case { label: string; args: (t: Target) => string[]; goal?: number; vsDockerd?: number }

export const cliBench: Benchmark = {
  name: 'cli',
  describe: 'berth CLI vs docker CLI against the same berthd (--version, version, ps -a with 100 containers, inspect, images, exec, run --rm), and the Node start-up floor',
  async run(ctx: BenchContext) {
    const n = ctx.n(20);
    const count = ctx.n(100);
    const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const loadBefore = load();
    try {
      ctx.log(`creating ${count} containers and one running container per engine`);
      const running = new Map<string, string>();
      const create: Array<[string, (a: string[]) => CmdResult]> = [
        ['berth', (a) => dockerCli(ctx.root, ctx.berth.host, a)], ['docker', (a) => ctx.docker.cli(a)], ['podman', (a) => ctx.podman.cli(a)],
      ];
      for (const [engine, cli] of create) {
        for (let i = 0; i < count; i++) ok(cli(['create', 'busybox', 'true']), `${engine} create`);
        running.set(engine, ok(cli(['run', '-d', 'busybox', 'sleep', '600']), `${engine} run -d`));
      }
      const ctr = (t: Target): string => running.get(t.engine.id)!;
      const cases: Case[] = [
        { label: '`--version` (client start-up, no daemon)', args: () => ['--version'], goal: 1.2 },
        { label: '`version` (one round trip)', args: () => ['version'], goal: 1.2 },
        { label: `\`ps -a\` (${count + 1} containers)`, args: () => ['ps', '-a'], goal: 1.2 },
        { label: '`inspect <ctr>`', args: (t) => ['inspect', ctr(t)], goal: 1.2 },
        { label: '`images`', args: () => ['images'], goal: 1.2 },
        { label: '`exec <ctr> true`', args: (t) => ['exec', ctr(t), 'true'], goal: 1.2 },
        { label: '`run --rm busybox true`', args: () => ['run', '--rm', 'busybox', 'true'], goal: 1.2, vsDockerd: 0.3 },
      ];
      const rows: string[] = [];
      for (const c of cases) {
        ctx.log(`${c.label}, median of ${n}`);
        const { out, errors } = roundRobin(ctx.targets, n, 2, (t) => sampled(() => t.run(c.args(t)), `${t.label} ${c.args(t).join(' ')}`));
        const wall = (id: TargetId): number | undefined => (out.get(id)?.length ? median(out.get(id)!.map((s) => s.ms)) : undefined);
        const cpu = (id: TargetId): number | undefined => (out.get(id)?.length ? meanCpu(out.get(id)!) : undefined);
        const vsCli = wall('berth')! / wall('docker-berthd')!;
        const vsDockerd = wall('berth')! / wall('docker')!;
        const met = [c.goal !== undefined ? vsCli <= c.goal : true, c.vsDockerd !== undefined ? vsDockerd <= c.vsDockerd : true].every(Boolean);
        const target = [c.goal !== undefined ? `≤${c.goal}x docker CLI` : '', c.vsDockerd !== undefined ? `≤${c.vsDockerd}x docker` : ''].filter(Boolean).join(', ');
        rows.push(`| ${c.label} | ${fmtMs(wall('berth'))} | ${fmtMs(wall('docker-berthd'))} | ${fmtX(wall('berth'), wall('docker-berthd'))} | ${fmtMs(cpu('berth'))} | ${fmtMs(cpu('docker-berthd'))} | ${fmtMs(wall('docker'))} | ${fmtMs(wall('podman'))} | ${fmtX(wall('berth'), wall('docker'))} | ${target} | ${Number.isNaN(vsCli) ? '—' : met ? 'yes' : 'NO'} |`);
        for (const e of errors) ctx.log(`  ${e}`);
      }
      ctx.log(`start-up floor, median of ${n}`);
      const floor = startupFloor(ctx, n);
      ctx.sections.push([
        `### The CLI side by side (median of ${n} interleaved runs after 2 warm-ups)`,
        '',
        'berth and docker CLI 28 against the same berthd: only the client differs. CPU is the client process\'s user+system time (mean).',
        `Load average before and after (other work on the machine inflates Node's wall time more than Go's): ${loadBefore}; ${load()}.`,
        '',
        '| command | berth | docker CLI→berthd | berth/docker CLI | berth CPU | docker CLI CPU | docker→dockerd | podman | berth/docker | target | met |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...rows,
        '',
        'Where the floor is (no daemon involved):',
        '',
        '| process | wall (median) | CPU (mean) |',
        '| --- | ---: | ---: |',
        ...floor.map(([label, s]) => `| ${label} | ${fmtMs(median(s.map((x) => x.ms)))} | ${fmtMs(meanCpu(s))} |`),
      ].join('\n'));
    } finally {
      cleanAll(ctx);
    }
  },
};

/** Bare Node, the CLI with and without its code cache, the installed wrapper and the Go CLI, interleaved. */
function startupFloor(ctx: BenchContext, n: number): Array<[string, Sample[]]> {
  const env = ctx.berth.cliEnv();
  const berth = ctx.berth.argv(['--version']);
  // The same launcher and bundle without the V8 code cache next to them.
  const noCache = join(ctx.root, 'no-code-cache');
  mkdirSync(noCache, { recursive: true });
  for (const f of ['berth.cjs', 'berth-cli.cjs']) copyFileSync(join(ctx.root, 'dist', f), join(noCache, f));
  // The wrapper scripts/setup.sh installs as /usr/local/bin/berth, pointing at this run's copy.
  const wrapper = join(ctx.root, 'berth-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec ${berth.cmd} ${berth.args.slice(0, -1).map((a) => `"${a}"`).join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const procs: Array<[string, () => CmdResult]> = [
    ['`node -e 0` (bare Node, the floor)', () => timed(process.execPath, ['-e', '0'], env)],
    ['`node dist/berth.cjs --version` (Node + the CLI from its code cache)', () => timed(berth.cmd, berth.args, env)],
    ['the same without the code cache', () => timed(process.execPath, [join(noCache, 'berth.cjs'), '--version'], env)],
    ['`node dist/berth.mjs --version` (the ES module entry tests use)', () => timed(process.execPath, [join(ctx.root, 'dist/berth.mjs'), '--version'], env)],
    ['`berth --version` through the sh wrapper setup.sh installs', () => timed(wrapper, ['--version'], env)],
    ['`node -e 0` with NODE_EXTRA_CA_CERTS set (what the wrapper avoids)', () => timed(process.execPath, ['-e', '0'], { ...env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' })],
    ['`docker --version` (Go CLI start-up)', () => timed(DOCKER_CLI, ['--version'], env)],
  ];
  const out = procs.map(([label]): [string, Sample[]] => [label, []]);
  for (let i = 0; i < n + 2; i++) {
    procs.forEach(([label, run], j) => { const s = sampled(run, label); if (i >= 2) out[j]![1].push(s); });
  }
  return out;
}
