/**
 * The registry benchmark's test image: a deterministic docker-archive of `bbreg/image:1`, five
 * layers, about 186 MiB of layer tars that gzip (level 6) to about 112 MiB:
 *   1. busybox's rootfs (the layer of build/busybox.tar) plus /etc/bench-image: ~2 MiB
 *   2. "libraries": 32 files of random bytes, 64 MiB (incompressible)
 *   3. "sources": 3000 text files (code-like lines of words), ~62 MiB (compress ~2.6x)
 *   4. "binaries": 24 files of 4 KiB pages that mix random runs with low-entropy records, 40 MiB (~2x)
 *   5. "data": 400 small JSON-ish files and one 10 MiB log file, ~18 MiB
 * Every byte comes from fixed seeds (AES-128-CTR keystreams and a mulberry32 PRNG) and the tar
 * headers have fixed times and owners, so the image ID is the same on every run and machine.
 *
 * `registryImage(cacheDir)` makes it once and keeps it in cacheDir (`bbreg-v1.tar` and
 * `bbreg-v1.json`, the description below); later calls check the archive's size and return the
 * cached description. Standalone: `node --import tsx bench/lib/registry-image.ts [CACHE_DIR]`.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { BUSYBOX_TAR, REPO } from './engines.ts';
import { prng } from './prng.ts';

export const REGISTRY_IMAGE_REF = 'bbreg/image:1';
const VERSION = 'v1';
const MiB = 1 << 20;
const CREATED = '2024-02-01T00:00:00Z';
const MTIME = new Date(CREATED);

export interface RegistryImage {
  /** The docker-archive. */
  path: string;
  /** Bytes of the archive file. */
  archiveBytes: number;
  /** The image ID (digest of the config). */
  id: string;
  ref: string;
  layers: { diffId: string; bytes: number; gzipBytes: number; files: number }[];
  /** Sum of the layer tars, and of their gzip -6 sizes. */
  layerBytes: number;
  gzipBytes: number;
}

/** A deterministic keystream: AES-128-CTR over zeros, keyed by `seed`. */
function keystream(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

interface Entry { name: string; type?: 'file' | 'directory' | 'symlink'; mode?: number; body?: Buffer; linkname?: string }

const WORDS = (() => {
  const r = prng(77);
  const letters = 'etaoinshrdlucmfwypvbgkjqxz';
  const out: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const len = 2 + Math.floor(r() * r() * 12);
    let w = '';
    for (let j = 0; j < len; j++) w += letters[Math.floor(r() * r() * letters.length)];
    out.push(w);
  }
  return out;
})();
const PUNCT = ['(', ')', ';', ' = ', ', ', '.', ' {', '}', ' -> ', ' + ', '[i]', ': '];

/** A code-like text file of about `size` bytes. */
function textFile(r: () => number, size: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  let depth = 0;
  while (n < size) {
    const words = 2 + Math.floor(r() * 10);
    let line = '  '.repeat(depth);
    for (let i = 0; i < words; i++) {
      line += WORDS[Math.floor(r() * r() * WORDS.length)]!;
      if (r() < 0.35) line += PUNCT[Math.floor(r() * PUNCT.length)]!;
      else line += ' ';
    }
    if (r() < 0.12) depth = Math.min(6, depth + 1);
    // eslint-disable-next-line no-dupe-else-if -- r() draws a new number each call
    else if (r() < 0.12) depth = Math.max(0, depth - 1);
    lines.push(line);
    n += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, size);
}

/** A binary-like file: 4 KiB pages of a random run (512-1536 bytes) and low-entropy records. */
function binaryFile(r: () => number, ks: (n: number) => Buffer, size: number, opcodes: Buffer[]): Buffer {
  const out = Buffer.alloc(size);
  for (let page = 0; page < size; page += 4096) {
    const end = Math.min(size, page + 4096);
    const rand = 512 + Math.floor(r() * 1024);
    let off = page;
    ks(Math.min(rand, end - off)).copy(out, off);
    off += rand;
    while (off < end) {
      const k = r();
      if (k < 0.55) { opcodes[Math.floor(r() * r() * opcodes.length)]!.copy(out, off); off += 8; }
      else if (k < 0.8) { out.writeUInt32LE(Math.floor(r() * 4096), Math.min(off, end - 4)); off += 4; }
      else off += 4 + Math.floor(r() * 12); // zeros
    }
  }
  return out;
}

