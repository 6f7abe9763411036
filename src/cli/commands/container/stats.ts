import type { IncomingMessage } from 'node:http';
import type * as api from '../../../api/types/index.ts';
import { ApiError } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { renderList } from '../../format/formatter.ts';
import { type CliContext, ExitError, type Flags, bool, str } from '../../context.ts';
import { bytesSize, formatGoFloat, humanSize } from '../../../lib/units.ts';

export const statsSpec: CommandSpec = {
  name: 'stats', usage: '[OPTIONS] [CONTAINER...]', description: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['container stats'],
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'format', kind: 'string', description: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates" },
    { name: 'no-stream', kind: 'bool', description: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', kind: 'bool', description: 'Do not truncate output' },
  ],
};

/** docker CLI's StatsEntry: the numbers behind one row. */
export interface StatsEntry {
  container: string; name: string; id: string; cpuPercentage: number; memory: number; memoryLimit: number;
  memoryPercentage: number; networkRx: number; networkTx: number; blockRead: number; blockWrite: number; pidsCurrent: number;
  /** No data (a timeout or an error): the row shows "--". */
  invalid: boolean;
}

/** docker's calculateCPUPercentUnix. */
export function cpuPercent(pre: api.CpuStats | undefined, cur: api.CpuStats): number {
  const cpuDelta = cur.cpu_usage.total_usage - (pre?.cpu_usage.total_usage ?? 0);
  const systemDelta = (cur.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  const online = cur.online_cpus || cur.cpu_usage.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: usage minus inactive file pages (v1 total_inactive_file, v2 inactive_file). */
export function memUsageNoCache(m: api.MemoryStats): number {
  const usage = m.usage ?? 0;
  const v1 = m.stats?.['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = m.stats?.['inactive_file'] ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

/** The numbers of one stats frame, as docker's collect() computes them. Pure. */
export function toEntry(container: string, v: api.StatsResponse): StatsEntry {
  const mem = memUsageNoCache(v.memory_stats ?? {});
  const limit = v.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(v.networks ?? {})) { rx += n.rx_bytes; tx += n.tx_bytes; }
  let read = 0;
  let write = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op[0];
    if (op === 'r' || op === 'R') read += e.value;
    else if (op === 'w' || op === 'W') write += e.value;
  }
  return {
    container, name: v.name, id: v.id, cpuPercentage: cpuPercent(v.precpu_stats, v.cpu_stats), memory: mem, memoryLimit: limit,
    memoryPercentage: limit !== 0 ? (mem / limit) * 100 : 0, networkRx: rx, networkTx: tx, blockRead: read, blockWrite: write,
    pidsCurrent: v.pids_stats?.current ?? 0, invalid: false,
  };
}

const percent = (v: number) => `${formatGoFloat(v, 'f', 2)}%`;

/** The row `--format` templates see: docker's statsContext fields. */
export function statsRow(s: StatsEntry, trunc: boolean): Record<string, string> {
  return {
    Container: s.container,
    Name: s.name.length > 1 ? s.name.slice(1) : '--',
    ID: trunc ? s.id.slice(0, 12) : s.id,
    CPUPerc: s.invalid ? '--' : percent(s.cpuPercentage),
    MemUsage: s.invalid ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    MemPerc: s.invalid ? '--' : percent(s.memoryPercentage),
    NetIO: s.invalid ? '--' : `${humanSize(s.networkRx, 3)} / ${humanSize(s.networkTx, 3)}`,
    BlockIO: s.invalid ? '--' : `${humanSize(s.blockRead, 3)} / ${humanSize(s.blockWrite, 3)}`,
    PIDs: s.invalid ? '--' : String(s.pidsCurrent),
  };
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS = { Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };

/** Renders the entries as docker does (default table, `table TEMPLATE`, `json` or a raw template). */
export function renderStats(entries: readonly StatsEntry[], format: string | undefined, trunc: boolean): string {
  return renderList(entries, { format, defaultTable: DEFAULT_TABLE, headers: HEADERS, toRow: (e) => statsRow(e, trunc) });
}

const blank = (container: string): StatsEntry => ({
  container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0,
  networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, invalid: false,
});

/** Calls `onFrame` for each newline-delimited JSON frame of a stats response; settles when it ends. */
function readFrames(res: IncomingMessage, onFrame: (v: api.StatsResponse) => void): Promise<void> {
  let buf = '';
  return new Promise((resolve) => {
    res.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) { try { onFrame(JSON.parse(line) as api.StatsResponse); } catch { /* a torn frame: skip it */ } }
      }
    });
    res.on('end', () => resolve());
    res.on('error', () => resolve());
    res.on('close', () => resolve());
  });
}

