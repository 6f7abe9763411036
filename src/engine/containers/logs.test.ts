import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LogEntry, type LogReadOptions, followLogs, formatTimeNs, logFiles, parseK8sLine, parseTimeNs, readLogs } from './logs.ts';

const BOTH: LogReadOptions = { stdout: true, stderr: true };

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A k8s-file record at second `s` of 2024-05-01T10:00:00Z. */
const rec = (s: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string) =>
  `2024-05-01T10:00:${String(s).padStart(2, '0')}.000000001Z ${stream} ${tag} ${text}\n`;
const T0 = 1714557600n * 1_000_000_000n; // 2024-05-01T10:00:00Z in ns

async function collect(it: AsyncIterable<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.data.toString()}`);
  return out;
}

test('parseK8sLine: a full line gets its newline back', () => {
  const e = parseK8sLine('2024-05-01T10:00:00.123456789+00:00 stdout F hello world');
  assert.ok(e);
  assert.equal(e.stream, 'stdout');
  assert.equal(e.data.toString(), 'hello world\n');
  assert.equal(e.timeNs, T0 + 123456789n);
  assert.equal(e.time, '2024-05-01T10:00:00.123456789Z');
});

test('parseK8sLine: a partial line (P) has no newline; empty bodies and inner spaces survive', () => {
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stderr P part ')?.data.toString(), 'part ');
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stderr P part')?.stream, 'stderr');
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stdout F')?.data.toString(), '\n');
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stdout F ')?.data.toString(), '\n');
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stdout F   a  b ')?.data.toString(), '  a  b \n');
});

test('parseK8sLine: malformed records are null', () => {
  assert.equal(parseK8sLine(''), null);
  assert.equal(parseK8sLine('hello'), null);
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stdin F x'), null);
  assert.equal(parseK8sLine('2024-05-01T10:00:00Z stdout X x'), null);
  assert.equal(parseK8sLine('yesterday stdout F x'), null);
  assert.equal(parseK8sLine('2024-13-45T10:00:00Z stdout F x'), null);
});

test('parseTimeNs: offsets and 1 to 9 fractional digits', () => {
  assert.equal(parseTimeNs('2024-05-01T10:00:00Z'), T0);
  assert.equal(parseTimeNs('2024-05-01T12:00:00+02:00'), T0);
  assert.equal(parseTimeNs('2024-05-01T05:30:00-04:30'), T0);
  assert.equal(parseTimeNs('2024-05-01T10:00:00.5Z'), T0 + 500_000_000n);
  assert.equal(parseTimeNs('2024-05-01T10:00:00.000001Z'), T0 + 1000n);
  assert.equal(parseTimeNs('2024-05-01T10:00:00.123456789-00:00'), T0 + 123456789n);
  assert.equal(parseTimeNs('1970-01-01T00:00:00.000000001Z'), 1n);
});

test('parseTimeNs: anything else is null', () => {
  for (const s of ['', '2024-05-01', '2024-05-01T10:00:00', '2024-05-01T10:00:00.Z', '2024-05-01T10:00:00.1234567890Z', '2024-05-01 10:00:00Z', '2024-05-01T10:00:00+0200']) {
    assert.equal(parseTimeNs(s), null, s);
  }
});

test('formatTimeNs: RFC3339Nano in UTC with 9 digits, round-tripping parseTimeNs', () => {
  assert.equal(formatTimeNs(T0), '2024-05-01T10:00:00.000000000Z');
  assert.equal(formatTimeNs(T0 + 42n), '2024-05-01T10:00:00.000000042Z');
  assert.equal(formatTimeNs(0n), '1970-01-01T00:00:00.000000000Z');
  for (const s of ['2024-05-01T10:00:00.999999999Z', '2000-02-29T23:59:59.000000001Z']) assert.equal(formatTimeNs(parseTimeNs(s)!), s);
});

/** Three files: `.2` (oldest), `.1`, live; one stdout and one stderr line a second. */
function rotatedLogs(dir: string): string {
  const log = join(dir, 'ctr.log');
  writeFileSync(`${log}.2`, rec(1, 'stdout', 'F', 'one') + rec(2, 'stderr', 'F', 'two'));
  writeFileSync(`${log}.1`, rec(3, 'stdout', 'F', 'three') + 'garbage line\n' + rec(4, 'stderr', 'F', 'four'));
  writeFileSync(log, rec(5, 'stdout', 'P', 'fi') + rec(5, 'stdout', 'F', 've') + rec(6, 'stderr', 'F', 'six'));
  return log;
}

test('logFiles: oldest rotation first, live file last, gaps skipped', (t) => {
  const dir = tmp(t);
  const log = rotatedLogs(dir);
  assert.deepEqual(logFiles(log), [`${log}.2`, `${log}.1`, log]);
  rmSync(`${log}.1`);
  assert.deepEqual(logFiles(log), [`${log}.2`, log]);
  assert.deepEqual(logFiles(join(dir, 'none.log')), []);
});

test('readLogs: every file in order, malformed lines skipped', async (t) => {
  const log = rotatedLogs(tmp(t));
  assert.deepEqual(await collect(readLogs(log, BOTH)), [
    'stdout:one\n', 'stderr:two\n', 'stdout:three\n', 'stderr:four\n', 'stdout:fi', 'stdout:ve\n', 'stderr:six\n',
  ]);
});

test('readLogs: stdout or stderr alone', async (t) => {
  const log = rotatedLogs(tmp(t));
  assert.deepEqual(await collect(readLogs(log, { stdout: true, stderr: false })), ['stdout:one\n', 'stdout:three\n', 'stdout:fi', 'stdout:ve\n']);
  assert.deepEqual(await collect(readLogs(log, { stdout: false, stderr: true })), ['stderr:two\n', 'stderr:four\n', 'stderr:six\n']);
  assert.deepEqual(await collect(readLogs(log, { stdout: false, stderr: false })), []);
});

test('readLogs: tail counts whole lines across rotated files (a partial record joins its line)', async (t) => {
  const log = rotatedLogs(tmp(t));
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, tail: 2 })), ['stdout:fi', 'stdout:ve\n', 'stderr:six\n']);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, tail: 4 })), ['stdout:three\n', 'stderr:four\n', 'stdout:fi', 'stdout:ve\n', 'stderr:six\n']);
  assert.equal((await collect(readLogs(log, { ...BOTH, tail: 100 }))).length, 7);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, tail: 0 })), []);
  assert.equal((await collect(readLogs(log, { ...BOTH, tail: -1 }))).length, 7);
  // Tail applies after the stream selection.
  assert.deepEqual(await collect(readLogs(log, { stdout: false, stderr: true, tail: 2 })), ['stderr:four\n', 'stderr:six\n']);
});

test('readLogs: tail keeps an unfinished last line', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, rec(1, 'stdout', 'F', 'a') + rec(2, 'stdout', 'F', 'b') + rec(3, 'stdout', 'P', 'no newline yet'));
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, tail: 1 })), ['stdout:no newline yet']);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, tail: 2 })), ['stdout:b\n', 'stdout:no newline yet']);
});

test('readLogs: since and until bound the entries (inclusive)', async (t) => {
  const log = rotatedLogs(tmp(t));
  const at = (s: number) => T0 + BigInt(s) * 1_000_000_000n + 1n;
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, sinceNs: at(4) })), ['stderr:four\n', 'stdout:fi', 'stdout:ve\n', 'stderr:six\n']);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, untilNs: at(2) })), ['stdout:one\n', 'stderr:two\n']);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, sinceNs: at(2), untilNs: at(3) })), ['stderr:two\n', 'stdout:three\n']);
  assert.deepEqual(await collect(readLogs(log, { ...BOTH, sinceNs: at(3), tail: 1 })), ['stderr:six\n']);
});

test('readLogs: a missing log reads as empty', async (t) => {
  assert.deepEqual(await collect(readLogs(join(tmp(t), 'nope.log'), BOTH)), []);
});

/**
 * Runs followLogs in the background; `waitFor(n)` resolves once n entries arrived. The follower is
 * aborted when the test ends, so a test that fails does not hang on its watcher.
 */
function follow(t: TestContext, log: string, o: LogReadOptions, stop: Promise<void>, signal = new AbortController().signal) {
  const ended = new AbortController();
  t.after(() => ended.abort());
  const seen: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const e of followLogs(log, o, stop, AbortSignal.any([signal, ended.signal]))) {
      seen.push(`${e.stream}:${e.data.toString()}`);
      for (const w of waiters.filter((x) => seen.length >= x.n)) w.resolve();
    }
  })();
  const waitFor = (n: number) => new Promise<void>((resolve, reject) => {
    if (seen.length >= n) { resolve(); return; }
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} entries, saw ${JSON.stringify(seen)}`)), 5000);
    waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
  });
  return { seen, waitFor, done };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

