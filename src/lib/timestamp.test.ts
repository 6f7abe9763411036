import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp } from './timestamp.ts';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

test('parseTimestamp: Go durations count back from now', () => {
  assert.equal(parseTimestamp('24h', NOW), NOW - 86_400_000);
  assert.equal(parseTimestamp('1h30m', NOW), NOW - 5_400_000);
  assert.equal(parseTimestamp('1.5s', NOW), NOW - 1500);
  assert.equal(parseTimestamp('-10m', NOW), NOW + 600_000);
});

test('parseTimestamp: unix seconds with an optional fraction; "0" is the epoch, not a duration', () => {
  assert.equal(parseTimestamp('1700000000', NOW), 1_700_000_000_000);
  assert.equal(parseTimestamp('1700000000.5', NOW), 1_700_000_000_500);
  // One nanosecond is below a double's precision at this magnitude: the fraction parses, and rounds away.
  assert.equal(parseTimestamp('1700000000.000000001', NOW), 1_700_000_000_000);
  assert.equal(parseTimestamp('0', NOW), 0);
});

test('parseTimestamp: RFC 3339 with a zone, and local time without one', () => {
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z', NOW), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parseTimestamp('2024-01-02T03:04:05.25+02:00', NOW), Date.UTC(2024, 0, 2, 1, 4, 5, 250));
  assert.equal(parseTimestamp('2024-01-02T03:04-01:30', NOW), Date.UTC(2024, 0, 2, 4, 34));
  assert.equal(parseTimestamp('2024-01-02', NOW), new Date(2024, 0, 2).getTime());
  assert.equal(parseTimestamp('2024-01-02T15', NOW), new Date(2024, 0, 2, 15).getTime());
  assert.equal(parseTimestamp('2024-01-02T15:04:05', NOW), new Date(2024, 0, 2, 15, 4, 5).getTime());
});

test('parseTimestamp: garbage is refused with dockerd\'s words', () => {
  assert.throws(() => parseTimestamp('', NOW), /value is empty/);
  assert.throws(() => parseTimestamp('yesterday', NOW), /failed to parse value as time or duration: invalid seconds "yesterday"/);
  assert.throws(() => parseTimestamp('2024-13-01', NOW), /parsing time "2024-13-01"/);
  assert.throws(() => parseTimestamp('12.x', NOW), /invalid seconds/);
});
