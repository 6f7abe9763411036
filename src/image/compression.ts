import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { EngineError, invalid } from '../lib/errors.ts';

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
  const { head, ended } = await peek(input, 6);
  const kind = detectCompression(head);
  if (kind !== 'none' && kind !== 'gzip') {
    input.destroy();
    throw new EngineError('NotImplemented', `${kind}-compressed layers are not supported yet`);
  }
  // The peeked bytes are back at the front of `input`: plain input is handed on as it is. An
  // input that ended while peeked cannot take them back; they make a stream of their own.
  const src = ended ? Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) : input;
  if (kind === 'none') return src;
  // 1 MiB output chunks: zlib inflates one chunk per thread-pool job, and the 16 KiB default made
  // that round trip the main cost of unpacking a pulled layer (62 MiB of text: 0.6 s -> 0.25 s).
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipeline destroys gunzip with the source's error, so the consumer sees it.
  pipeline(src, gunzip, () => undefined);
  return gunzip;
}

/**
 * The first `n` bytes of `input` (fewer at its end), put back with unshift so that the stream
 * reads as before (unless it ended meanwhile: `ended`). An error of `input` while peeking rejects.
 */
function peek(input: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (err?: Error, ended = false) => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
      if (err) return reject(err);
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (!ended && head.length > 0) input.unshift(head);
      resolve({ head, ended });
    };
    const onReadable = () => {
      let c: Buffer | string | null;
      while (got < n && (c = input.read() as Buffer | string | null) !== null) {
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        chunks.push(b);
        got += b.length;
      }
      if (got >= n) finish();
    };
    const onEnd = () => finish(undefined, true);
    const onError = (err: Error) => finish(err);
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

/**
 * An error out of a pipeline that parses uploaded or downloaded bytes (gunzip, tar-stream): what
 * the parsers raise (bad or truncated gzip, a broken tar header, an early end) is the input's
 * fault, InvalidParameter "<what>: <message>"; engine errors, cancellations and system errors
 * (a full disk) keep their own kind.
 */
export function asInputError(err: unknown, what: string): unknown {
  if (!(err instanceof Error) || err instanceof EngineError || err.name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code;
  if ('syscall' in err || (code !== undefined && !code.startsWith('Z_') && code !== 'ERR_STREAM_PREMATURE_CLOSE')) return err;
  return invalid(`${what}: ${err.message}`, err);
}
