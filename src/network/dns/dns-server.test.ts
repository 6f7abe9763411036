import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsServer } from './dns-server.ts';
import { DnsRecords } from './dns-records.ts';
import type { UpstreamResolver } from './host-resolvers.ts';
import { waitFor } from '../../lib/test-support.ts';

// Every socket here is on 127.0.0.1: the upstreams are fakes of our own, never real resolvers.
const LO = '127.0.0.1';

/** A fake upstream resolver on 127.0.0.1 (UDP + TCP, same port) that records what it was asked. */
class FakeUpstream {
  udp = dgram.createSocket('udp4');
  tcp = net.createServer((s) => this.#conn(s));
  asked: { transport: 'udp' | 'tcp'; name: string }[] = [];
  /** Answer over UDP with TC=1 and no records, forcing a TCP retry. */
  truncateUdp = false;
  /** Never answer at all. */
  silent = false;
  /** Answer only when `release()` is called (queries are still recorded in `asked`). */
  hold = false;
  #held: (() => void)[] = [];
  port = 0;

  async start(): Promise<UpstreamResolver> {
    await new Promise<void>((r) => this.udp.bind(0, LO, () => r()));
    this.port = this.udp.address().port;
    await new Promise<void>((r) => this.tcp.listen(this.port, LO, () => r()));
    this.udp.on('message', (m, ri) => {
      const reply = this.#reply(m, 'udp');
      const send = () => { if (reply) this.udp.send(reply, ri.port, ri.address); };
      if (this.hold) this.#held.push(send); else send();
    });
    return { address: LO, port: this.port };
  }

  /** Sends the answers held back while `hold` was set (UDP only). */
  release(): void {
    this.hold = false;
    for (const send of this.#held.splice(0)) send();
  }

  #reply(m: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    const q = dnsPacket.decode(m);
    const question = q.questions![0]!;
    this.asked.push({ transport, name: question.name });
    if (this.silent) return undefined;
    const base = { id: q.id, type: 'response' as const, questions: [question] };
    if (transport === 'udp' && this.truncateUdp) return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE });
    if (question.name === 'nx.example') return dnsPacket.encode({ ...base, flags: 3 });
    const answers: dnsPacket.Answer[] = [{ type: 'A', name: question.name, ttl: 30, data: '192.0.2.7' }];
    if (transport === 'tcp' && this.truncateUdp) {
      // Big enough not to fit in 512 bytes of UDP.
      for (let i = 1; i <= 40; i++) answers.push({ type: 'A', name: question.name, ttl: 30, data: `192.0.2.${i + 10}` });
    }
    return dnsPacket.encode({ ...base, flags: 0, answers });
  }

  #conn(s: net.Socket): void {
    let buf = Buffer.alloc(0);
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const reply = this.#reply(buf.subarray(2, 2 + len), 'tcp');
        buf = buf.subarray(2 + len);
        if (reply) s.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
      }
    });
    s.on('error', () => {});
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}

function query(name: string, type: dnsPacket.RecordType = 'A', id = 4242): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

/** Sends one datagram and waits for one reply (undefined after timeoutMs: a deadline, never reached when all is well). */
function udpAsk(port: number, msg: Buffer, timeoutMs = 10_000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (b: Buffer | undefined): void => {
      clearTimeout(t);
      s.close();
      resolve(b);
    };
    s.on('message', (b) => finish(b));
    s.send(msg, port, LO);
  });
}

/**
 * Sends `msgs` in order from one socket, then a local query with id `probeId`, and returns every
 * reply up to the probe's. The server handles datagrams in order and answers a local name at once,
 * so a message that got no reply before the probe's will never get one: "no answer" without a wait.
 */
