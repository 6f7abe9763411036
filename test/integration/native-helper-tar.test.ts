// Hostile tars through `berth-helper tar-in`, with the helper built under AddressSanitizer and
// UBSan (DESIGN: the helper is hostile-input code and its corpus runs under ASan). CI builds that
// copy once (`make -C native asan`) and names it in BERTH_ASAN_HELPER; without it the test builds
// its own. Every malformed archive must be refused (exit 4) with no sanitizer report and nothing
// extracted for it; the well-formed controls must extract as written. tar-in's default policy is
// the layer extractor's (caps, no devices, no absolute names); --allow-* widen it for docker cp.
// Needs root (tar-in chroots) and gcc with libasan.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, requireRoot } from './harness.ts';

const scratch: string[] = [];
const tmp = (prefix: string) => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), `berth-tar-test-${prefix}-`)));
  scratch.push(d);
  return d;
};
let helperPath = '';

before(() => {
  if (process.getuid?.() !== 0) return;
  const prebuilt = process.env['BERTH_ASAN_HELPER'];
  if (prebuilt) {
    helperPath = prebuilt;
    return;
  }
  const out = tmp('asan');
  execFileSync('make', ['-s', '-C', join(REPO, 'native'), `OUT=${out}`,
    'SANITIZE=-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g'], { stdio: 'inherit' });
  helperPath = join(out, 'berth-helper');
});
after(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

// ---------- a tar writer that writes exactly what it is told, broken fields included ----------

interface RawHeader {
  name?: string;
  type?: string;
  size?: number;
  /** Replaces the 12-byte size field verbatim (base-256, garbage). */
  sizeField?: Buffer;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Added to the checksum written (a corrupt header). */
  checksumOff?: number;
}

function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name ?? 'f', 0, 100, 'latin1');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  if (h.sizeField) h.sizeField.copy(b, 124, 0, 12);
  else b.write(`${(h.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('14777777777\0', 136, 'latin1');
  b.write(h.type ?? '0', 156, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 100, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  b.write(`${(h.devmajor ?? 0).toString(8).padStart(7, '0')}\0`, 329, 'latin1');
  b.write(`${(h.devminor ?? 0).toString(8).padStart(7, '0')}\0`, 337, 'latin1');
  b.fill(' ', 148, 156);
  let sum = h.checksumOff ?? 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

const padded = (body: Buffer) => Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);

/** One entry: header and body; `size` (the header's) defaults to the body's length. */
const entry = (h: RawHeader, body: Buffer | string = Buffer.alloc(0)) => {
  const data = Buffer.from(body as string, 'latin1');
  return Buffer.concat([header({ size: data.length, ...h }), padded(data)]);
};
const pax = (records: Buffer | string) => entry({ name: 'PaxHeaders/f', type: 'x' }, records);
const archive = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.alloc(1024)]);

/** A PAX record with its correct length prefix. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let n = body.length + 1;
  while (`${n}${body}`.length !== n) n++;
  return `${n}${body}`;
}

function tarIn(tar: Buffer, opts: string[] = []): { code: number | null; stderr: string; root: string } {
  const root = tmp('root');
  const r = spawnSync(helperPath, ['tar-in', ...opts, root, '/'], {
    input: tar,
    encoding: 'utf8',
    // A sanitizer finding exits 99 whatever the helper would have said; leaks are not the question here.
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0:exitcode=99', UBSAN_OPTIONS: 'print_stacktrace=1:exitcode=99' },
  });
  return { code: r.status, stderr: r.stderr, root };
}

const INVALID_HEADER = /berth-helper: archive\/tar: invalid tar header|unexpected end of archive/;

/** Refused (exit 4) with `message`, no sanitizer report, and nothing but `leaves` left in the root. */
function assertRefused(tar: Buffer, message = INVALID_HEADER, opts: string[] = [], leaves: string[] = []) {
  const r = tarIn(tar, opts);
  assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, message);
  assert.deepEqual(readdirSync(r.root).sort(), leaves, 'nothing extracted from a refused entry');
}

/** Extracted (exit 0) with no sanitizer report; returns the root. */
function assertExtracted(tar: Buffer, opts: string[] = []): string {
  const r = tarIn(tar, opts);
  assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
  assert.equal(r.code, 0, r.stderr);
  return r.root;
}

// ---------- the corpus ----------

describe('tar-in under AddressSanitizer', () => {
  test('a well-formed PAX path, size and GNU long name extract as written', (t) => {
    if (!requireRoot(t)) return;
    const long = `${'d'.repeat(120)}/${'f'.repeat(130)}`;
    const r = tarIn(archive(
      pax(record('path', long)), entry({ name: 'short' }, 'pax body'),
      entry({ name: '././@LongLink', type: 'L' }, `${'g'.repeat(150)}\0`), entry({ name: 'cut' }, 'gnu body'),
      pax(record('size', '3')), entry({ name: 'sized', sizeField: Buffer.from('00000000000\0') }, 'abc'),
    ));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(r.root, long), 'utf8'), 'pax body');
    assert.equal(readFileSync(join(r.root, 'g'.repeat(150)), 'utf8'), 'gnu body');
    assert.equal(readFileSync(join(r.root, 'sized'), 'utf8'), 'abc');
  });

  test('a PAX record whose length runs past the header is refused without reading past it', (t) => {
    if (!requireRoot(t)) return;
    assertRefused(archive(pax('99 path=a\n'), entry({ name: 'x' })));
    // The record fills the header to its last byte, and its length claims one more.
    const body = record('comment', 'c'.repeat(40));
    assertRefused(archive(pax(`${body.length + 1}${body.slice(String(body.length).length)}`), entry({ name: 'x' })));
  });

  test('a PAX record whose space lies beyond its own length is refused (the key search overread)', (t) => {
    if (!requireRoot(t)) return;
    // "2\n" is a complete 2-byte record ending in a newline; its key would start past its end.
    assertRefused(archive(pax('2\n 0000000'), entry({ name: 'x' })));
    assertRefused(archive(pax(`3x\n${record('path', 'p')}`), entry({ name: 'x' })));
  });

  test('PAX lengths that are missing, zero, negative, signed, padded or overflow are refused', (t) => {
    if (!requireRoot(t)) return;
    for (const bad of ['12345\n', 'path=a\n', '0 a=b\n', '-5 a=b\n', '+9 path=a\n', ' 10 path=a\n',
      '99999999999999999999 path=a\n', '18446744073709551620 path=a\n', '5 =b\n\n', '6 ab\n\n\n']) {
      assertRefused(archive(pax(bad), entry({ name: 'x' })));
    }
  });

  test('a PAX key or path with a NUL in it is refused, not cut short', (t) => {
    if (!requireRoot(t)) return;
    assertRefused(archive(pax(record('path\0junk', 'evil')), entry({ name: 'x' })));
    assertRefused(archive(pax(record('path', 'ok\0/../../escape')), entry({ name: 'x' })));
    assertRefused(archive(pax(record('linkpath', 'a\0b')), entry({ name: 'x', type: '2' })));
  });

  test('numeric PAX values that are not plain decimals are refused', (t) => {
    if (!requireRoot(t)) return;
    for (const [k, v] of [['size', '-1'], ['size', '12abc'], ['size', ''], ['uid', '99999999999999999999999'], ['gid', '-7'],
      ['size', '9223372036854775808']]) {
      assertRefused(archive(pax(record(k!, v!)), entry({ name: 'x' })));
    }
  });

  test('base-256 numbers that overflow 63 bits or are negative are refused', (t) => {
    if (!requireRoot(t)) return;
    const huge = Buffer.alloc(12, 0xff);
    huge[0] = 0x80;
    assertRefused(archive(entry({ name: 'x', sizeField: huge })));
    assertRefused(archive(entry({ name: 'x', sizeField: Buffer.alloc(12, 0xff) })));
  });

  test('truncated extended headers and long names are refused', (t) => {
    if (!requireRoot(t)) return;
    // The header promises 600 bytes of records; the stream ends after 512.
    const full = pax('x'.repeat(600));
    assertRefused(full.subarray(0, 1024));
    const long = entry({ name: '././@LongLink', type: 'L' }, 'n'.repeat(700));
    assertRefused(long.subarray(0, 1024));
    // A GNU long name without its terminating NUL fills its blocks exactly: read, never past them.
    const r = tarIn(archive(entry({ name: '././@LongLink', type: 'L' }, 'n/'.repeat(512)), entry({ name: 'x' }, 'y')));
    assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(r.root, 'n/'.repeat(511) + 'n'), 'utf8'), 'y');
  });

  test('fields without a terminating NUL (name, link, prefix) stay inside the header', (t) => {
    if (!requireRoot(t)) return;
    const h = header({ name: 'a'.repeat(100), type: '2' });
    h.fill('b', 157, 257); // linkname: 100 bytes, no NUL
    h.fill('c', 345, 500); // prefix: 155 bytes, no NUL
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const r = tarIn(archive(h));
    assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    const dir = join(r.root, 'c'.repeat(155));
    assert.ok(statSync(dir).isDirectory());
    assert.deepEqual(readdirSync(dir), ['a'.repeat(100)]);
  });

  test('a header whose checksum does not add up is refused', (t) => {
    if (!requireRoot(t)) return;
    assertRefused(archive(entry({ name: 'x', checksumOff: 1 }, 'body')));
    // A good first entry is written; the corrupt second one stops the extraction.
    assertRefused(archive(entry({ name: 'good' }, 'ok'), entry({ name: 'bad', checksumOff: -3 })), INVALID_HEADER, [], ['good']);
  });

  test('.. names, in the header or in a PAX path, are refused before anything is written for them', (t) => {
    if (!requireRoot(t)) return;
    assertRefused(archive(entry({ name: '../escape' }, 'x')), /is outside of/);
    assertRefused(archive(entry({ name: 'a/../../escape' }, 'x')), /is outside of/);
    assertRefused(archive(pax(record('path', `${'../'.repeat(40)}etc/passwd`)), entry({ name: 'x' }, 'x')), /is outside of/);
    // ".." that stays inside is fine: a/../b is b.
    const root = assertExtracted(archive(entry({ name: 'a/../b' }, 'inside')));
    assert.equal(readFileSync(join(root, 'b'), 'utf8'), 'inside');
  });

  test('symlinks and hardlinks climbing out of the extraction directory are refused', (t) => {
    if (!requireRoot(t)) return;
    assertRefused(archive(entry({ name: 'up', type: '2', linkname: '../../outside' })), /invalid symlink/);
    assertRefused(archive(entry({ name: 'd/up', type: '2', linkname: 'x/../../..' })), /invalid symlink/);
    assertRefused(archive(entry({ name: 'hl', type: '1', linkname: '../outside' })), /invalid hardlink/);
    assertRefused(archive(pax(record('linkpath', `${'../'.repeat(9)}etc/shadow`)), entry({ name: 'hl', type: '1' })), /invalid hardlink/);
    // An absolute symlink target resolves in the root (the process's root): kept as written.
    const root = assertExtracted(archive(entry({ name: 'abs', type: '2', linkname: '/etc/passwd' }), entry({ name: 'd/in', type: '2', linkname: '../abs' })));
    assert.equal(readlinkSync(join(root, 'abs')), '/etc/passwd');
    assert.equal(readlinkSync(join(root, 'd/in')), '../abs');
  });

  test('absolute names are refused unless --allow-absolute takes them relative to the directory', (t) => {
    if (!requireRoot(t)) return;
    const abs = archive(entry({ name: '/etc/abs-name' }, 'abs'));
    assertRefused(abs, /invalid tar entry name "\/etc\/abs-name": absolute path/);
    assertRefused(archive(pax(record('path', '/etc/pax-abs')), entry({ name: 'x' }, 'x')), /absolute path/);
    assertRefused(archive(entry({ name: 'f' }, 'f'), entry({ name: 'hl', type: '1', linkname: '/f' })), /invalid hardlink/, [], ['f']);
    const root = assertExtracted(abs, ['--allow-absolute']);
    assert.equal(readFileSync(join(root, 'etc/abs-name'), 'utf8'), 'abs');
  });

  test('device nodes are skipped unless --allow-devices; fifos are made either way', (t) => {
    if (!requireRoot(t)) return;
    const devices = archive(
      entry({ name: 'null', type: '3', devmajor: 1, devminor: 3 }),
      entry({ name: 'sda', type: '4', devmajor: 8, devminor: 0 }),
      entry({ name: 'pipe', type: '6' }),
      entry({ name: 'after' }, 'after'),
    );
    const root = assertExtracted(devices);
    assert.deepEqual(readdirSync(root).sort(), ['after', 'pipe']);
    assert.ok(lstatSync(join(root, 'pipe')).isFIFO());
    const allowed = assertExtracted(devices, ['--allow-devices']);
    const nul = lstatSync(join(allowed, 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(allowed, 'sda')).isBlockDevice());
  });

  test('more entries or more file bytes than the caps are refused', (t) => {
    if (!requireRoot(t)) return;
    const three = archive(entry({ name: 'a' }, 'aaaa'), entry({ name: 'b' }, 'bbbb'), entry({ name: 'c' }, 'cccc'));
    assertRefused(three, /archive has too many entries \(more than 2\)/, ['--max-entries', '2'], ['a', 'b']);
    assertRefused(three, /archive exceeds the maximum unpacked size \(10 bytes\)/, ['--max-bytes', '10'], ['a', 'b']);
    // PAX and long-name headers are not entries; hardlinks add no bytes.
    const root = assertExtracted(archive(pax(record('path', 'p')), entry({ name: 'x' }, 'aaaa'), entry({ name: 'l', type: '1', linkname: 'p' })),
      ['--max-entries', '2', '--max-bytes', '4']);
    assert.equal(statSync(join(root, 'l')).nlink, 2);
    assert.ok(existsSync(join(root, 'p')));
    assert.equal(tarIn(three, ['--max-bytes', '-1']).code, 1, 'a negative cap is a usage error');
  });
});
