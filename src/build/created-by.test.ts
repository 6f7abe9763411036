import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyCreatedBy, goQuote, goQuoteList, nopCreatedBy, runCommandLine, workdirCreatedBy } from './created-by.ts';

const SH = ['/bin/sh', '-c'];

test('metadata steps: two spaces after #(nop), Go %q lists for CMD/ENTRYPOINT (as busybox and nginx history show)', () => {
  assert.equal(nopCreatedBy(SH, `CMD ${goQuoteList(['sh'])}`), '/bin/sh -c #(nop)  CMD ["sh"]');
  assert.equal(nopCreatedBy(SH, `CMD ${goQuoteList(['nginx', '-g', 'daemon off;'])}`), '/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]');
  assert.equal(nopCreatedBy(['/bin/bash', '-o', 'pipefail', '-c'], 'EXPOSE 80'), '/bin/bash -o pipefail -c #(nop)  EXPOSE 80');
});

test('COPY/ADD and WORKDIR: one space after #(nop), the trailing space of dockerd kept', () => {
  assert.equal(copyCreatedBy(SH, { kind: 'COPY', srcHash: 'file:abc', dest: '/app/' }), '/bin/sh -c #(nop) COPY file:abc in /app/ ');
  assert.equal(copyCreatedBy(SH, { kind: 'ADD', chown: '1:2', srcHash: 'dir:def', dest: '.' }), '/bin/sh -c #(nop) ADD --chown=1:2 dir:def in . ');
  assert.equal(workdirCreatedBy(SH, '/srv'), '/bin/sh -c #(nop) WORKDIR /srv');
});

test('RUN records build args in scope as |N K=V, sorted', () => {
  assert.deepEqual(runCommandLine([...SH, 'make'], []), ['/bin/sh', '-c', 'make']);
  assert.equal(runCommandLine([...SH, 'make'], [['B', '2'], ['A', '1']]).join(' '), '|2 A=1 B=2 /bin/sh -c make');
});

test('goQuote escapes like Go', () => {
  assert.equal(goQuote('a"b\\c\n\t'), '"a\\"b\\\\c\\n\\t"');
  assert.equal(goQuote('\x01'), '"\\x01"');
});
