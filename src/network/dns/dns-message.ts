import dnsPacket from 'dns-packet';

/** DNS response codes used by the server (RFC 1035 §4.1.1, RFC 2136). */
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const HEADER = 12;
const QR = 0x80; // byte 2
const TC = 0x02; // byte 2
const RD = 0x01; // byte 2
const RA = 0x80; // byte 3

/** Plain UDP DNS limit without EDNS (RFC 1035 §4.2.1). */
export const UDP_DEFAULT_LIMIT = 512;

/** True when the buffer is at least a DNS header and its QR bit says "response". */
export function isResponse(msg: Buffer): boolean {
  return msg.length >= HEADER && (msg[2]! & QR) !== 0;
}

/** The TC (truncated) bit of a message. */
export function isTruncated(msg: Buffer): boolean {
  return msg.length >= HEADER && (msg[2]! & TC) !== 0;
}

/** The response code (low 4 bits, no EDNS extension). */
export function rcodeOf(msg: Buffer): number {
  return msg.length >= HEADER ? msg[3]! & 0x0f : -1;
}

/** The 16-bit message ID. */
export function idOf(msg: Buffer): number {
  return msg.readUInt16BE(0);
}

/** A copy of `msg` carrying `id`: lets the forwarder use its own IDs upstream and keep the client's. */
export function withId(msg: Buffer, id: number): Buffer {
  const copy = Buffer.from(msg);
  copy.writeUInt16BE(id, 0);
  return copy;
}

/**
 * A reply to `query` with no records: its ID, opcode and RD bit, QR and RA set, the given rcode,
 * and, when `questions` is given, the question section echoed. Used for FORMERR, SERVFAIL,
 * REFUSED and NOTIMP, and as the TC=1 stub sent to UDP clients whose answer does not fit.
 * The query must be at least 12 bytes (callers drop anything shorter).
 */
export function emptyReply(query: Buffer, rcode: number, questions?: dnsPacket.Question[], truncated = false): Buffer {
  const id = idOf(query);
  const opcodeAndRd = query[2]! & 0x79; // opcode (bits 3-6) and RD
  if (questions && questions.length > 0) {
    try {
      const out = dnsPacket.encode({ id, type: 'response', flags: 0, questions });
      out[2] = QR | opcodeAndRd | (truncated ? TC : 0);
      out[3] = RA | (rcode & 0x0f);
      return out;
    } catch {
      // A question we cannot re-encode: fall back to a bare header.
    }
  }
  const out = Buffer.alloc(HEADER);
  out.writeUInt16BE(id, 0);
  out[2] = QR | opcodeAndRd | (truncated ? TC : 0);
  out[3] = RA | (rcode & 0x0f);
  return out;
}

/** The largest UDP answer the client accepts: its EDNS payload size (at least 512, at most 4096), else 512. */
export function udpLimitOf(query: dnsPacket.DecodedPacket): number {
  for (const rr of query.additionals ?? []) {
    if (rr.type === 'OPT') return Math.min(4096, Math.max(UDP_DEFAULT_LIMIT, rr.udpPayloadSize));
  }
  return UDP_DEFAULT_LIMIT;
}

/** Flags for an answer the server makes itself: authoritative, recursion available, client's RD kept. */
export function localAnswerFlags(query: Buffer): number {
  return dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | ((query[2]! & RD) !== 0 ? dnsPacket.RECURSION_DESIRED : 0);
}
