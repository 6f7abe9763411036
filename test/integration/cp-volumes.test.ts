/**
 * cp sees a running container as the container does: through its volumes and the /etc files
 * berth bind-mounts. A stopped container is seen through its rootfs and its volume and bind
 * mounts, each looked up in its own source so that nothing leads out of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonFor, requireRoot } from './harness.ts';
import { apiRequest } from './api-request.ts';

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

test('archive paths in the volumes and bind mounts of a stopped container: HEAD, GET, PUT, read-only mounts, no way out', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const bind = mkdtempSync(join(tmpdir(), 'berth-cpbind-'));
  t.after(() => rmSync(bind, { recursive: true, force: true }));
  writeFileSync(join(bind, 'b.txt'), 'bound\n');
  // Files, and symlinks that would climb out of the volume if followed from the host's "/".
  d.ok(['run', '--name', 'writer', '-v', 'arvol:/vol1', 'busybox', 'sh', '-c', 'echo in the volume > /vol1/a.txt; mkdir /vol1/links; ln -s / /vol1/links/up; ln -s ../../../../../etc /vol1/links/esc']);
  d.ok(['create', '--name', 'sc', '--read-only', '-v', 'arvol:/vol1', '-v', `${bind}:/bnd`, '-v', 'rovol:/ro:ro', 'busybox', 'true']);
  const stat = async (p: string) => apiRequest(d.socket, 'HEAD', `/containers/sc/archive?path=${encodeURIComponent(p)}`);
  assert.equal((await stat('/vol1')).status, 200);
  assert.equal((await stat('/vol1/a.txt')).status, 200);
  assert.equal((await stat('/bnd/b.txt')).status, 200);
  assert.equal((await stat('/vol1/links/up/etc/passwd')).status, 404, 'a symlink to / stays in the volume');
  assert.equal((await stat('/vol1/links/esc/passwd')).status, 404, 'a climbing symlink stays in the volume');
  assert.equal((await stat('/vol1/../etc/passwd')).status, 200, '".." is cleaned before the mount is chosen: the rootfs file');
  // The docker CLI refuses to unpack such links on its side; they are gone before the whole volume is copied.
  d.ok(['run', '--rm', '-v', 'arvol:/v', 'busybox', 'rm', '-r', '/v/links']);
  const dir = mkdtempSync(join(tmpdir(), 'berth-cpout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  d.ok(['cp', 'sc:/vol1/a.txt', join(dir, 'a.txt')]);
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'in the volume\n');
  const whole = d.docker(['cp', 'sc:/vol1', join(dir, 'vol1')]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(readFileSync(join(dir, 'vol1', 'a.txt'), 'utf8'), 'in the volume\n');
  d.ok(['cp', 'sc:/bnd/b.txt', join(dir, 'b.txt')]);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'bound\n');
  // PUT: into a volume even with a read-only rootfs (as dockerd), never into a read-only mount.
  writeFileSync(join(dir, 'new.txt'), 'copied in\n');
  d.ok(['cp', join(dir, 'new.txt'), 'sc:/vol1/new.txt']);
  assert.equal(d.ok(['run', '--rm', '-v', 'arvol:/v', 'busybox', 'cat', '/v/new.txt']), 'copied in');
  assert.match(d.docker(['cp', join(dir, 'new.txt'), 'sc:/ro/new.txt']).stderr, /mounted volume is marked read-only/);
  assert.match(d.docker(['cp', join(dir, 'new.txt'), 'sc:/new.txt']).stderr, /container rootfs is marked read-only/);
  // A running container sees the same through its own mounts.
  d.ok(['rm', 'sc']);
  d.ok(['run', '-d', '--name', 'rc', '-v', 'arvol:/vol1', 'busybox', 'sleep', '300']);
  assert.equal((await apiRequest(d.socket, 'HEAD', `/containers/rc/archive?path=${encodeURIComponent('/vol1/new.txt')}`)).status, 200);
  d.ok(['rm', '-f', 'rc', 'writer']);
});
