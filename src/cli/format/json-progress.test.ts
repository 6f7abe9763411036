import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassThrough } from 'node:stream';
import { JsonProgressPrinter, progressBar } from './json-progress.ts';

const capture = (tty: boolean) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  return { printer: new JsonProgressPrinter(out, tty), text: () => text };
};

test('progressBar draws docker\'s bar and sizes', () => {
  assert.equal(progressBar({ current: 0, total: 0 }), '');
  assert.equal(progressBar({}), '');
  assert.match(progressBar({ current: 50, total: 100 }), /^\[={25}> {24}\] +50B\/100B$/);
  assert.match(progressBar({ current: 100, total: 100 }), /^\[={50}\]/);
});

test('non-terminal output leaves progress updates out', () => {
  const c = capture(false);
  c.printer.print({ status: 'Pulling from library/busybox', id: 'latest' });
  c.printer.print({ status: 'Pulling fs layer', progressDetail: {}, id: 'abc' });
  c.printer.print({ status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: 'abc' });
  c.printer.print({ status: 'Pull complete', progressDetail: {}, id: 'abc' });
  c.printer.print({ progressDetail: {}, aux: { Tag: 'x' } });
  c.printer.print({ status: 'Digest: sha256:1' });
  assert.equal(c.text(), 'latest: Pulling from library/busybox\nabc: Pulling fs layer\nabc: Pull complete\nDigest: sha256:1\n');
});

test('terminal output redraws a layer\'s line in place', () => {
  const c = capture(true);
  c.printer.print({ status: 'Pulling fs layer', progressDetail: {}, id: 'a' });
  c.printer.print({ status: 'Pulling fs layer', progressDetail: {}, id: 'b' });
  c.printer.print({ status: 'Pull complete', progressDetail: {}, id: 'a' });
  // a is 2 lines up: go up 2, redraw, come back down 1 (the newline did the other).
  assert.ok(c.text().endsWith('\x1b[2A\x1b[2K\ra: Pull complete\n\x1b[1B'));
});

test('an error message is thrown', () => {
  const c = capture(false);
  assert.throws(() => c.printer.print({ errorDetail: { message: 'boom' }, error: 'boom' }), /boom/);
});
