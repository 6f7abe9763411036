import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../lib/test-support.ts';
import { sendConmonControl } from '../../runtime/conmon.ts';
import { LogRotator, rotate } from './log-rotator.ts';

/** conmon's reopen over its real control fifo, as ConmonMonitor sends it. */
const reopenLog = (fifo: string) => sendConmonControl(fifo, 2);
const quiet = { warn: () => undefined };

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fifo with a non-blocking reader held open by the test; `read()` drains what was written. */
function fifoWithReader(t: { after: (fn: () => void) => void }, dir: string) {
  const path = join(dir, 'ctl');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  t.after(() => closeSync(fd));
  const read = (): string => {
    const buf = Buffer.alloc(256);
    try { return buf.subarray(0, readSync(fd, buf)).toString(); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return '';
      throw err;
    }
  };
  return { path, read };
}

/** Fails instead of hanging the suite. */
const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref())]);

const contents = (log: string, n: number) => {
  const out: Record<string, string | null> = {};
  out['log'] = existsSync(log) ? readFileSync(log, 'utf8') : null;
  for (let i = 1; i <= n; i++) out[`log.${i}`] = existsSync(`${log}.${i}`) ? readFileSync(`${log}.${i}`, 'utf8') : null;
  return out;
};

test('rotate: max-file=3 shifts log → .1 → .2, drops the oldest, and asks conmon to reopen', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const fifo = fifoWithReader(t, dir);
  writeFileSync(log, 'live');
  await rotate({ logPath: log, ctlFifo: fifo.path, maxFile: 3 }, reopenLog);
  assert.deepEqual(contents(log, 3), { log: '', 'log.1': 'live', 'log.2': null, 'log.3': null });
  assert.equal(fifo.read(), '2 0 0\n');

  writeFileSync(log, 'second');
  await rotate({ logPath: log, ctlFifo: fifo.path, maxFile: 3 }, reopenLog);
  assert.deepEqual(contents(log, 3), { log: '', 'log.1': 'second', 'log.2': 'live', 'log.3': null });

  writeFileSync(log, 'third');
  await rotate({ logPath: log, ctlFifo: fifo.path, maxFile: 3 }, reopenLog);
  // Three files at most: the live one (recreated at once, reopened by conmon) plus .1 and .2.
  assert.deepEqual(contents(log, 3), { log: '', 'log.1': 'third', 'log.2': 'second', 'log.3': null });
  assert.equal(fifo.read(), '2 0 0\n2 0 0\n');
});

test('rotate: max-file=2 keeps one old file', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const fifo = fifoWithReader(t, dir);
  writeFileSync(log, 'a');
  writeFileSync(`${log}.1`, 'older');
  await rotate({ logPath: log, ctlFifo: fifo.path, maxFile: 2 }, reopenLog);
  assert.deepEqual(contents(log, 2), { log: '', 'log.1': 'a', 'log.2': null });
  assert.equal(fifo.read(), '2 0 0\n');
});

test('rotate: max-file=1 (and below) truncates: no rotated file is kept', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const fifo = fifoWithReader(t, dir);
  for (const maxFile of [1, 0]) {
    writeFileSync(log, 'data');
    await rotate({ logPath: log, ctlFifo: fifo.path, maxFile }, reopenLog);
    assert.deepEqual(contents(log, 1), { log: '', 'log.1': null });
    assert.equal(fifo.read(), '2 0 0\n');
  }
});

test('rotate: without a reader on the fifo it neither hangs nor throws', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const ctl = join(dir, 'ctl');
  execFileSync('mkfifo', [ctl]);
  writeFileSync(log, 'x');
  await within(2000, rotate({ logPath: log, ctlFifo: ctl, maxFile: 3 }, reopenLog));
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'x');
});

test('rotate: a missing fifo or missing log is not an error', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  await within(2000, rotate({ logPath: log, ctlFifo: join(dir, 'no-such-fifo'), maxFile: 3 }, reopenLog));
  assert.deepEqual(contents(log, 2), { log: '', 'log.1': null, 'log.2': null });
});

test('LogRotator: rotates a watched log once it reaches max-size; unwatch stops it', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const fifo = fifoWithReader(t, dir);
  // No timer of its own: each pass is run by the test, so "not rotated" is known, not waited for.
  const r = new LogRotator({ reopenLog, log: quiet, intervalMs: Infinity });
  t.after(() => r.close());
  writeFileSync(log, 'small');
  r.watch('c1', { logPath: log, ctlFifo: fifo.path, maxSize: 10, maxFile: 2 });
  await r.checkNow();
  assert.equal(existsSync(`${log}.1`), false, 'under max-size: not rotated');
  writeFileSync(log, 'now over ten bytes');
  await r.checkNow();
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'now over ten bytes');
  assert.equal(fifo.read(), '2 0 0\n');
  r.unwatch('c1');
  writeFileSync(log, 'over ten bytes again');
  await r.checkNow();
  assert.equal(readFileSync(log, 'utf8'), 'over ten bytes again');
  assert.equal(existsSync(`${log}.2`), false);
});

test('LogRotator: its timer runs the check on its own', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const fifo = fifoWithReader(t, dir);
  const r = new LogRotator({ reopenLog, log: quiet, intervalMs: 5 });
  t.after(() => r.close());
  writeFileSync(log, 'now over ten bytes');
  r.watch('c1', { logPath: log, ctlFifo: fifo.path, maxSize: 10, maxFile: 2 });
  await waitFor('the timer to rotate the log', () => existsSync(`${log}.1`), { timeoutMs: 5000, intervalMs: 5 });
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'now over ten bytes');
  // The reopen request follows the rename; the poll may see the rename first.
  let ctl = '';
  await waitFor('the reopen request', () => (ctl += fifo.read()) !== '', { timeoutMs: 5000, intervalMs: 5 });
  assert.equal(ctl, '2 0 0\n');
});

test('LogRotator: max-size 0 means no rotation', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'ctr.log');
  const r = new LogRotator({ reopenLog, log: quiet, intervalMs: Infinity });
  t.after(() => r.close());
  writeFileSync(log, 'anything');
  r.watch('c1', { logPath: log, ctlFifo: join(dir, 'ctl'), maxSize: 0, maxFile: 2 });
  await r.checkNow();
  assert.equal(existsSync(`${log}.1`), false);
});
