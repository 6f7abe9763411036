/**
 * Data and resources benchmarks (group `data`): `cp` of a 200 MiB tree into a container and back
 * out, `commit` of a container with 100 MiB of changes, `stats --no-stream` over 50 running
 * containers, and write throughput into a named volume against the same `dd` on the host.
 *
 * Everything is local: the tree is generated under the bench root, the images committed here
 * are removed again, volumes are created and removed per engine. Nothing is pulled or pushed.
 * MB here is MiB (2^20 bytes), for every engine and the host alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanAll, median, ok, pick, roundRobin, type BenchContext, type Benchmark } from '../lib/context.ts';
import type { Engine, Target, TargetId } from '../lib/engines.ts';
import { abort, timed, timedAsync, type CmdResult } from '../lib/proc.ts';
import type { Row } from '../lib/report.ts';
import { prng } from '../lib/prng.ts';

const IMAGE = 'busybox';
const MiB = 1 << 20;
const CP_FILES = 2000;
const CP_BYTES = 200 * MiB;
const COMMIT_MB = 100;
const STATS_CONTAINERS = 50;
const VOLUME_MB = Number(process.env['BENCH_VOLUME_MB'] ?? 1024);
const COMMIT_REPO = 'bbcommit';

export const DATA_GROUP = ['data-cp', 'data-commit', 'data-stats', 'data-volume'];

function targets(ctx: BenchContext, ids: TargetId[]): Target[] {
  return ctx.targets.filter((t) => ids.includes(t.id));
}

/** `rm -f`; podman's waits 10 s for SIGTERM first (sleep as PID 1 ignores it), -t 0 kills at once. */
function rmArgs(e: Engine, ids: string[]): string[] {
  return e.id === 'podman' ? ['rm', '-f', '-t', '0', ...ids] : ['rm', '-f', ...ids];
}

function errText(err: unknown): string {
  return String((err as Error).message ?? err).slice(0, 400);
}

/**
 * The cp source: CP_FILES files of random (incompressible) bytes, CP_BYTES in all, in 10 x 4
 * directories: 80 % small (0.5-32 KiB), 15 % medium (64-512 KiB), 5 % large (the rest, about
 * 0.5-2 MiB each). Returns the file sizes for the notes.
 */
function makeTree(dir: string): { small: number; medium: number; large: number; maxLarge: number } {
  const rnd = prng(4242);
  const sizes: number[] = [];
  const nSmall = Math.round(CP_FILES * 0.8);
  const nMedium = Math.round(CP_FILES * 0.15);
  const nLarge = CP_FILES - nSmall - nMedium;
  for (let i = 0; i < nSmall; i++) sizes.push(512 + Math.floor(rnd() * (32 * 1024 - 512)));
  for (let i = 0; i < nMedium; i++) sizes.push(64 * 1024 + Math.floor(rnd() * (448 * 1024)));
  const rest = CP_BYTES - sizes.reduce((a, b) => a + b, 0);
  const weights = Array.from({ length: nLarge }, () => 0.5 + rnd());
  const wsum = weights.reduce((a, b) => a + b, 0);
  const large = weights.map((w) => Math.floor((rest * w) / wsum));
  large[0]! += rest - large.reduce((a, b) => a + b, 0);
  sizes.push(...large);
  // Shuffle so every directory gets a mix.
  for (let i = sizes.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!]; }
  sizes.forEach((size, i) => {
    const sub = join(dir, `d${String(i % 10).padStart(2, '0')}`, `e${Math.floor(i / 10) % 4}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${String(i).padStart(4, '0')}.bin`), randomBytes(size));
  });
  return { small: nSmall, medium: nMedium, large: nLarge, maxLarge: Math.max(...large) };
}

/** `N SHA` of a tree: file count, and the sha256 of `sha256sum` over every file in byte order of path. */
const TREE_SUM = 'cd "$1" && n=$(find . -type f | wc -l) && s=$(find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d" " -f1) && echo "$n $s"';

function hostTreeSum(dir: string): string {
  const r = timed('/bin/busybox', ['sh', '-c', TREE_SUM.replace(/(find|sort|xargs|sha256sum|wc|cut)/g, '/bin/busybox $1'), 'sh', dir], process.env, 300_000);
  return ok(r, `tree checksum of ${dir}`);
}

function containerTreeSum(t: Target, id: string, dir: string): string {
  return ok(t.run(['exec', id, 'sh', '-c', TREE_SUM, 'sh', dir], 300_000), `${t.label} tree checksum`);
}

