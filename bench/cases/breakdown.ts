/**
 * Where the time of `run --rm busybox true` goes: the docker CLI's exact API sequence (create,
 * attach, wait?condition=removed, start, stream EOF, wait returns) timed call by call against
 * berthd and dockerd, an explicit create/start/wait/delete sequence to isolate removal, the CLI
 * processes' own start-up cost, and a bare `crun run` of a static busybox bundle as the floor.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach, call, now, type ApiEndpoint } from '../lib/api.ts';
import { cleanAll, median, type BenchContext, type Benchmark } from '../lib/context.ts';
import { DOCKER_CLI } from '../lib/engines.ts';
import { timed } from '../lib/proc.ts';

type Phases = Record<string, number>;

const CREATE_BODY = {
  Image: 'busybox', Cmd: ['true'], AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
  HostConfig: { AutoRemove: true, NetworkMode: 'none' },
};

/** The docker CLI's `run --rm` sequence; phases in ms, each from the previous milestone. */
async function runRmFlow(ep: ApiEndpoint): Promise<Phases> {
  const t0 = now();
  const created = await call(ep, 'POST', '/containers/create', CREATE_BODY).done;
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const att = await attach(ep, id);
  const wait = call(ep, 'POST', `/containers/${id}/wait?condition=removed`);
  const waitHeaders = await wait.headers;
  const started = await call(ep, 'POST', `/containers/${id}/start`).done;
  const eof = await att.ended;
  const removed = await wait.done;
  return {
    'create': created.at - t0,
    'attach (101)': att.at - created.at,
    'wait registered (headers)': waitHeaders - att.at,
    'start (204)': started.at - waitHeaders,
    'start → attach EOF (exit)': eof - started.at,
    'EOF → wait returns (removed)': removed.at - eof,
    'total': removed.at - t0,
  };
}

/** create, start, wait, DELETE: separates the exit from the removal. */
async function explicitFlow(ep: ApiEndpoint): Promise<Phases> {
  const t0 = now();
  const created = await call(ep, 'POST', '/containers/create', { ...CREATE_BODY, HostConfig: { NetworkMode: 'none' } }).done;
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const started = await call(ep, 'POST', `/containers/${id}/start`).done;
  const exited = await call(ep, 'POST', `/containers/${id}/wait`).done;
  const removed = await call(ep, 'DELETE', `/containers/${id}?v=1`).done;
  return {
    'create': created.at - t0,
    'start (204)': started.at - created.at,
    'start → wait returns (exit)': exited.at - started.at,
    'DELETE': removed.at - exited.at,
    'total': removed.at - t0,
  };
}

async function medianPhases(n: number, flow: () => Promise<Phases>): Promise<Phases> {
  await flow(); // warm-up
  const all: Phases[] = [];
  for (let i = 0; i < n; i++) all.push(await flow());
  const out: Phases = {};
  for (const k of Object.keys(all[0]!)) out[k] = median(all.map((p) => p[k]!));
  return out;
}

const ms = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)} ms`);
const x = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? '—' : `${(a / b).toFixed(2)}x`);

function table(cols: string[], rows: string[][]): string {
  return [`| phase | ${cols.join(' | ')} |`, `| --- |${cols.map(() => ' ---: ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Phase rows with berthd, dockerd and their ratio. */
const phaseRows = (p: { b: Phases; d: Phases }) => Object.keys(p.b).map((k) => [k, ms(p.b[k]), ms(p.d[k]), x(p.b[k], p.d[k])]);

/** Median ms of `crun run` of a bundle whose config.json `spec(i)` writes, after one warm-up. */
function crunRuns(root: string, bundle: string, n: number, spec: (i: number) => object): number | undefined {
  const times: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec(i)));
    const r = timed('crun', ['--root', join(root, 'crun-state'), 'run', '-b', bundle, `bench-floor-${process.pid}-${i}`], process.env);
    if (r.code !== 0) return undefined;
    if (i > 0) times.push(r.ms);
  }
  return median(times);
}

/**
 * The runtime floor: `crun run` of a static busybox rootfs with crun's default spec, then with the
 * config.json berthd wrote for a real container (seccomp compiled by crun on every start), with
 * that spec plus crun's `run.oci.seccomp_bpf_data` annotation (the BPF crun compiled, passed in
 * precompiled), and with no seccomp at all.
 */
