import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** One entry of a tar built in memory for tests. */
export interface TestEntry {
  name: string;
  type?: tar.Header['type'];
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
}

/** Builds a tar archive in memory (test helper; names are written exactly as given). */
export async function makeTar(entries: readonly TestEntry[], opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    const type = e.type ?? (e.body !== undefined ? 'file' : 'directory');
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const header: Partial<tar.Header> & { name: string } = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_000_000_000_000),
      size: body?.length ?? 0,
    };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (e.devmajor !== undefined) header.devmajor = e.devmajor;
    if (e.devminor !== undefined) header.devminor = e.devminor;
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  const out = Buffer.concat(chunks);
  return opts.gzip ? gzipSync(out) : out;
}