export const dataCp: Benchmark = {
  name: 'data-cp',
  describe: `\`cp DIR c:/dst\` and \`cp c:/dst OUT\` of a ${CP_BYTES / MiB} MiB tree of ${CP_FILES} files: MB/s each way, median of 3`,
  async run(ctx) {
    const n = ctx.n(3);
    const src = join(ctx.root, 'cp-src');
    const outBase = join(ctx.root, 'cp-out');
    ctx.log(`generating ${CP_FILES} files, ${CP_BYTES / MiB} MiB, in ${src}`);
    const shape = makeTree(src);
    const want = hostTreeSum(src);
    ctx.log(`  source tree: ${want}`);
    const ctrs = new Map<TargetId, string>();
    const verified: string[] = [];
    try {
      const ts = targets(ctx, ['berth', 'docker-berthd', 'docker', 'podman']);
      const r = roundRobin(ts, n, 1, (t, i) => {
        let id = ctrs.get(t.id);
        if (!id) { id = ok(t.run(['run', '-d', IMAGE, 'sleep', '3600']), `${t.label} run -d`); ctrs.set(t.id, id); }
        const out = join(outBase, `${t.id}-${i}`);
        rmSync(out, { recursive: true, force: true });
        mkdirSync(outBase, { recursive: true });
        const cin = t.run(['cp', src, `${id}:/dst`], 600_000);
        ok(cin, `${t.label} cp DIR c:/dst`);
        if (i === 0) {
          const got = containerTreeSum(t, id, '/dst');
          if (got !== want) throw new Error(`tree in the container is ${got}, expected ${want}`);
        }
        const cout = t.run(['cp', `${id}:/dst`, out], 600_000);
        ok(cout, `${t.label} cp c:/dst OUT`);
        if (i === 0) {
          const got = hostTreeSum(out);
          if (got !== want) throw new Error(`tree copied out is ${got}, expected ${want}`);
          verified.push(t.label);
        }
        rmSync(out, { recursive: true, force: true });
        ok(t.run(['exec', id, 'rm', '-rf', '/dst']), `${t.label} rm -rf /dst`);
        const mbs = (x: CmdResult) => CP_BYTES / MiB / (x.ms / 1000);
        ctx.log(`  ${t.label}: in ${mbs(cin).toFixed(1)} MB/s (${cin.ms.toFixed(0)} ms), out ${mbs(cout).toFixed(1)} MB/s (${cout.ms.toFixed(0)} ms)`);
        return { inMbs: mbs(cin), outMbs: mbs(cout) };
      });
      const goal = { minVsDocker: 1, text: '≥1x docker (MB/s)' };
      ctx.rows.push(
        {
          bench: 'data-cp', metric: `\`cp DIR CTR:/dst\` (host → running container), ${CP_BYTES / MiB} MiB in ${CP_FILES} files, median of ${n}`, unit: 'MB/s',
          values: pick(r.out, (xs) => median(xs.map((x) => x.inMbs))), goal,
          note: [`MB = MiB. Source: ${CP_FILES} files of random bytes in 40 directories: ${shape.small} of 0.5-32 KiB, ${shape.medium} of 64-512 KiB, ${shape.large} large ones (the rest, up to ${(shape.maxLarge / MiB).toFixed(1)} MiB each), in the page cache. Timed: the whole CLI command (client start-up, tar, transfer, extraction). Container: busybox \`sleep 3600\`, running; /dst does not exist before the copy. File count and a sha256 over the tree were checked once per engine in the container and after the copy out: ${verified.length ? `equal for ${verified.join(', ')}` : 'no engine checked'}. One warm-up round.`, ...r.errors].join(' '),
        },
        { bench: 'data-cp', metric: `\`cp CTR:/dst OUT\` (container → new host directory), median of ${n}`, unit: 'MB/s', values: pick(r.out, (xs) => median(xs.map((x) => x.outMbs))), goal },
      );
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(outBase, { recursive: true, force: true });
      cleanAll(ctx);
    }
  },
};

function removeImages(e: Engine, repo: string): void {
  const ids = e.cli(['images', '-q', repo]).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length) e.cli(['rmi', '-f', ...new Set(ids)], 120_000);
}