function udpRepliesBefore(port: number, msgs: Buffer[], probeId: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    const t = setTimeout(() => { s.close(); reject(new Error(`no reply to the probe; got ${got.length} before`)); }, 10_000);
    s.on('message', (b) => {
      if (b.length >= 2 && b.readUInt16BE(0) === probeId) { clearTimeout(t); s.close(); resolve(got); } else got.push(b);
    });
    for (const m of [...msgs, query('web', 'A', probeId)]) s.send(m, port, LO);
  });
}

/** Sends frames over TCP (optionally split byte by byte) and collects `want` framed replies. */
function tcpAsk(port: number, msgs: Buffer[], opts: { dribble?: boolean } = {}): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, LO);
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('close', () => reject(new Error(`tcp closed after ${out.length} replies`)));
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) {
        s.end();
        resolve(out);
      }
    });
    const wire = Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])));
    // A pace, not a wait: each byte is likely its own read on the server; the answers are the same however they group.
    const dribble = async () => {
      for (const byte of wire) {
        s.write(Buffer.from([byte]));
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    s.on('connect', () => void (opts.dribble ? dribble() : s.write(wire)));
  });
}

const records = new DnsRecords();
let clientNetwork: string | undefined = 'net1';
let upstreams: UpstreamResolver[] = [];
const up1 = new FakeUpstream();
let server: DnsServer;
let port = 0;

before(async () => {
  upstreams = [await up1.start()];
  records.register('net1', { names: ['web', 'web-alias', '0123456789ab'], ipv4: '10.88.0.2' });
  records.register('net2', { names: ['other'], ipv4: '10.99.0.2' });
  server = new DnsServer(
    { records, networkOf: () => clientNetwork, upstreams: () => upstreams },
    // Generous: the fakes answer at once, but a loaded machine can stall this process for a while.
    // Tests of the timeouts themselves start servers of their own with short ones.
    { address: LO, port: 0, upstreamTimeoutMs: 10_000, tcpIdleMs: 10_000 },
  );
  ({ port } = await server.listen());
});

after(async () => {
  await server.close();
  await up1.stop();
});

// dns-packet sets `rcode` (a name such as 'NXDOMAIN') on decoded packets; its typings omit it.
type Reply = dnsPacket.DecodedPacket & { rcode: string };
const decode = (b: Buffer | undefined): Reply => {
  assert.ok(b, 'no reply before the deadline');
  return dnsPacket.decode(b) as Reply;
};
const aData = (p: dnsPacket.DecodedPacket): string[] => (p.answers ?? []).map((a) => ('data' in a ? String(a.data) : ''));

test('registered name, alias and short id answer A locally', async () => {
  for (const name of ['web', 'WEB-alias.', '0123456789ab']) {
    const p = decode(await udpAsk(port, query(name, 'A', 7)));
    assert.equal(p.id, 7);
    assert.equal(p.rcode, 'NOERROR');
    assert.deepEqual(aData(p), ['10.88.0.2']);
  }
  assert.equal(up1.asked.length, 0);
});

test('AAAA for a v4-only local name is an empty NOERROR, not forwarded', async () => {
  const p = decode(await udpAsk(port, query('web', 'AAAA')));
  assert.equal(p.rcode, 'NOERROR');
  assert.equal(p.answers?.length, 0);
  assert.equal(up1.asked.length, 0);
});

test('PTR for a registered address', async () => {
  const p = decode(await udpAsk(port, query('2.0.88.10.in-addr.arpa', 'PTR')));
  assert.deepEqual(aData(p), ['web']);
});

test('unknown names are forwarded and the answer is relayed with the client ID', async () => {
  up1.asked = [];
  const p = decode(await udpAsk(port, query('example.org', 'A', 31337)));
  assert.equal(p.id, 31337);
  assert.deepEqual(aData(p), ['192.0.2.7']);
  assert.deepEqual(up1.asked, [{ transport: 'udp', name: 'example.org' }]);
  const nx = decode(await udpAsk(port, query('nx.example', 'A', 99)));
  assert.equal(nx.id, 99);
  assert.equal(nx.rcode, 'NXDOMAIN');
});

