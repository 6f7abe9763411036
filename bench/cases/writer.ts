/**
 * Log-path throughput: a detached container writes 500 MB of 100-byte lines to stdout; we time
 * `run -d` + `wait` (until the container has exited, i.e. its output went through the monitor
 * into the log). Each engine uses its default log driver. While it runs, /proc is sampled for
 * the CPU time of the container's monitor and of the daemon, to show where the time goes.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cleanAll, median, ok, type BenchContext, type Benchmark } from '../lib/context.ts';
import type { Target, TargetId } from '../lib/engines.ts';
import { cpuSeconds, findProcs, sleep, timed, timedAsync } from '../lib/proc.ts';

const BYTES = 500_000_000;
// 99 characters + newline = 100-byte lines, 5 million of them.
const LINE = '0123456789'.repeat(10).slice(0, 99);
const SCRIPT = `yes ${LINE} | head -c ${BYTES}`;
// The docker CLI→berthd target does the same daemon work as the berth CLI: not repeated here.
const TARGETS: TargetId[] = ['berth', 'docker', 'podman'];

/** Bytes of the container's log on disk, rotated files (`<log>.1` …) included. */
function logSize(t: Target, id: string): number | undefined {
  const fmt = t.engine.id === 'podman' ? '{{.HostConfig.LogConfig.Path}}' : '{{.LogPath}}';
  const path = t.run(['inspect', '--format', fmt, id]).stdout.trim();
  if (!path) return undefined;
  try {
    const files = readdirSync(dirname(path)).filter((f) => f === basename(path) || f.startsWith(`${basename(path)}.`));
    return files.reduce((a, f) => a + statSync(join(dirname(path), f)).size, 0);
  } catch {
    return undefined;
  }
}

interface WriterRun { seconds: number; monitorCpu: number; daemonCpu: number; logBytes?: number }

/** One run: start detached, wait asynchronously while sampling CPU, then remove. */
async function once(ctx: BenchContext, t: Target): Promise<WriterRun> {
  const daemon = t.engine.daemonProcs();
  const daemonBefore = daemon.reduce((a, p) => a + (cpuSeconds(p.pid) ?? 0), 0);
  const start = t.run(['run', '-d', 'busybox', 'sh', '-c', SCRIPT]);
  const id = ok(start, `${t.label} run -d`);
  const w = t.argv(['wait', id]);
  const waiting = timedAsync(w.cmd, w.args, w.env);
  const monitorCpu = new Map<number, number>();
  let done = false;
  void waiting.then(() => { done = true; });
  while (!done) {
    // The monitor's cumulative CPU, last seen before it exits (it may go with the container).
    for (const p of findProcs(t.engine.monitorNames, id.slice(0, 12))) {
      const c = cpuSeconds(p.pid);
      if (c !== undefined) monitorCpu.set(p.pid, c);
    }
    await sleep(200);
  }
  const res = await waiting;
  const code = ok(res, `${t.label} wait`);
  if (code !== '0') throw new Error(`writer exited ${code}`);
  const daemonAfter = daemon.reduce((a, p) => a + (cpuSeconds(p.pid) ?? 0), 0);
  const logBytes = logSize(t, id);
  t.run(['rm', '-f', id], 120_000);
  return {
    seconds: (start.ms + res.ms) / 1000,
    monitorCpu: [...monitorCpu.values()].reduce((a, b) => a + b, 0),
    daemonCpu: daemonAfter - daemonBefore,
    ...(logBytes !== undefined ? { logBytes } : {}),
  };
}

export const writer: Benchmark = {
  name: 'writer',
  describe: 'a container writing 500 MB to stdout: `run -d` then `wait`, until it has exited',
  async run(ctx) {
    const n = ctx.n(Number(process.env['BENCH_WRITER_N'] ?? 1)) || 1;
    const values: Partial<Record<TargetId, number>> = {};
    const details: string[] = [];
    ctx.log(`500 MB stdout writer, median of ${n}`);
    try {
      // The same pipeline on the host into /dev/null: what no engine can beat.
      const floor = timed('/bin/busybox', ['sh', '-c', SCRIPT.replace(/^yes/, '/bin/busybox yes').replace('| head', '| /bin/busybox head') + ' > /dev/null'], process.env, 300_000);
      details.push(`Host floor: the same pipeline on the host into /dev/null takes ${(floor.ms / 1000).toFixed(1)} s`);
      for (const t of ctx.targets.filter((x) => TARGETS.includes(x.id))) {
        try {
          const runs: WriterRun[] = [];
          for (let i = 0; i < n; i++) runs.push(await once(ctx, t));
          values[t.id] = median(runs.map((r) => r.seconds));
          const r = runs[0]!;
          const mon = t.engine.monitorNames.join('/');
          details.push(`${t.label}: ${mon} ${r.monitorCpu.toFixed(1)} s CPU, daemon ${r.daemonCpu.toFixed(1)} s CPU, log file ${r.logBytes !== undefined ? `${(r.logBytes / 1e6).toFixed(0)} MB` : 'n/a'}`);
          ctx.log(`  ${t.label}: ${values[t.id]!.toFixed(2)} s (${details[details.length - 1]})`);
        } catch (err) {
          details.push(`${t.label} failed: ${String((err as Error).message).slice(0, 300)}`);
          ctx.log(`  ${t.label}: FAILED ${String(err)}`);
        }
      }
      ctx.rows.push({
        bench: 'writer', metric: `500 MB to stdout, \`run -d\` + \`wait\`${n > 1 ? `, median of ${n}` : ''}`, unit: 's', values,
        goal: { vsDocker: 0.3, text: '≤0.3x docker' },
        note: `100-byte lines. Default log drivers: berth conmon k8s-file rotated by berthd (max-size 20 MB x 5 files by default), docker json-file, podman conmon k8s-file. ${details.join('; ')}. The docker CLI→berthd column is not run (same daemon work as berth).`,
      });
    } finally {
      cleanAll(ctx);
    }
  },
};
