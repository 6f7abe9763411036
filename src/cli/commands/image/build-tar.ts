import { closeSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * A fast tar writer for build contexts. The stream is produced synchronously in batches of about
 * 1 MiB when the consumer asks for more (Readable's _read), so a context of many small files
 * costs one open/read/close per file and no event-loop round trip per entry; backpressure comes
 * from the consumer as for any Readable. Headers are POSIX ustar, with a PAX extended header when a
 * name, link target or size does not fit (as Go's archive/tar writes them).
 */

/** One entry: a file system object to archive, or bytes made up by the client. */
export type TarSource =
  | { kind: 'fs'; abs: string; name: string; st: Stats; replace?: Buffer }
  | { kind: 'data'; name: string; data: Buffer; mode: number; mtime: Date }
  | { kind: 'dir'; name: string; mode: number; mtime: Date };

export interface TarHeader {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' directory, '6' fifo. */
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  mode: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const BATCH = 1 << 20;
const ZERO = Buffer.alloc(1024);

const octal = (n: number, width: number): string => n.toString(8).padStart(width - 1, '0');
const fitsOctal = (n: number, width: number): boolean => n >= 0 && n < 8 ** (width - 1);

/** ustar splits a long name at a `/` into prefix (≤155 bytes) and name (≤100 bytes). */
function splitUstar(name: string): [string, string] | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return ['', name];
  if (bytes > 256) return undefined;
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return [prefix, rest];
  }
  return undefined;
}

/** A PAX record: "<len> key=value\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function rawHeader(h: TarHeader, name: string, prefix: string, linkname: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write(`${octal(h.mode & 0o7777, 8)}\0`, 100, 'latin1');
  b.write(`${octal(0, 8)}\0`, 108, 'latin1');
  b.write(`${octal(0, 8)}\0`, 116, 'latin1');
  b.write(`${octal(size, 12)}\0`, 124, 'latin1');
  b.write(`${octal(Math.max(0, Math.floor(h.mtime)), 12)}\0`, 136, 'latin1');
  b.write(h.type, 156, 'latin1');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 'latin1');
  if (h.type === '3' || h.type === '4') {
    b.write(`${octal(h.devmajor ?? 0, 8)}\0`, 329, 'latin1');
    b.write(`${octal(h.devminor ?? 0, 8)}\0`, 337, 'latin1');
  }
  b.write(prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(`${octal(sum, 7)}\0 `, 148, 'latin1');
  return b;
}

/** The header block(s) of an entry: a PAX header first when ustar cannot hold it. Owner 0:0, no names. */
export function encodeHeader(h: TarHeader): Buffer {
  const split = splitUstar(h.name);
  const link = h.linkname ?? '';
  const pax: string[] = [];
  if (!split) pax.push(paxRecord('path', h.name));
  if (Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', link));
  if (!fitsOctal(h.size, 12)) pax.push(paxRecord('size', String(h.size)));
  const [prefix, name] = split ?? ['', asciiTail(h.name, 100)];
  const main = rawHeader(h, name, prefix, Buffer.byteLength(link) > 100 ? asciiTail(link, 100) : link, fitsOctal(h.size, 12) ? h.size : 0);
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''));
  const paxHeader = rawHeader({ name: '', type: '0', mode: 0o644, size: body.length, mtime: h.mtime }, asciiTail(`PaxHeaders.0/${h.name}`, 100), '', '', body.length);
  paxHeader.write('x', 156, 'latin1');
  // The type byte changed: the checksum must be computed again.
  paxHeader.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += paxHeader[i]!;
  paxHeader.write(`${octal(sum, 7)}\0 `, 148, 'latin1');
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}

/** A name cut to fit a field (only used where a PAX record carries the full one). */
function asciiTail(s: string, max: number): string {
  let out = s;
  while (Buffer.byteLength(out) > max) out = out.slice(1);
  return out;
}

const padding = (size: number): Buffer => ZERO.subarray(0, (512 - (size % 512)) % 512);

/** Linux's dev_t split (glibc's gnu_dev_major/minor). */
function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  return { major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)) };
}