/** The busybox layer's entries, from build/busybox.tar (the manifest's single layer). */
async function busyboxEntries(): Promise<Entry[]> {
  const files = new Map<string, Buffer>();
  const ex = tar.extract();
  const reading = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      files.set(e.header.name, Buffer.concat(chunks));
    }
  })();
  await pipeline(createReadStream(BUSYBOX_TAR), ex);
  await reading;
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
  const layer = files.get(manifest[0]!.Layers[0]!)!;
  const out: Entry[] = [];
  const lx = tar.extract();
  const readingLayer = (async () => {
    for await (const e of lx) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      const h = e.header;
      const type = h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'file';
      out.push({ name: h.name, type, mode: h.mode ?? 0o644, body: Buffer.concat(chunks), ...(h.linkname ? { linkname: h.linkname } : {}) });
    }
  })();
  await pipeline(Readable.from([layer]), lx);
  await readingLayer;
  out.push({ name: 'etc/bench-image', body: Buffer.from('berth registry benchmark image v1\n') });
  return out;
}

function* dirsOf(names: string[]): Generator<Entry> {
  const seen = new Set<string>();
  for (const n of names) {
    const parts = n.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = `${parts.slice(0, i).join('/')}/`;
      if (!seen.has(d)) { seen.add(d); yield { name: d, type: 'directory', mode: 0o755 }; }
    }
  }
}

/** The generated layers' entries (bodies made lazily, one file at a time). */
function layerPlans(): Array<() => Iterable<Entry> | Promise<Iterable<Entry>>> {
  return [
    busyboxEntries,
    function* libs() {
      const ks = keystream('libs');
      const names = Array.from({ length: 32 }, (_, i) => `usr/lib/bench/lib${String(i).padStart(2, '0')}.so`);
      yield* dirsOf(names);
      for (const name of names) yield { name, mode: 0o755, body: ks(2 * MiB) };
    },
    function* sources() {
      const r = prng(1001);
      const names = Array.from({ length: 3000 }, (_, i) => `usr/src/bench/m${String(i % 30).padStart(2, '0')}/f${String(i).padStart(4, '0')}.c`);
      yield* dirsOf(names);
      const total = 60 * MiB;
      // Sizes 2-36 KiB, scaled to the total.
      const w = names.map(() => 0.1 + r() * r());
      const sum = w.reduce((a, b) => a + b, 0);
      for (let i = 0; i < names.length; i++) yield { name: names[i]!, body: textFile(r, Math.floor((w[i]! / sum) * total)) };
    },
    function* binaries() {
      const r = prng(2002);
      const ks = keystream('binaries');
      const ops = Array.from({ length: 200 }, () => ks(8));
      const names = Array.from({ length: 24 }, (_, i) => `usr/bin/bench-tool${String(i).padStart(2, '0')}`);
      yield* dirsOf(names);
      for (const name of names) yield { name, mode: 0o755, body: binaryFile(r, ks, Math.floor((40 * MiB) / names.length), ops) };
    },
    function* data() {
      const r = prng(3003);
      const ks = keystream('data');
      const names = Array.from({ length: 400 }, (_, i) => `var/lib/bench/d${String(i % 8)}/rec${String(i).padStart(3, '0')}.json`);
      yield* dirsOf([...names, 'var/log/bench/app.log']);
      for (const name of names) {
        const recs: string[] = [];
        let n = 0;
        while (n < 20 * 1024) {
          const rec = `{"id":${Math.floor(r() * 1e6)},"name":"${WORDS[Math.floor(r() * WORDS.length)]}","token":"${ks(12).toString('hex')}","score":${r().toFixed(4)},"tags":["${WORDS[Math.floor(r() * 50)]}","${WORDS[Math.floor(r() * 50)]}"]}`;
          recs.push(rec);
          n += rec.length + 2;
        }
        yield { name, body: Buffer.from(`[${recs.join(',\n')}]\n`) };
      }
      const log: string[] = [];
      let n = 0;
      for (let i = 0; n < 10 * MiB; i++) {
        const l = `2024-02-01T00:${String(Math.floor(i / 6000) % 60).padStart(2, '0')}:${String(Math.floor(i / 100) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z level=${r() < 0.9 ? 'info' : 'warn'} req=${ks(6).toString('hex')} msg="${WORDS[Math.floor(r() * r() * 400)]} ${WORDS[Math.floor(r() * r() * 400)]}" ms=${Math.floor(r() * 900)}`;
        log.push(l);
        n += l.length + 1;
      }
      yield { name: 'var/log/bench/app.log', body: Buffer.from(`${log.join('\n')}\n`) };
    },
  ];
}

