import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonFor, requireRoot } from './harness.ts';

test('name and length limits as dockerd draws them: 400s with its words, never a runtime failure or a host path', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  // Hostnames: HOST_NAME_MAX is checked at create (dockerd's verifyPlatformContainerSettings), not left to sethostname(2).
  const host = d.docker(['run', '--rm', '-h', 'h'.repeat(65), 'busybox', 'true']);
  assert.equal(host.code, 125, host.stderr);
  assert.match(host.stderr, new RegExp(`Error response from daemon: hostname "h{65}" is too long \\(maximum 64 bytes\\)`));
  assert.equal(d.ok(['run', '--rm', '-h', 'h'.repeat(64), 'busybox', 'hostname']), 'h'.repeat(64));
  // Container and network names have no length limit in dockerd; long ones work end to end.
  const long = 'n'.repeat(300);
  assert.equal(d.docker(['network', 'create', long]).code, 0);
  assert.equal(d.docker(['run', '--rm', '--name', long, '--network', long, 'busybox', 'echo', 'ok']).stdout.trim(), 'ok');
  assert.equal(d.docker(['network', 'rm', long]).code, 0);
  // Tags: at most 128 characters, repository names 255 (distribution/reference).
  assert.match(d.docker(['tag', 'busybox', `repo:${'t'.repeat(129)}`]).stderr, /invalid reference format/);
  assert.match(d.docker(['tag', 'busybox', 'r'.repeat(256)]).stderr, /repository name must not be more than 255 characters/);
  for (const r of [host]) assert.ok(!r.stderr.includes(d.dir), r.stderr);
});
