/**
 * The benchmark suite's driver: `node --import tsx bench/main.ts [name...]`.
 * Starts an isolated berthd, dockerd (+containerd) and a private podman store under one temp
 * root, loads the same busybox tar into each, runs the named benchmarks (all by default),
 * prints a markdown table and writes it to bench/results/latest.md. Whatever happens, every
 * container is removed, the daemons are stopped and the host is put back (see lib/host.ts).
 * BENCH_SCALE (default 1) scales iteration counts down for quick trials.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { abort, cleanAll, type BenchContext, type Benchmark } from './lib/context.ts';
import { BerthEngine, DOCKER_BRIDGE, DockerEngine, PodmanEngine, REPO, snapshotBuild, targetsFor } from './lib/engines.ts';
import { restoreHost, snapshotHost } from './lib/host.ts';
import { interfacePrefixFor, objectPrefixFor } from '../src/daemon/config.ts';
import { markdownTable, type Row } from './lib/report.ts';
import { procsMentioning, timed } from './lib/proc.ts';
import { breakdown } from './cases/breakdown.ts';
import { execTrue, runDetached, runRm } from './cases/latency.ts';
import { psInspect } from './cases/listing.ts';
import { idle, idleRow, rss } from './cases/memory.ts';
import { writer } from './cases/writer.ts';
import { NETWORK_BENCHMARKS, NETWORK_GROUP } from './cases/network.ts';
import { DATA_BENCHMARKS, DATA_GROUP } from './cases/data.ts';
import { REGISTRY_BENCHMARKS, REGISTRY_GROUP } from './cases/registry.ts';
import { REGISTRY_SERVER_BENCHMARKS, REGISTRY_SERVER_GROUP } from './cases/registry-server.ts';
import { buildBench } from './cases/build.ts';
import { cliBench } from './cases/cli.ts';

// The network benchmarks go last: they restart dockerd with iptables on.
const BENCHMARKS: Benchmark[] = [idle, runRm, runDetached, execTrue, rss, psInspect, writer, breakdown, cliBench, buildBench, ...DATA_BENCHMARKS, ...REGISTRY_BENCHMARKS, ...REGISTRY_SERVER_BENCHMARKS, ...NETWORK_BENCHMARKS];
/** Names that stand for several benchmarks. */
const GROUPS: Record<string, string[]> = { build: ['build'], cli: ['cli'], data: DATA_GROUP, registry: REGISTRY_GROUP, 'registry-server': REGISTRY_SERVER_GROUP, network: NETWORK_GROUP };

function usage(): string {
  return `usage: bench/run.sh [NAME...]\n\nbenchmarks:\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(11)} ${b.describe}`).join('\n')}\n\ngroups:\n${Object.entries(GROUPS).map(([g, ns]) => `  ${g.padEnd(11)} ${ns.join(' ')} (results in bench/results/${g}.md)`).join('\n')}\n`;
}

function versions(ctx: BenchContext): string {
  const first = (s: string) => s.split('\n')[0]!.trim();
  return [
    `- date: ${new Date().toISOString()}; kernel ${release()}; cgroup ${ctx.docker.cli(['info', '--format', 'v{{.CgroupVersion}} {{.Driver}}']).stdout.trim()} (docker's view)`,
    `- machine: ${readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length} CPUs, ${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 1048576)} GiB`,
    `- berth ${first(ctx.berth.cli(['--version']).stdout)} at ${build()} (node ${process.version}); ${first(timed('crun', ['--version'], process.env).stdout)}; ${first(timed('conmon', ['--version'], process.env).stdout)}`,
    `- docker CLI ${ctx.docker.cli(['version', '--format', '{{.Client.Version}}']).stdout.trim()}; dockerd ${ctx.docker.cli(['version', '--format', '{{.Server.Version}}']).stdout.trim()} (Debian docker.io, containerd + runc)`,
    `- ${first(ctx.podman.cli(['--version']).stdout)} (Debian; crun, netavark, overlay)`,
  ].join('\n');
}