test('scoping: a client on another network does not see the name; unknown clients are refused', async () => {
  up1.asked = [];
  clientNetwork = 'net2';
  try {
    assert.deepEqual(aData(decode(await udpAsk(port, query('other')))), ['10.99.0.2']);
    // 'web' is net1's: forwarded, and the fake upstream's answer comes back instead.
    assert.deepEqual(aData(decode(await udpAsk(port, query('web')))), ['192.0.2.7']);
    assert.deepEqual(up1.asked, [{ transport: 'udp', name: 'web' }]);
    clientNetwork = undefined;
    assert.equal(decode(await udpAsk(port, query('web'))).rcode, 'REFUSED');
  } finally {
    clientNetwork = 'net1';
  }
});

test('unregister stops resolving at once', async () => {
  records.register('net1', { names: ['temp'], ipv4: '10.88.0.9' });
  assert.deepEqual(aData(decode(await udpAsk(port, query('temp')))), ['10.88.0.9']);
  records.unregister('net1', { ipv4: '10.88.0.9' });
  up1.asked = [];
  assert.deepEqual(aData(decode(await udpAsk(port, query('temp')))), ['192.0.2.7']); // the fake upstream's
  assert.equal(up1.asked.length, 1);
});

test('a truncated upstream UDP answer is retried over TCP; the UDP client gets TC=1 when it does not fit', async () => {
  up1.truncateUdp = true;
  up1.asked = [];
  try {
    const udp = decode(await udpAsk(port, query('big.example', 'A', 5)));
    assert.equal(udp.id, 5);
    assert.equal(udp.flag_tc, true);
    assert.deepEqual(up1.asked.map((a) => a.transport), ['udp', 'tcp']);
    // With a large EDNS buffer the full TCP answer is relayed over UDP.
    const edns = dnsPacket.encode({
      type: 'query', id: 6, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'big.example' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
    const full = decode(await udpAsk(port, edns));
    assert.equal(full.flag_tc, false);
    assert.equal(full.answers?.length, 41);
  } finally {
    up1.truncateUdp = false;
  }
});

test('TCP clients: local and forwarded answers, pipelined, with byte-by-byte partial reads', async () => {
  up1.asked = [];
  const replies = (await tcpAsk(port, [query('web', 'A', 1), query('example.net', 'A', 2)], { dribble: true })).map(decode);
  const byId = new Map(replies.map((r) => [r.id, r]));
  assert.deepEqual(aData(byId.get(1)!), ['10.88.0.2']);
  assert.deepEqual(aData(byId.get(2)!), ['192.0.2.7']);
  assert.deepEqual(up1.asked, [{ transport: 'tcp', name: 'example.net' }]);
});

test('idle TCP connections are closed', async () => {
  const idle = new DnsServer({ records, networkOf: () => 'net1', upstreams: () => [] }, { address: LO, port: 0, tcpIdleMs: 300 });
  const { port: p } = await idle.listen();
  try {
    const s = net.connect(p, LO);
    s.on('error', () => {});
    // 300 ms of idleness closes it; the 10 s deadline only stops a server that never does from hanging the test.
    const closed = await new Promise<boolean>((r) => {
      const t = setTimeout(() => { s.destroy(); r(false); }, 10_000);
      s.on('close', () => { clearTimeout(t); r(true); });
    });
    assert.ok(closed, 'the idle connection was closed');
  } finally {
    await idle.close();
  }
});

test('malformed packets: FORMERR when a header is readable, dropped otherwise, server keeps serving', async () => {
  const garbage = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]), Buffer.from([0x3f, 0x41])]);
  const p = await udpAsk(port, garbage);
  assert.equal(p?.readUInt16BE(0), 0x1234);
  assert.equal(p![3]! & 0x0f, 1); // FORMERR
  // Dropped: no reply comes before that of a query sent after them.
  const response = dnsPacket.encode({ type: 'response', id: 3, flags: 0, questions: [{ type: 'A', name: 'web' }] });
  assert.deepEqual(await udpRepliesBefore(port, [Buffer.from([1, 2, 3]), response], 0x5151), []);
  const noQuestion = dnsPacket.encode({ type: 'query', id: 3, flags: 0, questions: [] });
  assert.equal(decode(await udpAsk(port, noQuestion)).rcode, 'FORMERR');
  // A zero-length TCP frame closes that connection only.
  await assert.rejects(tcpAsk(port, [Buffer.alloc(0)]), /tcp closed after 0 replies/);
  assert.deepEqual(aData(decode(await udpAsk(port, query('web')))), ['10.88.0.2']);
});