/** docker's per-container collector: a first frame within 2 s or the row goes invalid ("--"). */
class Collector {
  entry: StatsEntry;
  error: string | undefined;
  #res: IncomingMessage | undefined;
  readonly first: Promise<void>;

  constructor(ctx: CliContext, container: string, stream: boolean) {
    this.entry = blank(container);
    let gotFirst!: () => void;
    this.first = new Promise<void>((r) => { gotFirst = r; });
    const timer = setTimeout(() => { this.entry = { ...blank(container), invalid: true }; gotFirst(); }, 2000);
    timer.unref();
    ctx.client.raw('GET', `/containers/${encodeURIComponent(container)}/stats`, { query: { stream } }).then(async (res) => {
      this.#res = res;
      await readFrames(res, (v) => { this.entry = toEntry(container, v); clearTimeout(timer); gotFirst(); });
      clearTimeout(timer);
      gotFirst();
    }, (err: unknown) => {
      this.error = `Error response from daemon: ${err instanceof ApiError ? err.message : String(err)}`;
      this.entry = { ...this.entry, invalid: true };
      clearTimeout(timer);
      gotFirst();
    });
  }

  close(): void { this.#res?.destroy(); }
}

/**
 * `berth stats`: without containers, every running one (all with -a), followed as they start and
 * stop; with containers, those. --no-stream prints one table from one sample per container, all
 * fetched in parallel. Streaming redraws the table every 500 ms, as docker does.
 */
export async function stats(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const stream = !bool(f, 'no-stream');
  const trunc = !bool(f, 'no-trunc');
  const format = str(f, 'format');
  const showAll = args.length === 0;
  const collectors = new Map<string, Collector>();
  const add = (c: string) => { if (!collectors.has(c)) collectors.set(c, new Collector(ctx, c, stream)); };
  const listContainers = async () => (await ctx.client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: bool(f, 'all') } })).map((c) => c.Id);
  if (showAll) for (const id of await listContainers()) add(id);
  else for (const c of args) add(c);
  await Promise.all([...collectors.values()].map((c) => c.first));
  if (!showAll) {
    const errors = [...collectors.values()].map((c) => c.error).filter((e): e is string => e !== undefined);
    if (errors.length) {
      for (const c of collectors.values()) c.close();
      throw new ExitError(1, errors.join('\n'));
    }
  }
  const draw = () => renderStats([...collectors.values()].map((c) => c.entry), format, trunc);
  if (!stream) {
    ctx.stdout.write(draw());
    return;
  }
  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGINT', onSignal);
  let lastList = Date.now();
  while (!stop) {
    const text = draw();
    ctx.stdout.write(`\x1b[H${text.split('\n').map((l) => `${l} \x1b[K`).join('\n')}\x1b[J`);
    if (!showAll && [...collectors.values()].every((c) => c.error)) break;
    await new Promise((r) => setTimeout(r, 500));
    if (showAll && Date.now() - lastList >= 1000) {
      // docker follows start/die events; a fresh list each second gives the same rows.
      lastList = Date.now();
      const ids = new Set(await listContainers().catch(() => [...collectors.keys()]));
      for (const id of ids) add(id);
      for (const [id, c] of collectors) if (!ids.has(id)) { c.close(); collectors.delete(id); }
    }
  }
  for (const c of collectors.values()) c.close();
}
