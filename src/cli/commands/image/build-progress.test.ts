import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonMessage } from '../../../api/types/index.ts';
import { waitFor } from '../../../lib/test-support.ts';
import { BuildDisplay, type DisplayOutput } from './build-progress.ts';

class Capture implements DisplayOutput {
  text = '';
  columns = 60;
  rows = 30;
  write(s: string): boolean { this.text += s; return true; }
}

const step = (aux: Record<string, unknown>): JsonMessage => ({ id: 'berth.step', aux });

/** What the daemon sends for a two-stage build (stage 1 runs while stage 0 is still going). */
function feed(d: BuildDisplay, clock: { t: number }): void {
  const at = (ms: number) => { clock.t = ms; return ms; };
  d.message({ stream: 'Step 1/4 : FROM busybox AS a' });
  d.message({ stream: '\n' });
  d.message(step({ vertex: '0:0', status: 'started', name: '[a 1/2] FROM busybox', ts: at(1000) }));
  d.message(step({ vertex: '0:0', status: 'done', elapsedMs: 10, ts: at(1010) }));
  d.message({ stream: ' ---> 3f57d9401f8d\n' });
  d.message(step({ vertex: '0:1', status: 'started', name: '[a 2/2] RUN make', ts: at(1020) }));
  d.message(step({ vertex: '1:0', status: 'started', name: '[b 1/2] FROM busybox', ts: at(1030) }));
  d.message(step({ vertex: '0:1', status: 'log', stream: 'stdout', data: 'cc -o ', ts: at(1100) }));
  d.message(step({ vertex: '0:1', status: 'log', stream: 'stdout', data: 'app\nlinking\n', ts: at(1200) }));
  d.message(step({ vertex: '1:0', status: 'cached', elapsedMs: 0, ts: at(1210) }));
  d.message(step({ vertex: '0:1', status: 'done', elapsedMs: 1840, ts: at(2860) }));
  d.message({ stream: ' ---> Removed intermediate container 5c1e2a7b9f0d\n' });
  d.message({ aux: { ID: 'sha256:0a1b' } });
  d.message({ stream: 'Successfully built 0a1b\n' });
  d.message({ stream: 'Successfully tagged web:latest\n' });
}

test('plain: numbered blocks, output lines with their time, DONE/CACHED, no legacy step lines', () => {
  const out = new Capture();
  const clock = { t: 1000 };
  const d = new BuildDisplay(out, 'plain', { now: () => clock.t });
  feed(d, clock);
  d.finish();
  assert.equal(out.text, [
    '#1 [a 1/2] FROM busybox',
    '#1 DONE 0.0s',
    '',
    '#2 [a 2/2] RUN make',
    '',
    '#3 [b 1/2] FROM busybox',
    '',
    '#2 0.080 cc -o app',
    '#2 0.180 linking',
    '',
    '#3 CACHED',
    '',
    '#2 DONE 1.8s',
    '',
  ].join('\n'));
  assert.equal(d.imageId, 'sha256:0a1b');
  assert.deepEqual(d.tagged, ['web:latest']);
});