test('all upstreams dead or silent → SERVFAIL once their timeouts pass', async () => {
  const silent = new FakeUpstream();
  silent.silent = true;
  const dead = new FakeUpstream();
  const deadAddr = await dead.start();
  await dead.stop(); // nothing listens there any more
  let mine = [await silent.start(), deadAddr];
  // 300 ms per upstream: the answer comes well before udpAsk's deadline, or never if they were waited on forever.
  const s = new DnsServer({ records, networkOf: () => 'net1', upstreams: () => mine }, { address: LO, port: 0, upstreamTimeoutMs: 300 });
  const { port: p } = await s.listen();
  try {
    const r = decode(await udpAsk(p, query('example.com', 'A', 77)));
    assert.equal(r.id, 77);
    assert.equal(r.rcode, 'SERVFAIL');
    assert.deepEqual(silent.asked.map((a) => a.name), ['example.com']);
    mine = [];
    assert.equal(decode(await udpAsk(p, query('example.com'))).rcode, 'SERVFAIL');
  } finally {
    await s.close();
    await silent.stop();
  }
});

test('concurrent forwards are capped: beyond the cap, REFUSED at once', async () => {
  const holding = new FakeUpstream();
  holding.hold = true;
  const addr = await holding.start();
  const capped = new DnsServer(
    { records, networkOf: () => 'net1', upstreams: () => [addr] },
    { address: LO, port: 0, upstreamTimeoutMs: 10_000, maxConcurrentForwards: 1 },
  );
  const { port: p } = await capped.listen();
  try {
    const first = udpAsk(p, query('slow.example', 'A', 1));
    await waitFor('the first query to reach the upstream', () => holding.asked.length === 1);
    // Answered while the first forward is still held: the cap, not an upstream, answered it.
    const second = decode(await udpAsk(p, query('fast.example', 'A', 2)));
    assert.equal(second.rcode, 'REFUSED');
    // Local names are never subject to the cap.
    assert.deepEqual(aData(decode(await udpAsk(p, query('web')))), ['10.88.0.2']);
    assert.deepEqual(holding.asked.map((a) => a.name), ['slow.example']);
    holding.release();
    assert.deepEqual(aData(decode(await first)), ['192.0.2.7']);
  } finally {
    await capped.close();
    await holding.stop();
  }
});

test('information: median latency of 200 local lookups', async (t) => {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    await udpAsk(port, query('web', 'A', i));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`median local A lookup over UDP: ${times[100]!.toFixed(3)} ms (p95 ${times[190]!.toFixed(3)} ms)`);
});

test('close releases the port', async () => {
  const s = new DnsServer({ records, networkOf: () => 'net1', upstreams: () => [] }, { address: LO, port: 0 });
  const { port: p } = await s.listen();
  await s.close();
  const again = new DnsServer({ records, networkOf: () => 'net1', upstreams: () => [] }, { address: LO, port: p });
  await again.listen();
  await assert.rejects(
    new DnsServer({ records, networkOf: () => 'net1', upstreams: () => [] }, { address: LO, port: p }).listen(),
    (e: Error & { kind?: string }) => e.kind === 'Conflict',
  );
  await again.close();
});
