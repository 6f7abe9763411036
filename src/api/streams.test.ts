import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STDERR, STDIN, STDOUT, frame } from './streams.ts';

test('stream IDs as Docker numbers them', () => {
  assert.deepEqual([STDIN, STDOUT, STDERR], [0, 1, 2]);
});

test('frame: 8-byte header [stream, 0, 0, 0, size uint32 BE] then the payload', () => {
  assert.deepEqual([...frame(STDOUT, Buffer.from('hi\n'))], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  assert.deepEqual([...frame(STDERR, Buffer.alloc(0))], [2, 0, 0, 0, 0, 0, 0, 0]);
});

test('frame: sizes above 16 bits use all four size bytes', () => {
  const f = frame(STDOUT, Buffer.alloc(0x012345, 0x61));
  assert.equal(f.length, 8 + 0x012345);
  assert.deepEqual([...f.subarray(0, 8)], [1, 0, 0, 0, 0x00, 0x01, 0x23, 0x45]);
  assert.equal(f.readUInt32BE(4), 0x012345);
});
