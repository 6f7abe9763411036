import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, kindOf } from './errors.ts';
import {
  bytesSize, containerStatusText, formatGoFloat, humanDuration, humanSize, parseBytes, parseDuration, parseDurationNs,
  parseHumanSize, timeAgo,
} from './units.ts';

// Expected strings were checked against Go's strconv/fmt/time (go1.19) and go-units' formulas.

test('formatGoFloat matches strconv.FormatFloat', () => {
  const cases: Array<[number, 'e' | 'f' | 'g', number, string]> = [
    [999.9, 'g', 3, '1e+03'], [5.592405, 'g', 3, '5.59'], [1.2, 'g', 3, '1.2'], [100, 'g', 3, '100'],
    [1234567.5, 'g', -1, '1.2345675e+06'], [100000, 'g', -1, '100000'], [1e6, 'g', -1, '1e+06'], [0.0001, 'g', -1, '0.0001'],
    [0.00001, 'g', -1, '1e-05'], [0, 'g', -1, '0'], [-0.5, 'g', -1, '-0.5'], [3.14159, 'f', 2, '3.14'], [2.5, 'f', 0, '2'],
    [3.5, 'f', 0, '4'], [0.125, 'f', 2, '0.12'], [0.00012, 'f', 6, '0.000120'], [1.5, 'e', 6, '1.500000e+00'], [0, 'e', 6, '0.000000e+00'],
    [123456, 'e', -1, '1.23456e+05'], [1e21, 'g', -1, '1e+21'], [Infinity, 'g', -1, '+Inf'], [NaN, 'f', 2, 'NaN'],
  ];
  for (const [x, verb, prec, want] of cases) assert.equal(formatGoFloat(x, verb, prec), want, `${x} ${verb} ${prec}`);
});

test('humanSize: decimal units, 3 significant digits, as docker images prints', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'], [982, '982B'], [1000, '1kB'], [12345, '12.3kB'], [5592405, '5.59MB'], [1.2e9, '1.2GB'], [4.26e6, '4.26MB'],
    [7.8e6, '7.8MB'], [999999, '1e+03kB'], [1e24, '1YB'], [1e27, '1e+03YB'],
  ];
  for (const [n, want] of cases) assert.equal(humanSize(n), want);
  assert.equal(humanSize(5592405, 4), '5.592MB');
});

test('bytesSize: binary units, 4 significant digits', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1536 * 1024 * 1024), '1.5GiB');
  assert.equal(bytesSize(512 * 1024 * 1024), '512MiB');
  assert.equal(bytesSize(1023), '1023B');
});

test('parseBytes follows go-units RAMInBytes', () => {
  const cases: Array<[string, number]> = [
    ['2048', 2048], ['512m', 512 * 1024 ** 2], ['512M', 512 * 1024 ** 2], ['1.5g', 1.5 * 1024 ** 3], ['64KiB', 65536], ['10kb', 10240],
    ['100 MB', 100 * 1024 ** 2], ['1b', 1], ['1B', 1], ['2t', 2 * 1024 ** 4], ['1.9', 1], ['0', 0],
  ];
  for (const [s, want] of cases) assert.equal(parseBytes(s), want, s);
  assert.equal(parseHumanSize('1.5kB'), 1500);
});