/** Which berth was measured: the commit, and whether dist/ was built after it (local changes). */
function build(): string {
  const git = (a: string[]) => timed('git', ['-C', REPO, ...a], process.env).stdout.trim();
  const head = git(['log', '-1', '--format=%h %cI']);
  const dirty = git(['status', '--porcelain', '--', 'src']).length > 0;
  return `commit ${head}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) { process.stdout.write(usage()); return 0; }
  const names = args.flatMap((a) => GROUPS[a] ?? [a]);
  // A run of exactly one group writes its own results file; anything else writes latest.md.
  const resultsFile = args.length === 1 && GROUPS[args[0]!] ? `${args[0]}.md` : 'latest.md';
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) { process.stderr.write(`unknown benchmark ${unknown.join(', ')}\n${usage()}`); return 2; }
  const chosen = names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
  const scale = Number(process.env['BENCH_SCALE'] ?? 1);
  const standalone = chosen.every((b) => b.standalone);

  const root = mkdtempSync('/tmp/bb-');
  const snap = snapshotHost();
  const berth = new BerthEngine(root);
  const docker = new DockerEngine(root);
  const podman = new PodmanEngine(root);
  const rows: Row[] = [];
  const ctx: BenchContext = {
    root, berth, docker, podman, rows, sections: [], targets: targetsFor(root, berth, docker, podman),
    n: (c) => Math.max(1, Math.round(c * scale)),
    log: (m) => process.stderr.write(`${m}\n`),
  };
  process.on('SIGINT', () => { abort.requested = true; ctx.log('interrupted: cleaning up'); });
  process.on('SIGTERM', () => { abort.requested = true; });
  const t0 = Date.now();
  let failed = false;
  let header = '';
  try {
    snapshotBuild(root);
    if (standalone) {
      header = `- date: ${new Date().toISOString()}; kernel ${release()}; berth ${build()} (node ${process.version}); no engine started`;
    } else {
      ctx.log(`bench root ${root}; starting berthd, dockerd, podman store`);
      await berth.start();
      await docker.start();
      await podman.start();
      header = versions(ctx);
    }
    let idleDone = false;
    for (const b of chosen) {
      if (abort.requested) break;
      // The suite's closing idle row is taken before the network group restarts dockerd.
      if (!names.length && !idleDone && NETWORK_GROUP.includes(b.name)) { await idleRow(ctx, 'after the whole suite', false); idleDone = true; }
      ctx.log(`== ${b.name}: ${b.describe}`);
      const tb = Date.now();
      try {
        await b.run(ctx);
      } catch (err) {
        failed = true;
        ctx.log(`!! ${b.name} failed: ${String((err as Error).stack ?? err)}`);
      }
      ctx.log(`   (${((Date.now() - tb) / 1000).toFixed(0)} s)`);
    }
    if (!names.length && !abort.requested && !idleDone) await idleRow(ctx, 'after the whole suite', false);
  } catch (err) {
    failed = true;
    ctx.log(`!! setup failed: ${String((err as Error).stack ?? err)}`);
  } finally {
    if (!standalone) cleanAll(ctx);
    await berth.stop();
    await docker.stop();
    await podman.stop();
    // The link to the repo's node_modules goes first, so no recursive delete can follow it.
    if (existsSync(join(root, 'node_modules'))) unlinkSync(join(root, 'node_modules'));
    const forced = await restoreHost(root, snap, [objectPrefixFor(berth.marker)],
      { dockerBridge: DOCKER_BRIDGE, berth: { table: objectPrefixFor(berth.marker), ifPrefix: interfacePrefixFor(berth.marker) } });
    if (forced.length) ctx.log(`cleanup had to force: ${forced.join('; ')}`);
    const left = procsMentioning(root);
    if (left.length) { failed = true; ctx.log(`!! processes left: ${left.map((p) => p.pid).join(' ')}`); }
  }

  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const md = [
    `## Benchmark results (${args.length ? args.join(', ') : 'full suite'}, ${secs} s)`,
    '',
    header,
    '',
    rows.length ? markdownTable(rows) : '_no rows_',
    ...ctx.sections.flatMap((s) => ['', s]),
    '',
  ].join('\n');
  process.stdout.write(`\n${md}`);
  if (abort.requested) {
    ctx.log(`interrupted: bench/results/${resultsFile} left as it was`);
  } else {
    mkdirSync(join(REPO, 'bench/results'), { recursive: true });
    writeFileSync(join(REPO, 'bench/results', resultsFile), md);
    ctx.log(`written to bench/results/${resultsFile}`);
  }
  return failed || abort.requested ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => { process.stderr.write(`${String(err)}\n`); process.exit(1); });