/**
 * Streams `sources` as a tar. Regular files are read with synchronous calls when the consumer
 * wants data; a file that shrank meanwhile is padded with zeros to the size its header announced,
 * one that grew is cut (as tar does); one that vanished is left out. Hard links among `fs` entries
 * (same device and inode) are archived once, then as links.
 */
export class ContextTar extends Readable {
  readonly #sources: readonly TarSource[];
  #i = 0;
  #fd: number | undefined;
  #left = 0;
  #pad = 0;
  #done = false;
  readonly #links = new Map<string, string>();

  constructor(sources: readonly TarSource[]) {
    super({ highWaterMark: BATCH });
    this.#sources = sources;
  }

  override _read(): void {
    const out: Buffer[] = [];
    let size = 0;
    const add = (b: Buffer): void => { if (b.length) { out.push(b); size += b.length; } };
    try {
      while (size < BATCH && !this.#done) {
        if (this.#fd !== undefined) {
          const want = Math.min(this.#left, BATCH - size + 65536);
          const buf = Buffer.allocUnsafe(want);
          let got = 0;
          while (got < want) {
            const n = readSync(this.#fd, buf, got, want - got, null);
            if (n === 0) break;
            got += n;
          }
          if (got < want) buf.fill(0, got); // shrank: zeros up to the announced size
          add(buf);
          this.#left -= want;
          if (this.#left === 0) { this.#closeFile(); add(padding(this.#pad)); }
          continue;
        }
        const s = this.#sources[this.#i++];
        if (!s) { add(ZERO); this.#done = true; break; }
        this.#entry(s, add);
      }
    } catch (err) {
      this.#closeFile();
      this.destroy(err as Error);
      return;
    }
    if (out.length) this.push(out.length === 1 ? out[0] : Buffer.concat(out, size));
    if (this.#done) this.push(null);
  }

  #entry(s: TarSource, add: (b: Buffer) => void): void {
    if (s.kind === 'data') {
      add(encodeHeader({ name: s.name, type: '0', mode: s.mode, size: s.data.length, mtime: s.mtime.getTime() / 1000 }));
      add(s.data);
      add(padding(s.data.length));
      return;
    }
    if (s.kind === 'dir') {
      add(encodeHeader({ name: `${s.name}/`, type: '5', mode: s.mode, size: 0, mtime: s.mtime.getTime() / 1000 }));
      return;
    }
    const { st, name, abs } = s;
    const base = { name, mode: st.mode, mtime: Math.floor(st.mtimeMs / 1000), size: 0 };
    if (st.isDirectory()) add(encodeHeader({ ...base, name: `${name}/`, type: '5' }));
    else if (st.isSymbolicLink()) {
      let target: string;
      try { target = readlinkSync(abs); } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; throw err; }
      add(encodeHeader({ ...base, type: '2', linkname: target }));
    } else if (st.isFile()) {
      if (s.replace) {
        add(encodeHeader({ ...base, type: '0', size: s.replace.length }));
        add(s.replace);
        add(padding(s.replace.length));
        return;
      }
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.#links.get(key) : undefined;
      if (first !== undefined) { add(encodeHeader({ ...base, type: '1', linkname: first })); return; }
      let fd: number;
      try { fd = openSync(abs, 'r'); } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; throw err; }
      if (st.nlink > 1) this.#links.set(key, name);
      add(encodeHeader({ ...base, type: '0', size: st.size }));
      if (st.size === 0) { closeSync(fd); return; }
      this.#fd = fd;
      this.#left = st.size;
      this.#pad = st.size;
    } else if (st.isFIFO()) add(encodeHeader({ ...base, type: '6' }));
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      add(encodeHeader({ ...base, type: st.isCharacterDevice() ? '3' : '4', devmajor: major, devminor: minor }));
    }
  }

  #closeFile(): void {
    if (this.#fd !== undefined) { try { closeSync(this.#fd); } catch { /* already gone */ } }
    this.#fd = undefined;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#closeFile();
    cb(err);
  }
}
