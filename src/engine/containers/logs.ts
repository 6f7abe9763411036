import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Container logs are written by conmon in the CRI "k8s-file" format, one record a line:
 *   2024-05-01T10:00:00.123456789+00:00 stdout F hello
 * F closes a line, P is a partial line (a chunk without its newline yet). Rotated files are
 * `<log>.1` (newest) … `<log>.N` (oldest). This module reads them back as Docker's logs API needs.
 */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano in UTC, as Docker prints with `-t`. */
  time: string;
  timeNs: bigint;
  data: Buffer;
}

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  /** Nanoseconds since the epoch; entries before are skipped. */
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Last N lines only (before following); undefined or negative means all. */
  tail?: number;
}

const LINE = /^(\S+) (stdout|stderr) ([PF])(?: (.*))?$/s;

/** Parses one k8s-file record; null for a malformed line. */
export function parseK8sLine(line: string): LogEntry | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const ns = parseTimeNs(m[1]!);
  if (ns === null) return null;
  const body = m[4] ?? '';
  return { stream: m[2] as 'stdout' | 'stderr', time: formatTimeNs(ns), timeNs: ns, data: Buffer.from(m[3] === 'F' ? body + '\n' : body) };
}

/** Nanoseconds since the epoch of an RFC3339 time with up to 9 fractional digits and any offset. */
export function parseTimeNs(s: string): bigint | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

export function formatTimeNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${base}.${frac}Z`;
}

/** Log files of a container in reading order: oldest rotation first, live file last. */
export function logFiles(logPath: string, maxFiles = 20): string[] {
  const out: string[] = [];
  for (let i = maxFiles; i >= 1; i--) if (existsSync(`${logPath}.${i}`)) out.push(`${logPath}.${i}`);
  if (existsSync(logPath)) out.push(logPath);
  return out;
}

function wanted(e: LogEntry, o: LogReadOptions): boolean {
  if (e.stream === 'stdout' ? !o.stdout : !o.stderr) return false;
  if (o.sinceNs !== undefined && e.timeNs < o.sinceNs) return false;
  if (o.untilNs !== undefined && e.timeNs > o.untilNs) return false;
  return true;
}

async function* readFileEntries(path: string, start = 0): AsyncGenerator<LogEntry> {
  const rl = createInterface({ input: createReadStream(path, { start }), crlfDelay: Infinity });
  for await (const line of rl) {
    const e = parseK8sLine(line);
    if (e) yield e;
  }
}

/** Reads what is on disk now, honouring the filters and tail. */
export async function* readLogs(logPath: string, o: LogReadOptions): AsyncGenerator<LogEntry> {
  if (o.tail !== undefined && o.tail >= 0) {
    // Keep a ring of the last N complete lines (a partial record belongs to the line it starts).
    const ring: LogEntry[][] = [];
    let current: LogEntry[] = [];
    for (const f of logFiles(logPath)) for await (const e of readFileEntries(f)) {
      if (!wanted(e, o)) continue;
      current.push(e);
      if (e.data.at(-1) === 0x0a) {
        ring.push(current);
        current = [];
        if (ring.length > o.tail) ring.shift();
      }
    }
    if (current.length) { ring.push(current); if (ring.length > o.tail) ring.shift(); }
    for (const line of ring) yield* line;
    return;
  }
  for (const f of logFiles(logPath)) for await (const e of readFileEntries(f)) if (wanted(e, o)) yield e;
}

/**
 * Yields entries appended to the live file after `fromOffset`, across rotations, until `stop`
 * resolves (the container exited) and what was written by then has been read. inotify-driven.
 */
export async function* followLogs(logPath: string, o: LogReadOptions, stop: Promise<void>, signal: AbortSignal): AsyncGenerator<LogEntry> {
  let offset = existsSync(logPath) ? statSync(logPath).size : 0;
  let ino = existsSync(logPath) ? statSync(logPath).ino : 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  let dirty = false;
  const poke = () => { dirty = true; const w = wake; wake = undefined; w?.(); };
  void stop.then(() => { stopped = true; poke(); });
  signal.addEventListener('abort', poke);
  const dir = logPath.slice(0, logPath.lastIndexOf('/'));
  const watcher = watch(dir, () => poke());
  let partial = '';
  const parseChunk = (chunk: Buffer): LogEntry[] => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    return lines.map(parseK8sLine).filter((e): e is LogEntry => e !== null);
  };
  try {
    for (;;) {
      if (signal.aborted) return;
      dirty = false;
      const wasStopped = stopped;
      if (existsSync(logPath)) {
        const st = statSync(logPath);
        if (st.ino !== ino || st.size < offset) {
          // Rotated: finish the old file (now `<log>.1`) from where we were before moving on.
          const old = existsSync(`${logPath}.1`) ? statSync(`${logPath}.1`) : undefined;
          if (old && old.ino === ino && old.size > offset) {
            for (const e of parseChunk(await readRange(`${logPath}.1`, offset, old.size))) if (wanted(e, o)) yield e;
          }
          ino = st.ino; offset = 0; partial = '';
        }
        if (st.size > offset) {
          const chunk = await readRange(logPath, offset, st.size);
          offset = st.size;
          for (const e of parseChunk(chunk)) if (wanted(e, o)) yield e;
        }
      }
      if (wasStopped) return;
      if (!dirty) await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    watcher.close();
    signal.removeEventListener('abort', poke);
  }
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(path, { start, end: end - 1 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
