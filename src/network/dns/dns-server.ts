import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { EngineError } from '../../lib/errors.ts';
import type { DnsRecordSource } from './dns-records.ts';
import type { UpstreamResolver } from './host-resolvers.ts';
import { DnsForwarder, type DnsTransport } from './dns-forwarder.ts';
import { emptyReply, isResponse, localAnswerFlags, Rcode, udpLimitOf } from './dns-message.ts';
import { ptrAddress } from './ptr-name.ts';

export interface DnsServerDeps {
  /** The engine's name table (a shared DnsRecords), read per query. */
  records: DnsRecordSource;
  /**
   * The network a client address belongs to, or undefined. Clients on no known network are
   * answered REFUSED: the gateway address is routable from outside, and we are no open resolver.
   */
  networkOf(clientAddress: string): string | undefined;
  /**
   * Current upstream resolvers (e.g. readHostResolvers of the host's resolv.conf, re-read on
   * change), for the asking client's network key (a container's own --dns servers, say).
   */
  upstreams(networkId?: string): UpstreamResolver[];
  /** Called for unexpected socket errors; the server keeps serving. */
  onError?(err: unknown, context: string): void;
}

export interface DnsServerOptions {
  /** Address to bind (a network's gateway; 127.0.0.1 in tests). */
  address: string;
  /** Port for both UDP and TCP; 0 picks a free port usable for both. */
  port: number;
  /** Per-upstream, per-transport timeout. Default 2000 ms. */
  upstreamTimeoutMs?: number;
  /** Forwards in flight at once. Default 1024. */
  maxConcurrentForwards?: number;
  /** Idle TCP connections are closed after this long. Default 10000 ms. */
  tcpIdleMs?: number;
  /** TCP connections accepted at once. Default 256. */
  maxTcpConnections?: number;
  /** TTL of local answers. Default 600 s, as Docker's embedded DNS. */
  ttl?: number;
}

/** Queries a single TCP connection may have in flight before it is dropped (abuse guard). */
const MAX_TCP_PIPELINE = 64;

/**
 * berthd's embedded DNS server for one bind address (one per user-defined network's gateway).
 * States: constructed → listening (`listen()`) → closed (`close()`); a closed server cannot be
 * reopened. Names registered in `records` for the client's network are answered locally (A, AAAA,
 * PTR; other types for a known name get an empty NOERROR); everything else is forwarded upstream
 * (see DnsForwarder), SERVFAIL when every upstream fails. Malformed queries get FORMERR when they
 * carry a header, else are dropped; nothing a client sends can throw out of the server.
 */
export class DnsServer {
  readonly #deps: DnsServerDeps;
  readonly #opts: Required<DnsServerOptions>;
  readonly #forwarder: DnsForwarder;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  #port = 0;