export const dataCommit: Benchmark = {
  name: 'data-commit',
  describe: `\`commit\` of a running container with ${COMMIT_MB} MiB of changes (one big file + 200 small ones), median of 5`,
  async run(ctx) {
    const n = ctx.n(5);
    const script = `dd if=/dev/urandom of=/big bs=1M count=${COMMIT_MB} 2>/dev/null && mkdir -p /small && for i in $(seq 200); do echo "file $i" > /small/f$i; done && rm -f /bin/wget`;
    const info: string[] = [];
    try {
      const ts = targets(ctx, ['berth', 'docker', 'podman']);
      const r = roundRobin(ts, n, 1, (t, i) => {
        const e = t.engine;
        const id = ok(t.run(['run', '-d', IMAGE, 'sleep', '3600']), `${t.label} run -d`);
        ok(t.run(['exec', id, 'sh', '-c', script], 120_000), `${t.label} exec (make changes)`);
        const tag = `${COMMIT_REPO}:${i}`;
        const c = t.run(['commit', id, tag], 300_000);
        ok(c, `${t.label} commit`);
        if (i === 0) {
          // Once per engine: the image has the changes (big file, 200 small ones, the deletion).
          const chk = ok(t.run(['run', '--rm', tag, 'sh', '-c', 'wc -c < /big; ls /small | wc -l; test -e /bin/wget && echo wget || echo nowget'], 120_000), `${t.label} run committed image`);
          const [big, small, wget] = chk.split('\n').map((s) => s.trim());
          if (big !== String(COMMIT_MB * MiB) || small !== '200' || wget !== 'nowget') throw new Error(`committed image has /big ${big} bytes, ${small} small files, ${wget}`);
          const size = Number(t.run(['image', 'inspect', '--format', '{{.Size}}', tag]).stdout.trim());
          info.push(`${t.label} image ${(size / MiB).toFixed(1)} MiB`);
        }
        e.cli(rmArgs(e, [id]), 120_000);
        e.cli(['rmi', tag], 120_000);
        ctx.log(`  ${t.label}: commit ${c.ms.toFixed(0)} ms`);
        return c.ms / 1000;
      });
      ctx.rows.push({
        bench: 'data-commit', metric: `\`commit CTR\` of a running container with ${COMMIT_MB} MiB of changes, median of ${n}`, unit: 's',
        values: pick(r.out, median),
        note: [`Changes made by \`exec\` before the timed command: /big (${COMMIT_MB} MiB from /dev/urandom), 200 small files in /small, /bin/wget deleted (a whiteout). A new container per run; the image is removed after (untimed). docker and berth pause the container during commit by default, podman does not. Checked once per engine by running the image: ${info.join(', ') || 'n/a'}. One warm-up round.`, ...r.errors].join(' '),
      });
    } finally {
      cleanAll(ctx);
      for (const e of [ctx.berth, ctx.docker, ctx.podman]) { try { removeImages(e, COMMIT_REPO); } catch { /* reported by the leak check */ } }
    }
  },
};

/** Starts `count` busybox sleepers, `par` at a time, asynchronously. */
async function startSleepers(t: Target, count: number, par: number): Promise<void> {
  for (let i = 0; i < count; i += par) {
    const batch = Array.from({ length: Math.min(par, count - i) }, () => {
      const x = t.argv(['run', '-d', IMAGE, 'sleep', '3600']);
      return timedAsync(x.cmd, x.args, x.env);
    });
    for (const r of await Promise.all(batch)) ok(r, `${t.label} run -d`);
  }
}

export const dataStats: Benchmark = {
  name: 'data-stats',
  describe: `\`stats --no-stream\` with ${STATS_CONTAINERS} running busybox containers, median of 7`,
  async run(ctx) {
    const n = ctx.n(7);
    const errors: string[] = [];
    try {
      const engines = targets(ctx, ['berth', 'docker', 'podman']);
      const live: Target[] = [];
      for (const t of engines) {
        ctx.log(`  ${t.engine.id}: starting ${STATS_CONTAINERS} containers`);
        try {
          await startSleepers(t, STATS_CONTAINERS, 5);
          const running = ok(t.run(['ps', '-q']), `${t.label} ps`).split('\n').filter(Boolean).length;
          if (running !== STATS_CONTAINERS) throw new Error(`${running} containers running, expected ${STATS_CONTAINERS}`);
          live.push(t);
        } catch (err) {
          if (abort.requested) throw err;
          errors.push(`${t.label}: ${errText(err)}`);
        }
      }
      const ts = targets(ctx, ['berth', 'docker-berthd', 'docker', 'podman']).filter((t) => live.some((l) => l.engine === t.engine));
      const rows = new Map<TargetId, number>();
      const r = roundRobin(ts, n, 1, (t) => {
        const x = t.run(['stats', '--no-stream'], 120_000);
        const outp = ok(x, `${t.label} stats --no-stream`);
        const lines = outp.split('\n').filter(Boolean).length - 1;
        if (lines !== STATS_CONTAINERS) throw new Error(`stats --no-stream listed ${lines} containers, expected ${STATS_CONTAINERS}`);
        rows.set(t.id, lines);
        return x.ms;
      });
      for (const [id, xs] of r.out) if (xs.length) ctx.log(`  ${id}: median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`);
      ctx.rows.push({
        bench: 'data-stats', metric: `\`stats --no-stream\` with ${STATS_CONTAINERS} running containers, median of ${n}`, unit: 'ms',
        values: pick(r.out, median), goal: { vsDocker: 0.5, text: '≤0.5x docker' },
        note: [`${STATS_CONTAINERS} busybox \`sleep 3600\` per engine, started before timing (5 at a time) and all running during the whole benchmark (150 in all). Timed: the whole CLI command; its output was checked to list ${STATS_CONTAINERS} containers. The docker CLI asks for one stats frame per container (stream=false), which in dockerd includes a previous sample for CPU %; one warm-up round.`, ...errors, ...r.errors].join(' '),
      });
    } finally {
      cleanAll(ctx);
    }
  },
};

