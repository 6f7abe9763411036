import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheFromMatch, isOnChainOf } from './cache-from.ts';
import type { ImageConfig } from '../image/index.ts';

const img = (steps: string[], layers: string[]): ImageConfig => ({
  architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers },
  history: steps.map((s) => (s.startsWith('#') ? { created_by: s, empty_layer: true } : { created_by: s })),
});

const base = img(['ADD rootfs'], ['sha256:a']);
const source = img(['ADD rootfs', '# ENV A=1', 'RUN make'], ['sha256:a', 'sha256:b']);

test('an image is on the chain of a cache-from source when its history and layers begin the source\'s', () => {
  assert.equal(isOnChainOf(base, [source]), true);
  assert.equal(isOnChainOf(img(['ADD rootfs', '# ENV A=1'], ['sha256:a']), [source]), true);
  assert.equal(isOnChainOf(source, [source]), true, 'the source itself');
  assert.equal(isOnChainOf(img(['ADD rootfs', '# ENV A=2'], ['sha256:a']), [source]), false, 'another step');
  assert.equal(isOnChainOf(img(['ADD rootfs', '# ENV A=1', 'RUN make'], ['sha256:a', 'sha256:c']), [source]), false, 'another layer');
  assert.equal(isOnChainOf(base, []), false, 'no source (nosuchtag): nothing is on a chain');
});

test('cacheFromMatch answers the next step of a source, with its layer or as an empty layer', () => {
  assert.deepEqual(cacheFromMatch(base, '# ENV A=1', [source]), { diffId: null });
  assert.deepEqual(cacheFromMatch(img(['ADD rootfs', '# ENV A=1'], ['sha256:a']), 'RUN make', [source]), { diffId: 'sha256:b' });
  assert.equal(cacheFromMatch(base, 'RUN other', [source]), undefined);
});
