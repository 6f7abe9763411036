// Bridges, network namespaces and veths made for real (root). The command text is tested in
// src/network/link.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from '../../src/lib/exec.ts';
import { kindOf } from '../../src/lib/errors.ts';
import { recordTestObjects, requireRoot } from '../../src/lib/test-support.ts';
import { createBridge, createEndpoint, parseLinkNames, removeEndpoint, removeLink } from '../../src/network/link.ts';
import { netnsMounts, removeNetns } from '../../src/network/netns.ts';
import { formatIPv4, parseCidr, parseHostRoutes, pickDefaultSubnet } from '../../src/network/ipam.ts';

test('bridge + netns + veth for real: ping the namespace, then tear down without leftovers', async (t) => {
  if (!requireRoot(t)) return;
  const tag = randomBytes(3).toString('hex');
  const bridge = `bt${tag}`;
  const hostVeth = `bt${tag}v0`;
  const dir = await mkdtemp(join(tmpdir(), `berth-link-${tag}-`));
  recordTestObjects({ linkPrefixes: [bridge], dirs: [dir] });
  const nsPath = join(dir, 'ns');
  const deps = { exec: execFile };
  t.after(async () => {
    await removeEndpoint(deps, nsPath, hostVeth).catch(() => undefined);
    await removeLink(deps, bridge).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  // A /24 nobody on this host routes to (parallel tests pick their own random one).
  const routes = parseHostRoutes((await execFile('ip', ['-j', 'route'])).stdout);
  const subnet = pickDefaultSubnet({ pools: [{ base: `10.${randomInt(100, 250)}.0.0/16`, size: 24 }], hostRoutes: routes });
  const net = parseCidr(subnet).network;
  const gw = formatIPv4(net + 1);
  const addr = formatIPv4(net + 2);

  await createBridge(deps, { name: bridge, address: `${gw}/24` });
  await assert.rejects(createBridge(deps, { name: bridge, address: `${gw}/24` }), (e) => kindOf(e) === 'Conflict');
  await createEndpoint(deps, nsPath, bridge, { hostVeth, address: `${addr}/24`, gateway: gw });

  const inside = await execFile('nsenter', [`--net=${nsPath}`, 'ip', '-o', 'addr', 'show', 'eth0']);
  assert.match(inside.stdout, new RegExp(`inet ${addr.replace(/\./g, '\\.')}/24`));
  const route = await execFile('nsenter', [`--net=${nsPath}`, 'ip', 'route', 'show', 'default']);
  assert.match(route.stdout, new RegExp(`default via ${gw.replace(/\./g, '\\.')} dev eth0`));
  const lo = await execFile('nsenter', [`--net=${nsPath}`, 'ip', '-o', 'link', 'show', 'lo']);
  assert.match(lo.stdout, /UP/);

  const ping = await execFile('/bin/busybox', ['ping', '-c1', '-W1', addr]);
  assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);

  // A second endpoint reusing the veth name fails with nothing left behind.
  const nsPath2 = join(dir, 'ns2');
  await assert.rejects(createEndpoint(deps, nsPath2, bridge, { hostVeth, address: `${formatIPv4(net + 3)}/24` }), (e) => kindOf(e) === 'Conflict');
  assert.deepEqual((await readdir(dir)).sort(), ['ns']);

  await removeEndpoint(deps, nsPath, hostVeth);
  await removeEndpoint(deps, nsPath, hostVeth); // idempotent
  await removeLink(deps, bridge);
  await removeLink(deps, bridge);
  await removeNetns(deps, nsPath2);

  const links = parseLinkNames((await execFile('ip', ['-o', 'link'])).stdout);
  assert.deepEqual(links.filter((l) => l.startsWith(`bt${tag}`)), []);
  const mounts = netnsMounts(await readFile('/proc/self/mountinfo', 'utf8'));
  assert.deepEqual(mounts.filter((m) => m.startsWith(dir)), []);
  assert.deepEqual(await readdir(dir), []);
});
