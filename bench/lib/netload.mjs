#!/usr/bin/env node
// A small, deterministic HTTP load generator for the network benchmark (plain JS: no tsx start-up,
// runnable as a child process). busybox httpd answers HTTP/1.0 and closes the connection after
// each response, so every request is one TCP connection: connect, send GET, read to EOF.
//
//   node bench/lib/netload.mjs run HOST:PORT[,HOST:PORT...] PATH SECONDS CONC [SLICE_SECONDS]
//     CONC loops of connect/GET/read-to-EOF, SECONDS per target. The targets take turns in slices
//     of SLICE_SECONDS (default 1), so a busy spell on the machine hits all of them alike; each
//     target's rate is the median over its slices. Bytes are counted as they arrive, so a large
//     transfer cut off at the end of a slice still counts. Prints one JSON line per target:
//     { target, requests, errors, bytes, seconds, reqPerSec, mbPerSec, slices } (MB = 1e6 bytes).
//   node bench/lib/netload.mjs probe HOST:PORT PATH TIMEOUT_SECONDS
//     Retries one GET until it answers 200 (exit 0) or the timeout passes (exit 1).
//
// Only ever connects to the HOST given; the bench passes loopback, a bridge gateway of an engine,
// or a container address on an engine's bridge.
import net from 'node:net';

const [mode, targetsArg, path, a, b, c] = process.argv.slice(2);
const targets = targetsArg.split(',').map((t) => { const i = t.lastIndexOf(':'); return { host: t.slice(0, i), port: Number(t.slice(i + 1)) }; });
const request = Buffer.from(`GET ${path} HTTP/1.0\r\nHost: bench\r\nUser-Agent: berth-bench\r\n\r\n`);

/** One request; resolves with the body+header bytes received, or rejects. Stops at `deadline`. */
function once({ host, port }, onBytes, deadline) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    let head = '';
    let total = 0;
    let timer;
    const done = (err) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err); else resolve(total);
    };
    if (deadline !== undefined) timer = setTimeout(() => done(), Math.max(0, deadline - Date.now()));
    s.once('connect', () => s.write(request));
    s.on('data', (buf) => {
      if (head.length < 16) {
        head += buf.subarray(0, 16).toString('latin1');
        if (head.length >= 12 && !/^HTTP\/1\.[01] 200/.test(head)) return done(new Error(`bad status: ${head.slice(0, 12)}`));
      }
      total += buf.length;
      onBytes(buf.length);
    });
    s.once('end', () => done());
    s.once('error', done);
  });
}

/** One slice of `seconds` against `target`: CONC loops until the deadline. */
async function slice(target, seconds, conc) {
  let over = false;
  let requests = 0;
  let errors = 0;
  let bytes = 0;
  let firstError = '';
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  const stop = setTimeout(() => { over = true; }, seconds * 1000);
  const loop = async () => {
    while (!over) {
      try {
        await once(target, (n) => { if (!over) bytes += n; }, end);
        if (!over) requests++;
      } catch (err) {
        if (over) break;
        errors++;
        firstError ||= String(err.message ?? err);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: conc }, loop));
  clearTimeout(stop);
  const secs = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  return { requests, errors, bytes, secs, firstError };
}

const med = (xs) => { const s = [...xs].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function run(seconds, conc, sliceSecs) {
  const n = Math.max(1, Math.round(seconds / sliceSecs));
  const per = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    // Alternate the order each round, so no target always follows the same one.
    const order = targets.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) per[j].push(await slice(targets[j], sliceSecs, conc));
  }
  targets.forEach((t, j) => {
    const ss = per[j];
    const sum = (k) => ss.reduce((x, s) => x + s[k], 0);
    process.stdout.write(`${JSON.stringify({
      target: `${t.host}:${t.port}`, requests: sum('requests'), errors: sum('errors'), bytes: sum('bytes'), seconds: sum('secs'),
      reqPerSec: med(ss.map((s) => s.requests / s.secs)), mbPerSec: med(ss.map((s) => s.bytes / 1e6 / s.secs)), slices: ss.length,
      firstError: ss.map((s) => s.firstError).find(Boolean) ?? '',
    })}\n`);
  });
}

async function probe(timeout) {
  const end = Date.now() + timeout * 1000;
  let last = '';
  while (Date.now() < end) {
    try { await once(targets[0], () => undefined, Date.now() + 2000); return 0; } catch (err) { last = String(err.message ?? err); }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`probe ${targetsArg}${path}: ${last}\n`);
  return 1;
}

if (mode === 'run') await run(Number(a), Number(b), Number(c ?? 1));
else if (mode === 'probe') process.exitCode = await probe(Number(a));
else { process.stderr.write('usage: netload.mjs run|probe HOST:PORT[,...] PATH ...\n'); process.exitCode = 2; }
