import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { EngineError } from '../lib/errors.ts';

/** Compression of a layer or archive stream, told by its first bytes. */
export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** The compression named by a stream's magic bytes. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/**
 * The uncompressed bytes of `input`, which may be plain or gzip (told by magic bytes, never by
 * name or media type). zstd, xz and bzip2 are NotImplemented. Errors of `input` reach the
 * returned stream. The caller consumes or destroys the result.
 */
export async function decompress(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  const kind = detectCompression(head);
  if (kind !== 'none' && kind !== 'gzip') {
    input.destroy();
    throw new EngineError('NotImplemented', `${kind}-compressed layers are not supported yet`);
  }
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value);
    }
  }
  const plain = Readable.from(replay(), { objectMode: false });
  if (kind === 'none') return plain;
  const gunzip = createGunzip();
  // pipeline destroys gunzip with the source's error, so the consumer sees it.
  pipeline(plain, gunzip, () => undefined);
  return gunzip;
}