test('parseBytes errors use go-units wording and are InvalidParameter', () => {
  const cases: Array<[string, string]> = [
    ['abc', "invalid size: 'abc'"], ['-1', "invalid size: '-1'"], ['1x', "invalid suffix: 'x'"], ['1KiBB', "invalid suffix: 'KiBB'"],
    ['1kbb', "invalid suffix: 'kbb'"], ['1bb', "invalid suffix: 'bb'"], ['1.2.3m', 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'],
  ];
  for (const [s, msg] of cases) {
    assert.throws(() => parseBytes(s), (e: unknown) => e instanceof EngineError && kindOf(e) === 'InvalidParameter' && e.message === msg, s);
  }
});

test('humanDuration follows go-units HumanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [0, 'Less than a second'], [999, 'Less than a second'], [-5 * s, 'Less than a second'], [1 * s, '1 second'], [1999, '1 second'],
    [47 * s, '47 seconds'], [1 * m, 'About a minute'], [119 * s, 'About a minute'], [2 * m, '2 minutes'], [59 * m, '59 minutes'],
    [60 * m, 'About an hour'], [89 * m, 'About an hour'], [90 * m, '2 hours'], [47 * h, '47 hours'], [48 * h, '2 days'], [13 * d, '13 days'],
    [14 * d, '2 weeks'], [59 * d, '8 weeks'], [60 * d, '2 months'], [365 * d, '12 months'], [729 * d, '24 months'], [730 * d, '2 years'],
    [3650 * d, '10 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('timeAgo', () => {
  assert.equal(timeAgo('2024-05-01T10:00:00Z', new Date('2024-05-01T10:05:00Z')), '5 minutes ago');
  assert.equal(timeAgo(new Date('2024-05-01T10:00:00Z'), new Date('2024-05-01T10:00:04Z')), '4 seconds ago');
});

test('parseDuration follows time.ParseDuration', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('-2s'), -2000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDurationNs('1h2m3s4ms5us6ns'), 3_723_004_005_006);
  assert.equal(parseDurationNs('3µs'), 3000);
  assert.equal(parseDurationNs('.5m'), 30e9);
  const errors: Array<[string, string]> = [
    ['1d', 'time: unknown unit "d" in duration "1d"'], ['10', 'time: missing unit in duration "10"'], ['', 'time: invalid duration ""'],
    ['.s', 'time: invalid duration ".s"'], ['-', 'time: invalid duration "-"'], ['1e3s', 'time: unknown unit "e" in duration "1e3s"'],
  ];
  for (const [s, msg] of errors) assert.throws(() => parseDuration(s), { message: msg }, s);
});

test('containerStatusText reproduces docker ps STATUS', () => {
  const now = new Date('2024-05-01T10:05:00Z');
  const zero = '0001-01-01T00:00:00Z';
  const started = '2024-05-01T10:00:00.123456789Z';
  const cases: Array<[Parameters<typeof containerStatusText>[0], string]> = [
    [{ Status: 'running', StartedAt: started, FinishedAt: zero }, 'Up 4 minutes'],
    [{ Status: 'running', StartedAt: '2024-05-01T10:04:59.9Z' }, 'Up Less than a second'],
    [{ Status: 'paused', StartedAt: started }, 'Up 4 minutes (Paused)'],
    [{ Status: 'running', StartedAt: started, Health: { Status: 'healthy' } }, 'Up 4 minutes (healthy)'],
    [{ Status: 'running', StartedAt: started, Health: { Status: 'starting' } }, 'Up 4 minutes (health: starting)'],
    [{ Status: 'exited', ExitCode: 0, StartedAt: started, FinishedAt: '2024-05-01T10:04:58Z' }, 'Exited (0) 2 seconds ago'],
    [{ Status: 'exited', ExitCode: 137, StartedAt: started, FinishedAt: '2024-05-01T08:00:00Z' }, 'Exited (137) 2 hours ago'],
    [{ Status: 'created', StartedAt: zero, FinishedAt: zero }, 'Created'],
    [{ Status: 'exited', ExitCode: 127, StartedAt: zero, FinishedAt: zero }, 'Created'],
    [{ Status: 'restarting', ExitCode: 1, StartedAt: started, FinishedAt: '2024-05-01T10:04:57Z' }, 'Restarting (1) 3 seconds ago'],
    [{ Status: 'removing', StartedAt: started }, 'Removal In Progress'],
    [{ Status: 'dead', StartedAt: started }, 'Dead'],
  ];
  for (const [state, want] of cases) assert.equal(containerStatusText(state, now), want, JSON.stringify(state));
});