test('plain: a failing step prints its error and a box with its last lines', () => {
  const out = new Capture();
  const d = new BuildDisplay(out, 'plain', { now: () => 0 });
  d.message(step({ vertex: '0:1', status: 'started', name: '[1/2] RUN exit 3', ts: 0 }));
  d.message(step({ vertex: '0:1', status: 'log', data: 'oops', ts: 5 }));
  d.message(step({ vertex: '0:1', status: 'error', elapsedMs: 12, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }));
  d.message({ stream: 'Dockerfile:2\n>>> RUN exit 3\n' });
  d.message({ errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: 'x' });
  d.finish();
  assert.match(out.text, /^#1 0\.005 oops\n#1 ERROR: The command '\/bin\/sh -c exit 3' returned a non-zero code: 3\n/m);
  // The step's last lines, then the daemon's Dockerfile excerpt.
  assert.match(out.text, /------\n > \[1\/2\] RUN exit 3:\n0\.005 oops\n------\nDockerfile:2\n>>> RUN exit 3\n$/);
  assert.deepEqual(d.error, { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
});

test('plain without step events: the legacy stream as docker prints it', () => {
  const out = new Capture();
  const d = new BuildDisplay(out, 'plain');
  d.message({ stream: 'Step 1/2 : FROM busybox' });
  d.message({ stream: '\n' });
  d.message({ stream: ' ---> 3f57d9401f8d\n' });
  d.message({ stream: 'Step 2/2 : RUN echo hi' });
  d.message({ stream: '\n' });
  d.message({ stream: 'hi\n' });
  d.message({ stream: 'Successfully built 3f57d9401f8d\n' });
  d.finish();
  assert.equal(out.text, 'Step 1/2 : FROM busybox\n ---> 3f57d9401f8d\nStep 2/2 : RUN echo hi\nhi\nSuccessfully built 3f57d9401f8d\n');
});

test('tty: parallel running steps with their last lines, then a collapsed summary', async () => {
  const out = new Capture();
  const clock = { t: 1000 };
  const d = new BuildDisplay(out, 'tty', { now: () => clock.t });
  d.message(step({ vertex: '0:0', status: 'started', name: '[a 1/2] FROM busybox', ts: 1000 }));
  d.message(step({ vertex: '0:0', status: 'done', elapsedMs: 10 }));
  d.message(step({ vertex: '0:1', status: 'started', name: '[a 2/2] RUN make', ts: 1000 }));
  d.message(step({ vertex: '1:1', status: 'started', name: '[b 2/2] RUN sleep 1', ts: 1000 }));
  d.message(step({ vertex: '0:1', status: 'log', data: 'l1\nl2\nl3\nl4\nl5\nl6\nl7\npartial', ts: 1200 }));
  clock.t = 2500;
  const live = d.frame();
  assert.equal(live[0], '[+] Building 1.5s (1/3)');
  assert.match(live[1]!, /^ => \[a 1\/2\] FROM busybox +0\.0s$/);
  assert.match(live[2]!, /^ => \[a 2\/2\] RUN make +1\.5s$/);
  // The last six lines of output (the partial one included), then the other running stage.
  assert.deepEqual(live.slice(3, 9), ['l3', 'l4', 'l5', 'l6', 'l7', 'partial'].map((l) => ` => => # ${l}`));
  assert.match(live[9]!, /^ => \[b 2\/2\] RUN sleep 1 +1\.5s$/);
  assert.ok(live.every((l) => l.length <= 59), 'lines fit the terminal');
  // The redraw timer draws the live view on its own.
  await waitFor('the redraw timer to draw the live view', () => out.text !== '', { timeoutMs: 5000, intervalMs: 10 });
  assert.match(out.text, /^\[\+\] Building 1\.5s \(1\/3\)\n/);
  d.message(step({ vertex: '0:1', status: 'done', elapsedMs: 1600 }));
  d.message(step({ vertex: '1:1', status: 'cached', elapsedMs: 0 }));
  d.finish();
  const final = d.frame(true);
  assert.match(final[0]!, /^\[\+\] Building 1\.5s \(3\/3\) FINISHED$/);
  assert.deepEqual(final.slice(1).map((l) => l.replace(/ +[\d.]+s$/, '')), [' => [a 1/2] FROM busybox', ' => [a 2/2] RUN make', ' => CACHED [b 2/2] RUN sleep 1']);
  // Redraws move the cursor back over the previous frame and clear below it.
  // eslint-disable-next-line no-control-regex -- the cursor-up and erase escapes of the tty renderer
  assert.match(out.text, /\x1b\[\d+A\r\x1b\[J\[\+\] Building/);
});

test('tty: a view taller than the terminal keeps the header and the latest lines', () => {
  const out = new Capture();
  out.rows = 6;
  const d = new BuildDisplay(out, 'tty', { now: () => 0 });
  for (let i = 0; i < 10; i++) d.message(step({ vertex: `0:${i}`, status: 'started', name: `[${i + 1}/10] RUN ${i}`, ts: 0 }));
  const f = d.frame();
  assert.equal(f.length, 5);
  assert.match(f[0]!, /^\[\+\] Building/);
  assert.match(f[4]!, /RUN 9/);
  d.finish();
});