  constructor(deps: DnsServerDeps, options: DnsServerOptions) {
    this.#deps = deps;
    this.#opts = {
      upstreamTimeoutMs: 2000,
      maxConcurrentForwards: 1024,
      tcpIdleMs: 10_000,
      maxTcpConnections: 256,
      ttl: 600,
      ...options,
    };
    this.#forwarder = new DnsForwarder(
      {
        upstreams: (scope) => deps.upstreams(scope),
        isSelf: (u) => u.address === this.#opts.address && u.port === this.#port,
      },
      { timeoutMs: this.#opts.upstreamTimeoutMs, maxConcurrent: this.#opts.maxConcurrentForwards },
    );
  }

  /**
   * Binds UDP and TCP on the configured address and port; resolves with the bound port.
   * Throws EngineError 'Conflict' when the port is taken, 'Unavailable' for other bind failures.
   */
  async listen(): Promise<{ address: string; port: number }> {
    const { address, port } = this.#opts;
    // With port 0, UDP picks the port and TCP must get the same one; retry if TCP finds it taken.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(port, address, () => {
            udp.off('error', reject);
            resolve();
          });
        });
        const bound = udp.address().port;
        const tcp = net.createServer((sock) => this.#onConnection(sock));
        tcp.maxConnections = this.#opts.maxTcpConnections;
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ port: bound, host: address }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        tcp.on('error', (err) => this.#deps.onError?.(err, 'dns tcp server'));
        udp.on('error', (err) => this.#deps.onError?.(err, 'dns udp socket'));
        udp.on('message', (msg, rinfo) => this.#onDatagram(udp, msg, rinfo));
        this.#udp = udp;
        this.#tcp = tcp;
        this.#port = bound;
        return { address, port: bound };
      } catch (err) {
        udp.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (port === 0 && code === 'EADDRINUSE' && attempt < 10) continue;
        const where = `${address}:${port}`;
        throw code === 'EADDRINUSE'
          ? new EngineError('Conflict', `dns server: listen ${where}: address already in use`, { cause: err })
          : new EngineError('Unavailable', `dns server: listen ${where}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** The bound port (0 before listen). */
  get port(): number {
    return this.#port;
  }

  /** Stops listening, drops TCP connections and aborts forwards in flight. Idempotent. */
  async close(): Promise<void> {
    this.#forwarder.close();
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  /**
   * The reply to one query from `clientAddress`, or undefined to send nothing (not even a
   * header could be read, or the message is itself a response). Never throws.
   */
  async answer(query: Buffer, clientAddress: string, transport: DnsTransport): Promise<Buffer | undefined> {
    if (query.length < 12 || isResponse(query)) return undefined;
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(query);
    } catch {
      return emptyReply(query, Rcode.FORMERR);
    }
    const questions = decoded.questions ?? [];
    const q = questions[0];
    if (questions.length !== 1 || !q) return emptyReply(query, Rcode.FORMERR);
    if (((query[2]! >> 3) & 0x0f) !== 0) return emptyReply(query, Rcode.NOTIMP, questions);
    const networkId = this.#deps.networkOf(normalizeClient(clientAddress));
    if (networkId === undefined) return emptyReply(query, Rcode.REFUSED, questions);

    const local = this.#answerLocally(query, q, networkId);
    if (local) return local;

    const result = await this.#forwarder.forward(query, transport, networkId);
    if (result.kind === 'busy') return emptyReply(query, Rcode.REFUSED, questions);
    if (result.kind === 'failed') return emptyReply(query, Rcode.SERVFAIL, questions);
    // An answer fetched over TCP may not fit the client's UDP limit: send TC=1 so it retries over TCP.
    if (transport === 'udp' && result.message.length > udpLimitOf(decoded)) {
      return emptyReply(result.message, result.message[3]! & 0x0f, questions, true);
    }
    return result.message;
  }

  /** A local answer, or undefined when the network does not know the name (forward it). */
  #answerLocally(query: Buffer, q: dnsPacket.Question, networkId: string): Buffer | undefined {
    if (q.class !== undefined && q.class !== 'IN' && q.class !== 'ANY') return undefined;
    const { ttl } = this.#opts;
    const base = { id: query.readUInt16BE(0), type: 'response' as const, flags: localAnswerFlags(query), questions: [q] };
    if (q.type === 'PTR') {
      const addr = ptrAddress(q.name);
      const name = addr === undefined ? undefined : this.#deps.records.reverse(networkId, addr);
      if (name === undefined) return undefined;
      return dnsPacket.encode({ ...base, answers: [{ type: 'PTR', name: q.name, ttl, data: name }] });
    }
    const found = this.#deps.records.lookup(networkId, q.name);
    if (!found) return undefined;
    const answers: dnsPacket.Answer[] = [];
    if (q.type === 'A') for (const a of found.ipv4) answers.push({ type: 'A', name: q.name, ttl, data: a });
    if (q.type === 'AAAA') for (const a of found.ipv6) answers.push({ type: 'AAAA', name: q.name, ttl, data: a });
    // Any other type for a name we own: NOERROR with no records (NXDOMAIN would deny every type).
    return dnsPacket.encode({ ...base, answers });
  }

  #onDatagram(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    void this.answer(msg, rinfo.address, 'udp').then((reply) => {
      if (!reply || this.#udp !== udp) return;
      udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.#deps.onError?.(err, 'dns udp send');
      });
    });
  }

  #onConnection(sock: net.Socket): void {
    this.#conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(this.#opts.tcpIdleMs, () => sock.destroy());
    sock.on('error', () => {}); // resets by clients are routine
    sock.on('close', () => this.#conns.delete(sock));
    const client = sock.remoteAddress ?? '';
    let buffered: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    sock.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Take every complete frame; a partial one waits for more data.
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (len === 0) return void sock.destroy();
        if (buffered.length < 2 + len) break;
        const msg = Buffer.from(buffered.subarray(2, 2 + len));
        buffered = buffered.subarray(2 + len);
        if (++inFlight > MAX_TCP_PIPELINE) return void sock.destroy();
        void this.answer(msg, client, 'tcp').then((reply) => {
          inFlight--;
          if (!reply) return void sock.destroy(); // nothing sensible to say on a stream
          if (sock.destroyed || reply.length > 0xffff) return;
          const frame = Buffer.alloc(2 + reply.length);
          frame.writeUInt16BE(reply.length, 0);
          reply.copy(frame, 2);
          sock.write(frame);
        });
      }
    });
  }
}

/** TCP sockets on a dual-stack listener report IPv4 clients as ::ffff:a.b.c.d. */
function normalizeClient(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
