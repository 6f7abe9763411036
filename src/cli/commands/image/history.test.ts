import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339Local } from '../../../lib/units.ts';
import { renderHistory } from './images.ts';

const NOW = Date.UTC(2024, 5, 1);
const h = [
  { Id: `sha256:${'a'.repeat(64)}`, Created: NOW / 1000 - 7200, CreatedBy: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in /\tx', Tags: ['busybox:latest'], Size: 2_123_456, Comment: '' },
  { Id: '<missing>', Created: 0, CreatedBy: 'CMD ["sh"]', Tags: null, Size: 0, Comment: 'c' },
];
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => l.split(/\s{2,}/));

test('history: human by default: age (N/A before 2000), sizes in units, IDs and CREATED BY cut', () => {
  const out = lines(renderHistory(h, { human: true, noTrunc: false, quiet: false }, NOW));
  assert.deepEqual(out[0], ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']);
  assert.deepEqual(out[1]!.slice(0, 4), ['aaaaaaaaaaaa', '2 hours ago', '/bin/sh -c #(nop) ADD file:0123456789abcdef0…', '2.12MB']);
  assert.deepEqual(out[2], ['<missing>', 'N/A', 'CMD ["sh"]', '0B', 'c']);
});

test('history --human=false: CREATED AT in RFC 3339 and sizes in bytes, as docker prints them', () => {
  const out = lines(renderHistory(h, { human: false, noTrunc: false, quiet: false }, NOW));
  assert.deepEqual(out[0], ['IMAGE', 'CREATED AT', 'CREATED BY', 'SIZE', 'COMMENT']);
  assert.deepEqual(out[1]!.slice(1, 2), [rfc3339Local(NOW - 7_200_000)]);
  assert.equal(out[1]![3], '2123456');
  assert.equal(out[2]![1], rfc3339Local(0));
  assert.equal(renderHistory(h, { human: false, noTrunc: false, quiet: false, format: '{{.CreatedSince}}|{{.Size}}' }, NOW).split('\n')[0], `${rfc3339Local(NOW - 7_200_000)}|2123456`);
});

test('history -q and --no-trunc: whole IDs and commands; a custom format wins over -q', () => {
  assert.equal(renderHistory(h, { human: true, noTrunc: false, quiet: true }, NOW), 'aaaaaaaaaaaa\n<missing>\n');
  assert.equal(renderHistory(h, { human: true, noTrunc: true, quiet: true }, NOW), `sha256:${'a'.repeat(64)}\n<missing>\n`);
  assert.match(renderHistory(h, { human: true, noTrunc: true, quiet: false }, NOW), /ADD file:0123456789abcdef0123456789abcdef in \/ x/);
  assert.equal(renderHistory(h, { human: true, noTrunc: false, quiet: true, format: '{{.Size}}' }, NOW), '2.12MB\n0B\n');
});

test('rfc3339Local: seconds, Z for UTC, the offset otherwise', () => {
  assert.match(rfc3339Local(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), /^2024-01-0\dT\d\d:\d\d:05(Z|[+-]\d\d:\d\d)$/);
  if (new Date(0).getTimezoneOffset() === 0) assert.equal(rfc3339Local(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05Z');
});