test('followLogs: only lines appended after the start, until stop', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, rec(1, 'stdout', 'F', 'old'));
  const stop = deferred();
  const f = follow(t, log, BOTH, stop.promise);
  appendFileSync(log, rec(2, 'stdout', 'F', 'new'));
  await f.waitFor(1);
  appendFileSync(log, rec(3, 'stderr', 'P', 'half'));
  appendFileSync(log, rec(3, 'stderr', 'F', ' done'));
  await f.waitFor(3);
  // Written just before the stop: still delivered, then the generator ends.
  appendFileSync(log, rec(4, 'stdout', 'F', 'last'));
  stop.resolve();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:new\n', 'stderr:half', 'stderr: done\n', 'stdout:last\n']);
});

test('followLogs: a record split across writes is delivered once it is complete', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, '');
  const stop = deferred();
  const f = follow(t, log, BOTH, stop.promise);
  const line = rec(2, 'stdout', 'F', 'split');
  // One write: once the follower has delivered 'one' it has read the half record behind it too.
  appendFileSync(log, rec(1, 'stdout', 'F', 'one') + line.slice(0, 20));
  await f.waitFor(1);
  appendFileSync(log, line.slice(20) + rec(3, 'stdout', 'F', 'three'));
  await f.waitFor(3);
  stop.resolve();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:one\n', 'stdout:split\n', 'stdout:three\n']);
});

