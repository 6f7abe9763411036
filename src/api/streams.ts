export { DetachScanner, parseDetachKeys } from '../lib/detach-keys.ts';

/** Stream IDs of Docker's multiplexed framing (API W10). */
export const STDIN = 0, STDOUT = 1, STDERR = 2;

/** One frame: [stream, 0, 0, 0, size (uint32 BE)] then the bytes. */
export function frame(stream: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

