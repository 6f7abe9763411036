import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import tar from 'tar-stream';
import { ContextTar, encodeHeader, type TarSource } from './build-tar.ts';

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function read(buf: Buffer): Promise<Array<{ name: string; type: string; size: number; linkname: string | null; data: Buffer; mode: number; uid: number }>> {
  const ex = tar.extract();
  ex.end(buf);
  const out = [];
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? '', size: e.header.size ?? 0, linkname: e.header.linkname ?? null, data: Buffer.concat(parts), mode: e.header.mode ?? 0, uid: e.header.uid ?? -1 });
  }
  return out;
}

test('long and non-ASCII names, long link targets: ustar prefix or a PAX header, read back by tar-stream and GNU tar', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
  mkdirSync(join(dir, deep), { recursive: true });
  const longName = `${deep}/${'n'.repeat(90)}.txt`; // > 256 bytes: PAX
  const prefixed = `${'p'.repeat(60)}/${'q'.repeat(80)}.txt`; // > 100: ustar prefix
  const unicode = 'données/été ☃.txt';
  mkdirSync(join(dir, 'p'.repeat(60)));
  mkdirSync(join(dir, 'données'));
  writeFileSync(join(dir, longName), 'long');
  writeFileSync(join(dir, prefixed), 'prefixed');
  writeFileSync(join(dir, unicode), 'unicode');
  const target = `../${'t'.repeat(150)}`;
  symlinkSync(target, join(dir, 'lnk'));
  const sources: TarSource[] = [longName, prefixed, unicode, 'lnk'].map((n) => ({ kind: 'fs', abs: join(dir, n), name: n, st: lstatSync(join(dir, n)) }));
  const buf = await collect(new ContextTar(sources));
  assert.equal(buf.length % 512, 0);
  const es = await read(buf);
  assert.deepEqual(es.map((e) => e.name), [longName, prefixed, unicode, 'lnk']);
  assert.deepEqual(es.map((e) => e.data.toString()), ['long', 'prefixed', 'unicode', '']);
  assert.equal(es[3]!.linkname, target);
  assert.ok(es.every((e) => e.uid === 0));
  const gnu = spawnSync('tar', ['-t'], { input: buf, encoding: 'utf8' });
  assert.equal(gnu.status, 0, gnu.stderr);
  assert.deepEqual(gnu.stdout.split('\n').filter(Boolean), [longName, prefixed, unicode, 'lnk']);
});

test('big files stream in batches with the right bytes; a file that shrank is padded to its announced size', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = randomBytes(3 * 1024 * 1024 + 123);
  writeFileSync(join(dir, 'big'), big);
  writeFileSync(join(dir, 'small'), 'x'.repeat(1000));
  writeFileSync(join(dir, 'empty'), '');
  const st = (n: string) => lstatSync(join(dir, n));
  const sources: TarSource[] = ['big', 'empty', 'small'].map((n) => ({ kind: 'fs', abs: join(dir, n), name: n, st: st(n) }));
  const shrinking = st('small');
  writeFileSync(join(dir, 'small'), 'y'.repeat(10));
  sources[2] = { kind: 'fs', abs: join(dir, 'small'), name: 'small', st: shrinking };
  sources.push({ kind: 'dir', name: 'made', mode: 0o700, mtime: new Date(0) }, { kind: 'data', name: 'made/secret', data: Buffer.from('s'), mode: 0o400, mtime: new Date(0) });
  const es = await read(await collect(new ContextTar(sources)));
  assert.deepEqual(es.map((e) => [e.name, e.size]), [['big', big.length], ['empty', 0], ['small', 1000], ['made/', 0], ['made/secret', 1]]);
  assert.ok(es[0]!.data.equals(big));
  assert.deepEqual(es[2]!.data, Buffer.concat([Buffer.from('y'.repeat(10)), Buffer.alloc(990)]));
  assert.equal(es[4]!.mode, 0o400);
  assert.equal(es[3]!.type, 'directory');
});

test('a vanished file is left out; the header checksum holds', async () => {
  const gone: TarSource = { kind: 'fs', abs: '/nonexistent/berth-x', name: 'x', st: lstatSync('/etc/hostname') };
  const es = await read(await collect(new ContextTar([gone, { kind: 'data', name: 'y', data: Buffer.from('1'), mode: 0o644, mtime: new Date() }])));
  assert.deepEqual(es.map((e) => e.name), ['y']);
  const h = encodeHeader({ name: 'a', type: '0', mode: 0o644, size: 1, mtime: 0 });
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  assert.equal(parseInt(h.subarray(148, 154).toString(), 8), sum);
});