function runtimeFloor(ctx: BenchContext, n: number): string[][] {
  const bundle = join(ctx.root, 'crun-bundle');
  const rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  symlinkSync('busybox', join(rootfs, 'bin/true'));
  if (spawnSync('crun', ['spec'], { cwd: bundle }).status !== 0) return [];
  const plain = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  plain.process.terminal = false;
  plain.process.args = ['/bin/true'];
  const rows = [['`crun run`, crun\'s default spec (no seccomp, no cgroup limits)', ms(crunRuns(ctx.root, bundle, n, () => plain))]];
  // berthd's own spec for a running container, and the BPF crun compiled for it.
  const id = ctx.berth.cli(['run', '-d', 'busybox', 'sleep', '600']).stdout.trim();
  try {
    const cfg = join(ctx.berth.dir, 'exec/containers', id, 'config.json');
    const bpf = join(ctx.berth.dir, 'exec/runtime/crun', id, 'seccomp.bpf');
    if (!id || !existsSync(cfg)) return rows;
    const spec = JSON.parse(readFileSync(cfg, 'utf8'));
    spec.root.path = rootfs;
    spec.process.args = ['/bin/true'];
    // Under berthd's own cgroup parent, so its shutdown sweeps anything crun might leave.
    const parent = String(spec.linux.cgroupsPath ?? '/berth-bench').split('/').slice(0, -1).join('/');
    const at = (i: number, s: { linux: Record<string, unknown> }) => ({ ...s, linux: { ...s.linux, cgroupsPath: `${parent}/floor-${i}` } });
    rows.push(['`crun run`, berthd\'s config.json (seccomp compiled per start)', ms(crunRuns(ctx.root, bundle, n, (i) => at(i, spec)))]);
    if (existsSync(bpf)) {
      const pre = { ...spec, annotations: { ...(spec.annotations ?? {}), 'run.oci.seccomp_bpf_data': readFileSync(bpf).toString('base64') } };
      rows.push(['`crun run`, same + `run.oci.seccomp_bpf_data` (precompiled BPF)', ms(crunRuns(ctx.root, bundle, n, (i) => at(i, pre)))]);
    }
    const noSeccomp = { ...spec, linux: { ...spec.linux, seccomp: undefined } };
    rows.push(['`crun run`, berthd\'s config.json without seccomp', ms(crunRuns(ctx.root, bundle, n, (i) => at(i, noSeccomp)))]);
  } finally {
    if (id) ctx.berth.cli(['rm', '-f', id]);
  }
  return rows;
}

export const breakdown: Benchmark = {
  name: 'breakdown',
  describe: 'time breakdown of `run --rm busybox true` by API call (berthd vs dockerd) and CLI start-up',
  async run(ctx: BenchContext) {
    const n = ctx.n(10);
    const berthd: ApiEndpoint = { socket: ctx.berth.socket, version: '/v1.47' };
    const dockerd: ApiEndpoint = { socket: ctx.docker.socket, version: '/v1.41' };
    try {
      ctx.log(`run --rm API breakdown, median of ${n}`);
      const a = { b: await medianPhases(n, () => runRmFlow(berthd)), d: await medianPhases(n, () => runRmFlow(dockerd)) };
      const e = { b: await medianPhases(n, () => explicitFlow(berthd)), d: await medianPhases(n, () => explicitFlow(dockerd)) };
      const cli = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => median(Array.from({ length: n }, () => timed(cmd, args, env).ms));
      // As the berth wrapper runs Node: without NODE_EXTRA_CA_CERTS, which costs every Node start ~90 ms here.
      const noHost = { ...ctx.berth.cliEnv(), DOCKER_HOST: 'unix:///nonexistent', BERTH_HOST: 'unix:///nonexistent' };
      const startup = {
        nodeBare: cli(process.execPath, ['-e', '0'], noHost),
        berthVersion: cli(process.execPath, [ctx.berth.cliPath, '--version'], noHost),
        dockerVersion: cli(DOCKER_CLI, ['--version'], noHost),
        berthRun: cli(process.execPath, [ctx.berth.cliPath, 'run', '--rm', '--network', 'none', 'busybox', 'true'], ctx.berth.cliEnv()),
        dockerRun: median(Array.from({ length: n }, () => ctx.docker.cli(['run', '--rm', '--network', 'none', 'busybox', 'true']).ms)),
      };
      const floor = runtimeFloor(ctx, n);
      ctx.sections.push([
        `### Where \`run --rm busybox true\` spends its time (median of ${n}, --network none on both)`,
        '',
        'The docker CLI\'s API sequence for `run --rm`, timed call by call from a Node client (no CLI process):',
        '',
        table(['berthd', 'dockerd', 'berthd/dockerd'], phaseRows(a)),
        '',
        'Without AutoRemove, to separate exit from removal (create, start, wait, DELETE):',
        '',
        table(['berthd', 'dockerd', 'berthd/dockerd'], phaseRows(e)),
        '',
        'Client processes, and the runtime floor (`crun run` of a static busybox rootfs, no monitor, no daemon):',
        '',
        table(['wall time'], [
          ['`node -e 0` (bare Node start-up)', ms(startup.nodeBare)],
          ['`berth --version` (Node + CLI bundle load, no daemon)', ms(startup.berthVersion)],
          ['`docker --version` (Go CLI start-up)', ms(startup.dockerVersion)],
          ['`berth run --rm --network none busybox true` (whole CLI)', ms(startup.berthRun)],
          ['`docker run --rm --network none busybox true` (whole CLI, dockerd)', ms(startup.dockerRun)],
          ...floor,
        ]),
        '',
        `berth CLI overhead over the API sequence: ${(startup.berthRun - a.b['total']!).toFixed(0)} ms ` +
        `(Node start-up + bundle load ≈ ${startup.berthVersion.toFixed(0)} ms); docker CLI: ${(startup.dockerRun - a.d['total']!).toFixed(0)} ms.`,
      ].join('\n'));
      ctx.log(ctx.sections[ctx.sections.length - 1]!);
    } finally {
      cleanAll(ctx);
    }
  },
};