/** busybox `time` prints `real\t0m 4.02s`; seconds. */
function realSeconds(out: string): number {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(out);
  if (!m) throw new Error(`no time in dd output: ${out.trim().slice(0, 200)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const ddScript = (file: string, bin = '') =>
  `rm -f ${file} && sync && ${bin}time ${bin}dd if=/dev/zero of=${file} bs=1M count=${VOLUME_MB} conv=fsync 2>&1; r=$?; rm -f ${file}; exit $r`;

export const dataVolume: Benchmark = {
  name: 'data-volume',
  describe: `\`dd bs=1M count=${VOLUME_MB} conv=fsync\` into a named volume vs into a host directory on the same filesystem: MB/s, median of 5`,
  async run(ctx) {
    const n = ctx.n(5);
    const vol = `bbvol${process.pid}`;
    const hostDir = join(ctx.root, 'dd-host');
    mkdirSync(hostDir, { recursive: true });
    const hostFile = join(hostDir, 'f');
    const ctrs = new Map<TargetId, string>();
    const where: string[] = [];
    const engines = targets(ctx, ['berth', 'docker', 'podman']);
    try {
      const hostDev = statSync(hostDir).dev;
      const hostDd = () => realSeconds(ok(timed('/bin/busybox', ['sh', '-c', ddScript(hostFile, '/bin/busybox ')], process.env, 600_000), 'host dd'));
      const r = roundRobin(engines, n, 1, (t, i) => {
        let id = ctrs.get(t.id);
        if (!id) {
          ok(t.run(['volume', 'create', vol]), `${t.label} volume create`);
          const mp = ok(t.run(['volume', 'inspect', '--format', '{{.Mountpoint}}', vol]), `${t.label} volume inspect`);
          if (statSync(mp).dev !== hostDev) throw new Error(`volume ${mp} is not on the filesystem of ${hostDir}`);
          where.push(`${t.engine.id} ${mp.replace(ctx.root, '<root>')}`);
          id = ok(t.run(['run', '-d', '-v', `${vol}:/v`, IMAGE, 'sleep', '3600']), `${t.label} run -d -v`);
          ctrs.set(t.id, id);
        }
        // Host and volume back to back, order alternating, so a busy spell hits both.
        const vdd = () => realSeconds(ok(t.run(['exec', id, 'sh', '-c', ddScript('/v/f')], 600_000), `${t.label} exec dd`));
        let host: number;
        let v: number;
        if (i % 2) { v = vdd(); host = hostDd(); } else { host = hostDd(); v = vdd(); }
        const hm = VOLUME_MB / host;
        const vm = VOLUME_MB / v;
        ctx.log(`  ${t.label}: volume ${vm.toFixed(1)} MB/s, host ${hm.toFixed(1)} MB/s, ratio ${(vm / hm).toFixed(2)}`);
        return { host: hm, vol: vm, ratio: vm / hm };
      });
      const rows: Row[] = [
        {
          bench: 'data-volume', metric: `\`dd bs=1M count=${VOLUME_MB} conv=fsync\` into a named volume (\`-v VOL:/v\`), median of ${n}`, unit: 'MB/s',
          values: pick(r.out, (xs) => median(xs.map((x) => x.vol))),
          note: [`MB = MiB. busybox dd in a running container through \`exec\`, timed by busybox \`time\` around dd only (the file is removed and \`sync\` run first). Each volume run is paired with the same busybox dd on the host into ${hostDir.replace(ctx.root, '<root>')} (same filesystem as the volumes: ${where.join(', ')}), order alternating; one warm-up round. The disk's speed drifts by ±30 % within minutes here, so the MB/s rows differ between engines by chance; the ratio of each pair is what counts.`, ...r.errors].join(' '),
        },
        { bench: 'data-volume', metric: '… the same dd on the host, paired runs, median', unit: 'MB/s', values: pick(r.out, (xs) => median(xs.map((x) => x.host))) },
        {
          bench: 'data-volume', metric: '… volume / host, median of the per-pair ratios', unit: 'x', values: pick(r.out, (xs) => median(xs.map((x) => x.ratio))),
          noRatios: true, goal: { min: 0.95, text: '≥0.95x host' },
        },
      ];
      ctx.rows.push(...rows);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
      cleanAll(ctx);
      for (const t of engines) t.run(['volume', 'rm', '-f', vol]);
    }
  },
};

export const DATA_BENCHMARKS: Benchmark[] = [dataCp, dataCommit, dataStats, dataVolume];