/** Counts, hashes and gzip-sizes what flows through. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  readonly gz = createGzip({ level: 6 });
  gzBytes = 0;
  constructor() {
    super();
    this.gz.on('data', (c: Buffer) => { this.gzBytes += c.length; });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: (err?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.gz.write(chunk)) cb(null, chunk);
    else this.gz.once('drain', () => cb(null, chunk));
  }
  override _flush(cb: (err?: Error | null) => void): void {
    this.gz.once('end', () => cb());
    this.gz.end();
    this.gz.resume();
  }
}

async function writeLayer(entries: Iterable<Entry>, file: string): Promise<{ diffId: string; bytes: number; gzipBytes: number; files: number }> {
  const p = tar.pack();
  const meter = new Meter();
  const done = pipeline(p as unknown as Readable, meter, createWriteStream(file));
  let files = 0;
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? (e.body ?? Buffer.alloc(0)) : Buffer.alloc(0);
    if (type === 'file') files++;
    await new Promise<void>((resolve, reject) => p.entry({
      name: e.name, type, mode: e.mode ?? 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: MTIME, size: body.length,
      ...(e.linkname ? { linkname: e.linkname } : {}),
    }, body, (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await done;
  return { diffId: `sha256:${meter.hash.digest('hex')}`, bytes: meter.bytes, gzipBytes: meter.gzBytes, files };
}

async function build(cacheDir: string): Promise<RegistryImage> {
  const work = join(cacheDir, `bbreg-${VERSION}.work`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const layers: RegistryImage['layers'] = [];
    const plans = layerPlans();
    for (let i = 0; i < plans.length; i++) layers.push(await writeLayer(await plans[i]!(), join(work, `layer${i}`)));
    const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'] ?? process.arch;
    const config = Buffer.from(JSON.stringify({
      architecture: arch, os: 'linux', created: CREATED,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created: CREATED, created_by: `bench layer ${i + 1}` })),
    }));
    const id = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const hex = (d: string) => d.slice('sha256:'.length);
    const out = join(cacheDir, `bbreg-${VERSION}.tar`);
    const p = tar.pack();
    const writing = pipeline(p as unknown as Readable, createWriteStream(`${out}.tmp`));
    const add = (name: string, body: Buffer) => new Promise<void>((resolve, reject) =>
      p.entry({ name, mode: 0o644, mtime: MTIME, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
    for (const d of ['blobs/', 'blobs/sha256/']) {
      await new Promise<void>((resolve, reject) => p.entry({ name: d, type: 'directory', mode: 0o755, mtime: MTIME }, (err) => (err ? reject(err) : resolve())));
    }
    await add(`blobs/sha256/${hex(id)}`, config);
    for (let i = 0; i < layers.length; i++) {
      const sink = p.entry({ name: `blobs/sha256/${hex(layers[i]!.diffId)}`, mode: 0o644, mtime: MTIME, size: layers[i]!.bytes });
      await pipeline(createReadStream(join(work, `layer${i}`)), sink as unknown as Writable);
    }
    const [repo, tag] = REGISTRY_IMAGE_REF.split(':') as [string, string];
    await add('manifest.json', Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${hex(id)}`, RepoTags: [REGISTRY_IMAGE_REF], Layers: layers.map((l) => `blobs/sha256/${hex(l.diffId)}`) }])));
    await add('repositories', Buffer.from(JSON.stringify({ [repo]: { [tag]: hex(layers[layers.length - 1]!.diffId) } })));
    p.finalize();
    await writing;
    renameSync(`${out}.tmp`, out);
    const img: RegistryImage = {
      path: out, archiveBytes: statSync(out).size, id, ref: REGISTRY_IMAGE_REF, layers,
      layerBytes: layers.reduce((a, l) => a + l.bytes, 0), gzipBytes: layers.reduce((a, l) => a + l.gzipBytes, 0),
    };
    writeFileSync(join(cacheDir, `bbreg-${VERSION}.json`), `${JSON.stringify(img, null, 2)}\n`);
    return img;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The test image, made once and cached in cacheDir (default bench/.cache). */
export async function registryImage(cacheDir = join(REPO, 'bench/.cache')): Promise<RegistryImage> {
  mkdirSync(cacheDir, { recursive: true });
  const meta = join(cacheDir, `bbreg-${VERSION}.json`);
  if (existsSync(meta)) {
    const img = JSON.parse(readFileSync(meta, 'utf8')) as RegistryImage;
    if (existsSync(img.path) && statSync(img.path).size === img.archiveBytes) return img;
  }
  return build(cacheDir);
}

if (import.meta.filename === process.argv[1]) {
  const t0 = Date.now();
  const img = await registryImage(process.argv[2]);
  const mb = (n: number) => (n / MiB).toFixed(1);
  process.stdout.write(`${img.path}: ${img.ref} ${img.id}\n  archive ${mb(img.archiveBytes)} MiB, layers ${mb(img.layerBytes)} MiB, gzip -6 ${mb(img.gzipBytes)} MiB (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  for (const l of img.layers) process.stdout.write(`  ${l.diffId.slice(7, 19)} ${mb(l.bytes).padStart(6)} MiB -> ${mb(l.gzipBytes).padStart(6)} MiB, ${l.files} files\n`);
}