test('followLogs: no line is lost across a rotation (rename to .1, new file)', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, '');
  const stop = deferred();
  const f = follow(t, log, { stdout: true, stderr: false }, stop.promise);
  appendFileSync(log, rec(1, 'stdout', 'F', 'a'));
  await f.waitFor(1);
  // Written to the old file right before the rename, with no chance for the follower to read it first.
  appendFileSync(log, rec(2, 'stdout', 'F', 'b') + rec(2, 'stderr', 'F', 'filtered out'));
  renameSync(log, `${log}.1`);
  writeFileSync(log, rec(3, 'stdout', 'F', 'c'));
  await f.waitFor(3);
  // A second rotation, after the follower caught up.
  renameSync(`${log}.1`, `${log}.2`);
  renameSync(log, `${log}.1`);
  writeFileSync(log, rec(4, 'stdout', 'F', 'd'));
  await f.waitFor(4);
  appendFileSync(log, rec(5, 'stdout', 'F', 'e'));
  stop.resolve();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:a\n', 'stdout:b\n', 'stdout:c\n', 'stdout:d\n', 'stdout:e\n']);
});

test('followLogs: a log file that appears later is read from its start', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  const stop = deferred();
  // The generator runs up to its first await inside follow(): it has seen no file before this write.
  const f = follow(t, log, BOTH, stop.promise);
  writeFileSync(log, rec(1, 'stdout', 'F', 'first'));
  await f.waitFor(1);
  stop.resolve();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:first\n']);
});

test('followLogs: since/until filter followed entries too', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, '');
  const stop = deferred();
  const at = (s: number) => T0 + BigInt(s) * 1_000_000_000n;
  const f = follow(t, log, { ...BOTH, sinceNs: at(2), untilNs: at(3) + 1n }, stop.promise);
  appendFileSync(log, rec(1, 'stdout', 'F', 'early') + rec(2, 'stdout', 'F', 'in') + rec(3, 'stdout', 'F', 'in too') + rec(4, 'stdout', 'F', 'late'));
  stop.resolve();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:in\n', 'stdout:in too\n']);
});

test('followLogs: an abort ends the stream without a stop', async (t) => {
  const log = join(tmp(t), 'ctr.log');
  writeFileSync(log, '');
  const ac = new AbortController();
  const f = follow(t, log, BOTH, new Promise<void>(() => undefined), ac.signal);
  appendFileSync(log, rec(1, 'stdout', 'F', 'x'));
  await f.waitFor(1);
  ac.abort();
  await f.done;
  assert.deepEqual(f.seen, ['stdout:x\n']);
});
