/**
 * cp sees a running container as the container does: through its volumes and the /etc files
 * berth bind-mounts. A stopped container is seen through its rootfs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonFor, requireRoot } from './harness.ts';

test('cp into and out of a volume and the bind-mounted /etc files of a running container', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = mkdtempSync(join(tmpdir(), 'berth-cpvol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  d.ok(['run', '-d', '--name', 'vc', '-v', 'cpvol:/data', 'busybox', 'sleep', '300']);
  writeFileSync(join(dir, 'in.txt'), 'into the volume\n');
  d.ok(['cp', join(dir, 'in.txt'), 'vc:/data/in.txt']);
  assert.equal(d.ok(['exec', 'vc', 'cat', '/data/in.txt']), 'into the volume');
  d.ok(['exec', 'vc', 'sh', '-c', 'echo from the volume > /data/out.txt']);
  d.ok(['cp', 'vc:/data/out.txt', join(dir, 'out.txt')]);
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'from the volume\n');
  const ip = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'vc']);
  d.ok(['cp', 'vc:/etc/hosts', join(dir, 'hosts')]);
  assert.match(readFileSync(join(dir, 'hosts'), 'utf8'), new RegExp(`^${ip.replace(/\./g, '\\.')}\\t`, 'm'));
  // The docker CLI goes the same way.
  assert.equal(d.docker(['cp', join(dir, 'in.txt'), 'vc:/data/again.txt']).code, 0);
  assert.equal(d.ok(['exec', 'vc', 'cat', '/data/again.txt']), 'into the volume');
  // The data is in the volume, not hidden under it in the container's own layer.
  d.ok(['rm', '-f', 'vc']);
  assert.equal(d.ok(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/in.txt', '/v/again.txt']), 'into the volume\ninto the volume');
  d.ok(['volume', 'rm', 'cpvol']);
});
