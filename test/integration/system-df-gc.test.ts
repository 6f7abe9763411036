/**
 * system df (through berth and the docker CLI), berth system gc against planted orphans, and
 * system prune / container prune removing only what is unused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonFor, requireRoot } from './harness.ts';

test('system df, system gc and prune', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['run', '-d', '--name', 'live', '-v', 'dfvol:/data', 'busybox', 'sleep', '300']);
  d.ok(['run', '--name', 'done', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/blob bs=1k count=200 2>/dev/null']);

  await t.test('df: docker\'s four rows match the docker CLI; logs and orphans are berth\'s extra rows', () => {
    const ours = d.ok(['system', 'df']).split('\n');
    const theirs = d.docker(['system', 'df']).stdout.trim().split('\n');
    assert.equal(theirs.length, 5);
    // Same numbers; the column padding differs only by the wider TYPE column of our extra rows.
    const cells = (l: string) => l.trim().split(/\s{2,}/);
    assert.deepEqual(ours.slice(0, 5).map(cells), theirs.map(cells));
    assert.match(ours[2]!, /^Containers\s+2\s+1\s+20\d\.\dkB\s+20\d\.\dkB \(100%\)$/);
    assert.match(ours[5]!, /^Container Logs\s+2\s+2\s/);
    assert.match(ours[6]!, /^Orphaned Data\s+0\s+0\s+0B\s+0B$/);
    assert.match(d.ok(['system', 'df', '-v']), /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndfvol\s+1\s+\d+B/);
    assert.equal(d.ok(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}']).split('\n')[0], 'Images=1');
    assert.equal(d.ok(['ps', '-a', '--filter', 'volume=dfvol', '--format', '{{.Names}}']), 'live');
    assert.equal(d.ok(['ps', '-a', '--filter', 'volume=/data', '--format', '{{.Names}}']), 'live');
  });

  await t.test('gc: planted orphans are listed, removed and reported; live data is untouched', () => {
    const old = new Date(Date.now() - 3_600_000);
    const plant = (dir: string, bytes: number) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'f'), Buffer.alloc(bytes));
      utimesSync(join(dir, 'f'), old, old);
      utimesSync(dir, old, old);
    };
    const ghost = 'e'.repeat(64);
    plant(join(d.dataRoot, 'containers', ghost), 4000);
    plant(join(d.dataRoot, 'overlay', 'containers', ghost), 6000);
    plant(join(d.dataRoot, 'overlay', 'layers', 'd'.repeat(64)), 5000);
    assert.match(d.ok(['system', 'df']), /Orphaned Data\s+3\s+0\s+15kB\s+15kB \(100%\)/);
    const dry = d.ok(['system', 'gc', '--dry-run']);
    assert.match(dry, /would remove container-data .*containers\/e{64} \(4kB\)/);
    assert.match(dry, /Total reclaimable space: 15kB/);
    assert.ok(existsSync(join(d.dataRoot, 'containers', ghost)), 'dry run removes nothing');
    const real = d.ok(['system', 'gc']);
    assert.match(real, /removed container-snapshot .*overlay\/containers\/e{64}/);
    assert.match(real, /removed layer .*overlay\/layers\/d{64}/);
    assert.match(real, /Total reclaimed space: 15kB/);
    assert.ok(!existsSync(join(d.dataRoot, 'containers', ghost)));
    assert.match(d.ok(['system', 'gc']), /Nothing to collect/);
    assert.equal(d.ok(['exec', 'live', 'echo', 'still here']), 'still here');
    assert.equal(d.ok(['run', '--rm', 'busybox', 'echo', 'images intact']), 'images intact');
  });

  await t.test('container prune and system prune remove only unused objects', () => {
    d.ok(['network', 'create', 'unused-net']);
    d.ok(['run', '-d', '--name', 'anon', '-v', '/anon', 'busybox', 'true']);
    d.ok(['wait', 'anon']);
    const cp = d.berth(['container', 'prune'], 'n\n');
    assert.equal(cp.code, 0);
    assert.match(cp.stdout, /WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\] $/);
    assert.equal(d.ok(['ps', '-aq']).split('\n').length, 3, 'nothing removed on "n"');
    const sp = d.ok(['system', 'prune', '-f', '--volumes']);
    assert.match(sp, /Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\n/);
    assert.match(sp, /Deleted Networks:\nunused-net\n/);
    assert.match(sp, /Deleted Volumes:\n[0-9a-f]{64}\n/);
    assert.match(sp, /Total reclaimed space: 20\d\.\dkB/);
    assert.deepEqual(d.ok(['ps', '-a', '--format', '{{.Names}}']).split('\n'), ['live']);
    assert.equal(d.ok(['volume', 'ls', '-q']), 'dfvol');
    d.ok(['rm', '-f', 'live']);
  });
});
