#!/usr/bin/env node
// DNS lookup latency from one process: sends COUNT A queries for NAME to SERVER:53 over UDP, one
// at a time (the next goes out when the previous answer is in), and times each reply.
// Run it inside a container's network namespace: nsenter --net=/proc/PID/ns/net node dnsloop.mjs …
//
//   node bench/lib/dnsloop.mjs SERVER NAME COUNT [WARM]
//
// Prints JSON: { n, lost, medianMs, p99Ms, meanMs, maxMs, answers } where answers are the A
// records of the last reply (to check the name resolved to the right container). A query with no
// answer within 1 s counts as lost and is not retried. NAME must be a container the server knows:
// an unknown name would be forwarded to the host's upstream resolvers.
import dgram from 'node:dgram';
import packet from 'dns-packet';

const [server, name, countS, warmS] = process.argv.slice(2);
const count = Number(countS);
const warm = Number(warmS ?? 20);

const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, r));
let pending;
sock.on('message', (msg) => {
  let res;
  try { res = packet.decode(msg); } catch { return; }
  if (pending && res.id === pending.id) { const p = pending; pending = undefined; p.resolve(res); }
});

function query(id) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => { pending = undefined; resolve(undefined); }, 1000);
    pending = { id, resolve: (res) => { clearTimeout(timer); resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, res }); } };
    sock.send(packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
  });
}

const times = [];
let lost = 0;
let answers = [];
let rcode = '';
for (let i = 0; i < warm + count; i++) {
  const r = await query((i % 65535) + 1);
  if (!r) { if (i >= warm) lost++; continue; }
  rcode = r.res.rcode;
  answers = (r.res.answers ?? []).filter((a) => a.type === 'A').map((a) => a.data);
  if (i >= warm) times.push(r.ms);
}
sock.close();
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
const mid = times.length >> 1;
process.stdout.write(`${JSON.stringify({
  n: times.length, lost, rcode, answers,
  medianMs: times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2,
  p99Ms: at(0.99), meanMs: times.reduce((a, b) => a + b, 0) / times.length, maxMs: times[times.length - 1],
})}\n`);
