import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { UpstreamResolver } from './host-resolvers.ts';
import { idOf, isResponse, isTruncated, rcodeOf, Rcode, withId } from './dns-message.ts';

/** Transport a query arrived on (and so the first transport used upstream). */
export type DnsTransport = 'udp' | 'tcp';

export interface DnsForwarderDeps {
  /** Current upstream resolvers, asked per query so changes to the host's resolv.conf apply at once. */
  /** Upstreams for a query; `scope` is the asking client's network key (DnsServerDeps.networkOf). */
  upstreams(scope?: string): UpstreamResolver[];
  /** Upstreams to skip (the server's own address, so a resolv.conf pointing at us cannot loop). */
  isSelf?(upstream: UpstreamResolver): boolean;
}

export interface DnsForwarderOptions {
  /** How long one upstream gets, per transport attempt, before the next one is tried. */
  timeoutMs: number;
  /** Forwards in flight at once; beyond this, queries are answered REFUSED at once (as libnetwork does). */
  maxConcurrent: number;
}

/** Outcome of one forward: the upstream's answer with the client's ID, or undefined (caller answers). */
export type ForwardResult = { kind: 'answer'; message: Buffer } | { kind: 'failed' } | { kind: 'busy' };

/**
 * Relays queries the server cannot answer to the host's resolvers. For each upstream in order:
 * over UDP when the client used UDP, retried over TCP when the answer has the TC bit; over TCP
 * when the client used TCP. An upstream that times out, errors, or answers SERVFAIL/REFUSED makes
 * the next one be tried; the last such SERVFAIL/REFUSED answer is relayed if nobody does better.
 * Each attempt uses a fresh socket and a random ID, and only a reply from that upstream carrying
 * that ID is accepted (spoofing resistance); the client's ID is put back before relaying.
 * Never throws; `close()` aborts forwards in flight (they resolve as failed).
 */
export class DnsForwarder {
  readonly #deps: DnsForwarderDeps;
  readonly #opts: DnsForwarderOptions;
  readonly #closing = new AbortController();
  #active = 0;

  constructor(deps: DnsForwarderDeps, options: DnsForwarderOptions) {
    this.#deps = deps;
    this.#opts = options;
  }

  /** Number of forwards in flight (for tests and metrics). */
  get active(): number {
    return this.#active;
  }

  /** Forwards `query` (a well-formed query of at least 12 bytes) as described on the class. */
  async forward(query: Buffer, transport: DnsTransport, scope?: string): Promise<ForwardResult> {
    if (this.#active >= this.#opts.maxConcurrent) return { kind: 'busy' };
    this.#active++;
    try {
      const clientId = idOf(query);
      let fallback: Buffer | undefined;
      for (const up of this.#deps.upstreams(scope)) {
        if (this.#closing.signal.aborted) break;
        if (this.#deps.isSelf?.(up)) continue;
        let reply = await this.#attempt(up, query, transport);
        if (reply && transport === 'udp' && isTruncated(reply)) {
          // The full answer did not fit in UDP: ask the same upstream over TCP, keeping the
          // truncated one in case TCP fails (the client can then retry over TCP itself).
          reply = (await this.#attempt(up, query, 'tcp')) ?? reply;
        }
        if (!reply) continue;
        const rcode = rcodeOf(reply);
        if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
          fallback = reply;
          continue;
        }
        return { kind: 'answer', message: withId(reply, clientId) };
      }
      return fallback ? { kind: 'answer', message: withId(fallback, clientId) } : { kind: 'failed' };
    } finally {
      this.#active--;
    }
  }

  /** Aborts every forward in flight; later forwards fail at once. */
  close(): void {
    this.#closing.abort();
  }

  async #attempt(up: UpstreamResolver, query: Buffer, transport: DnsTransport): Promise<Buffer | undefined> {
    const id = randomInt(0, 0x10000);
    const msg = withId(query, id);
    const exchange = transport === 'udp' ? udpExchange : tcpExchange;
    try {
      const reply = await exchange(up, msg, this.#opts.timeoutMs, this.#closing.signal);
      return reply.length >= 12 && isResponse(reply) && idOf(reply) === id ? reply : undefined;
    } catch {
      // Timeouts, refused connections and resets all mean "try the next upstream".
      return undefined;
    }
  }
}

/** One query over a connected UDP socket; resolves with the first reply carrying the query's ID. */
function udpExchange(up: UpstreamResolver, msg: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(up.address.split('%')[0] ?? '') ? 'udp6' : 'udp4');
    const id = idOf(msg);
    let settled = false;
    const done = (err: Error | undefined, reply?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('message');
      sock.on('error', () => {}); // close may still report; nobody listens any more
      try {
        sock.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => done(new Error('dns forward: closed'));
    const timer = setTimeout(() => done(new Error(`dns forward: ${up.address}:${up.port} timed out`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => done(err));
    // connect() makes the kernel drop datagrams from any other source address or port.
    sock.on('message', (reply) => {
      if (reply.length >= 12 && idOf(reply) === id) done(undefined, reply);
    });
    sock.connect(up.port, up.address, () => sock.send(msg));
  });
}

/** One query over a fresh TCP connection with the 2-byte length prefix (RFC 1035 §4.2.2). */
function tcpExchange(up: UpstreamResolver, msg: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: up.address, port: up.port });
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | undefined, reply?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('data');
      sock.on('error', () => {});
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => done(new Error('dns forward: closed'));
    const timer = setTimeout(() => done(new Error(`dns forward: ${up.address}:${up.port} timed out`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('dns forward: connection closed before the answer')));
    sock.on('connect', () => {
      const frame = Buffer.alloc(2 + msg.length);
      frame.writeUInt16BE(msg.length, 0);
      msg.copy(frame, 2);
      sock.write(frame);
    });
    sock.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const len = buffered.readUInt16BE(0);
      if (buffered.length >= 2 + len) done(undefined, buffered.subarray(2, 2 + len));
    });
  });
}
