/**
 * Root-only end-to-end check of the building blocks together: a bridge, a namespace running
 * busybox httpd, and this module's nft batches publishing its port on 127.0.0.1 and on the
 * bridge's own address. Only addresses created here are contacted; everything is removed in
 * t.after (table, links, namespace, server process, temp dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from '../../src/lib/exec.ts';
import { recordTestObjects, requireRoot, waitFor } from '../../src/lib/test-support.ts';
import { createBridge, createEndpoint, removeEndpoint, removeLink } from '../../src/network/link.ts';
import { formatIPv4, parseCidr, parseHostRoutes, pickDefaultSubnet } from '../../src/network/ipam.ts';
import { addContainerBatch, addNetworkBatch, deleteTableBatch, requiredSysctls, setupTableBatch } from '../../src/network/nft.ts';
import { fromPortMap, groupRanges, parsePortSpec, toPortMap } from '../../src/network/ports.ts';

test('published ports reach a server in a namespace via 127.0.0.1 and a host address', async (t) => {
  if (!requireRoot(t)) return;
  const tag = randomBytes(3).toString('hex');
  const bridge = `bt${tag}`;
  const hostVeth = `bt${tag}v0`;
  const table = `berthtest-${tag}`;
  const dir = await mkdtemp(join(tmpdir(), `berth-pub-${tag}-`));
  recordTestObjects({ linkPrefixes: [bridge], tables: [table], dirs: [dir] });
  const nsPath = join(dir, 'ns');
  const deps = { exec: execFile };
  let server: ReturnType<typeof spawn> | undefined;
  t.after(async () => {
    server?.kill('SIGKILL');
    await execFile('nft', ['-f', '-'], { input: deleteTableBatch(table) });
    await removeEndpoint(deps, nsPath, hostVeth).catch(() => undefined);
    await removeLink(deps, bridge).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const routes = parseHostRoutes((await execFile('ip', ['-j', 'route'])).stdout);
  const subnet = pickDefaultSubnet({ pools: [{ base: `10.${randomInt(100, 250)}.0.0/16`, size: 24 }], hostRoutes: routes });
  const net = parseCidr(subnet).network;
  const gw = formatIPv4(net + 1);
  const addr = formatIPv4(net + 2);
  await createBridge(deps, { name: bridge, address: `${gw}/24` });
  await createEndpoint(deps, nsPath, bridge, { hostVeth, address: `${addr}/24`, gateway: gw });

  const www = join(dir, 'www');
  await (await import('node:fs/promises')).mkdir(www);
  await writeFile(join(www, 'index.html'), `hello ${tag}\n`);
  server = spawn('nsenter', [`--net=${nsPath}`, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });

  const hostPort = randomInt(20000, 30000);
  const mappings = [...parsePortSpec(`127.0.0.1:${hostPort}:80`), ...parsePortSpec(`${gw}:${hostPort + 1}:80`)];
  const assigned = toPortMap(mappings);
  const nftNet = { id: tag, bridge, subnet, internal: false };
  for (const s of requiredSysctls(nftNet, { localhostPorts: true })) {
    // ip_forward is host-wide and not needed for host-local traffic: only set the per-bridge knob.
    if (s.path.includes(`/${bridge}/`)) await writeFile(s.path, s.value);
  }
  assert.equal(await readFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, 'utf8'), '1\n');
  for (const batch of [setupTableBatch(table), addNetworkBatch(table, nftNet) + addContainerBatch(table, { id: tag, ip: addr, ports: groupRanges(fromPortMap(assigned)) })]) {
    const r = await execFile('nft', ['-f', '-'], { input: batch });
    assert.equal(r.exitCode, 0, r.stderr);
  }

  const get = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
  // httpd binds its socket a moment after it starts: wait for it directly, then every route at once.
  await waitFor('httpd in the namespace to listen', () => get(`http://${addr}:80/`).catch(() => ''));
  assert.equal(await get(`http://${addr}:80/`), `hello ${tag}\n`);
  assert.equal(await get(`http://127.0.0.1:${hostPort}/`), `hello ${tag}\n`);
  assert.equal(await get(`http://${gw}:${hostPort + 1}/`), `hello ${tag}\n`);
});
