import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EngineError, kindOf } from '../lib/errors.ts';
import { decompress } from './compression.ts';
import { defaultReserve } from './inflate-guard.ts';

const MiB = 1024 ** 2;
/** gzip members of `n` MiB of zeros each, concatenated: a bomb at ~1000:1 made in milliseconds. */
const zeroMember = gzipSync(Buffer.alloc(MiB), { level: 9 });
const bomb = (mib: number) => Buffer.concat(Array.from({ length: mib }, () => zeroMember));
const small = { ratioFloor: 4 * MiB, maxRatio: 50, spaceCheckEvery: MiB };
const plenty = async () => ({ free: 1e12, size: 2e12 });

async function drain(r: Readable): Promise<number> {
  let n = 0;
  for await (const c of r) n += (c as Buffer).length;
  return n;
}

const rejectsKind = (p: Promise<unknown>, kind: string, re: RegExp) =>
  assert.rejects(p, (err: unknown) => err instanceof EngineError && kindOf(err) === kind && re.test(err.message));

test('a gzip bomb is refused once past the floor and the ratio; the input is let go', async () => {
  const input = Readable.from([bomb(64)]);
  const out = await decompress(input, { limits: small, what: 'invalid archive' });
  await rejectsKind(drain(out), 'InvalidParameter', /^invalid archive: refused as a decompression bomb: .* \(over 50:1\)$/);
  assert.ok(input.destroyed, 'the source was destroyed (not an HTTP request)');
});

test('below the floor, or at an ordinary ratio, everything passes', async () => {
  assert.equal(await drain(await decompress(Readable.from([bomb(3)]), { limits: small })), 3 * MiB, 'a small run of zeros is fine');
  // Random text compresses a few times over: far from 50:1.
  const text = Buffer.from(randomBytes(6 * MiB).toString('base64'));
  const out = await decompress(Readable.from([gzipSync(text)]), { limits: small });
  assert.ok((await buffer(out)).equals(text));
  // A directory that does not exist yet is no reason to refuse (the real statfs answers ENOENT).
  assert.equal(await drain(await decompress(Readable.from([bomb(2)]), { spaceRoot: '/nonexistent/berth-test', limits: small })), 2 * MiB);
  // Plain input has no ratio to speak of.
  assert.equal(await drain(await decompress(Readable.from([Buffer.alloc(8 * MiB)]), { limits: small, spaceRoot: '/x', space: plenty })), 8 * MiB);
});

test('the defaults: 200:1 above 256 MiB; the reserve is 2% of the filesystem within 64 MiB..1 GiB', async () => {
  assert.equal(defaultReserve(100 * MiB), 64 * MiB);
  assert.equal(defaultReserve(10 * 1024 * MiB), Math.floor(10 * 1024 * MiB * 0.02));
  assert.equal(defaultReserve(1e13), 1024 * MiB);
  await rejectsKind(drain(await decompress(Readable.from([bomb(300)]))), 'InvalidParameter', /decompression bomb/);
});

for (const tool of ['bzip2', 'xz'] as const) {
  test(`${tool} bombs are bounded the same way; ${tool} is refused unless allowed`, async () => {
    const z = spawnSync(tool, ['-c', '-9'], { input: Buffer.alloc(64 * MiB), maxBuffer: 64 * MiB }).stdout;
    await rejectsKind(decompress(Readable.from([z])), 'NotImplemented', new RegExp(`^${tool}-compressed`));
    const out = await decompress(Readable.from([z]), { allowBzip2Xz: true, limits: small });
    await rejectsKind(drain(out), 'InvalidParameter', /decompression bomb/);
    const ok = spawnSync(tool, ['-c'], { input: Buffer.from('hello\n') }).stdout;
    assert.equal((await buffer(await decompress(Readable.from([ok]), { allowBzip2Xz: true }))).toString(), 'hello\n');
    const broken = Buffer.concat([ok.subarray(0, 8), Buffer.alloc(64, 7)]);
    await rejectsKind(buffer(await decompress(Readable.from([broken]), { allowBzip2Xz: true, what: 'build context' })), 'InvalidParameter', new RegExp(`^build context: ${tool} decompression failed`));
  });
}

test('free space: refused before reading when below the reserve, and while the bytes flow', async () => {
  const input = new PassThrough();
  input.end(gzipSync(Buffer.alloc(MiB)));
  await rejectsKind(decompress(input, { spaceRoot: '/data', space: async () => ({ free: 10 * MiB, size: 100 * MiB }), what: 'load' }),
    'Unavailable', /^load: no space left on device: 10\.5MB free on the data root's filesystem, 67\.1MB kept in reserve$/);
  // Space runs out part-way: the check every 1 MiB of output catches it.
  let free = 200 * MiB;
  const space = async () => { free -= 40 * MiB; return { free, size: 1000 * MiB }; };
  const out = await decompress(Readable.from([bomb(16)]), { spaceRoot: '/data', space, limits: { ...small, maxRatio: 10_000 } });
  await rejectsKind(drain(out), 'Unavailable', /no space left on device/);
});

test('an error of the input reaches the output', async () => {
  const input = new PassThrough();
  const out = decompress(input, { limits: small });
  input.write(zeroMember.subarray(0, 10));
  input.write(zeroMember.subarray(10, 20));
  const r = await out;
  input.destroy(new Error('connection reset'));
  await assert.rejects(drain(r), /connection reset/);
});
