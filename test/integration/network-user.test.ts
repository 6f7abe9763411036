/**
 * User-defined networks end to end: create/ls/inspect/rm/prune through berth and docker, bad
 * input changing nothing, and the embedded DNS — names, aliases and short IDs resolved between
 * containers at 127.0.0.11 and at the gateway, forwarding to the host's (here: a fake, loopback)
 * resolver over UDP and TCP and following changes to its resolv.conf, isolation between networks,
 * --internal, connect/disconnect on running containers, and a daemon restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonFor, REPO, requireRoot, waitFor, type TestDaemon } from './harness.ts';

const QUERY = join(REPO, 'test/integration/fixtures/dns-query.mjs');

/**
 * A resolver on a loopback address (as systemd-resolved is), in its own process: the test's own
 * event loop is blocked while it runs the CLI. Answers *.upstream.test with `ip`.
 */
async function fakeUpstream(address: string, ip: string): Promise<{ readonly queries: number; close(): void }> {
  const child = spawn(process.execPath, [join(REPO, 'test/integration/fixtures/fake-resolver.mjs'), address, ip], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`fake resolver exited ${code}`)));
  });
  return { get queries() { return out.split('\n').filter((l) => l.startsWith('query ')).length; }, close: () => child.kill() };
}

/** One DNS query from inside a container's network namespace. */
function query(d: TestDaemon, container: string, name: string, opts: { server?: string; type?: string; transport?: string } = {}): { rcode: string; answers: string[] } {
  const ns = d.ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', container]);
  const r = spawnSync('nsenter', [`--net=${ns}`, process.execPath, QUERY, opts.server ?? '127.0.0.11', name, opts.type ?? 'A', opts.transport ?? 'udp'], { encoding: 'utf8' });
  return JSON.parse(r.stdout.trim() || '{"rcode":"NOOUTPUT","answers":[]}') as { rcode: string; answers: string[] };
}

test('user-defined networks: CLI, embedded DNS, isolation, connect/disconnect', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'berth-dns-'));
  const upstreamAddr = `127.53.${randomInt(1, 250)}.${randomInt(1, 250)}`;
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${upstreamAddr}\n`);
  const upstream = await fakeUpstream(upstreamAddr, '203.0.113.7');
  t.after(() => { upstream.close(); rmSync(dir, { recursive: true, force: true }); });
  const d = await daemonFor(t, { extraArgs: ['--host-resolv-conf', resolvConf] });
  const oct = randomInt(10, 250);
  const subnet = `10.${oct}.7.0/24`;

  await t.test('create, ls, inspect, bad input changes nothing', () => {
    const id = d.ok(['network', 'create', '--subnet', subnet, '--gateway', `10.${oct}.7.254`, '--ip-range', `10.${oct}.7.128/25`,
      '--label', 'team=blue', '--attachable', 'appnet']);
    assert.match(id, /^[0-9a-f]{64}$/);
    const inspect = JSON.parse(d.ok(['network', 'inspect', 'appnet'])) as { Name: string; Driver: string; IPAM: { Config: { Subnet: string; Gateway: string; IPRange: string }[] }; Labels: Record<string, string>; Attachable: boolean }[];
    assert.deepEqual(inspect[0]!.IPAM.Config[0], { Subnet: subnet, Gateway: `10.${oct}.7.254`, IPRange: `10.${oct}.7.128/25` });
    assert.equal(inspect[0]!.Driver, 'bridge');
    assert.deepEqual(inspect[0]!.Labels, { team: 'blue' });
    assert.equal(inspect[0]!.Attachable, true);
    d.ok(['network', 'create', '--internal', 'backnet']);
    const names = d.docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['appnet bridge', 'backnet bridge', 'bridge bridge', 'host host', 'none null']);
    assert.equal(d.ok(['network', 'ls', '-q', '--filter', 'label=team=blue']), id.slice(0, 12));
    assert.deepEqual(d.ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']).split('\n').sort(), ['appnet', 'backnet']);

    const before = d.ok(['network', 'ls', '-q']);
    const bad = (args: string[], pattern: RegExp) => {
      const r = d.berth(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern, args.join(' '));
    };
    bad(['network', 'create', '--subnet', `10.${oct}.7.0/25`, 'overlap'], /Pool overlaps with other one on this address space/);
    bad(['network', 'create', '--subnet', `10.${oct}.8.0/24`, '--gateway', `10.${oct}.9.1`, 'badgw'], /no matching subnet for gateway/);
    bad(['network', 'create', 'appnet'], /network with name appnet already exists/);
    bad(['network', 'create', '-d', 'overlay2x', 'nodriver'], /plugin/);
    bad(['network', 'rm', 'bridge'], /pre-defined network and cannot be removed/);
    bad(['network', 'inspect', 'nosuchnet'], /network nosuchnet not found/);
    const run = d.berth(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    assert.equal(run.code, 125);
    assert.match(run.stderr, /network nosuchnet not found/);
    bad(['run', '--rm', '--ip', '172.17.0.99', 'busybox', 'true'], /user specified IP address is supported on user defined networks only/);
    bad(['run', '--rm', '--network', 'appnet', '--ip', '10.255.0.9', 'busybox', 'true'], /no configured subnet or ip-range contain the IP address 10\.255\.0\.9/);
    assert.equal(d.ok(['network', 'ls', '-q']), before);
    assert.equal(d.ok(['ps', '-aq']), '');
  });

  await t.test('names, aliases and short IDs resolve; other networks do not', () => {
    d.ok(['run', '-d', '--name', 'db', '--network', 'appnet', '--network-alias', 'database', '--ip', `10.${oct}.7.50`, 'busybox', 'sleep', '300']);
    const dbId = d.ok(['inspect', '-f', '{{.Id}}', 'db']);
    d.ok(['run', '-d', '--name', 'app', '--network', 'appnet', 'busybox', 'sleep', '300']);
    assert.equal(d.ok(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'db']), `10.${oct}.7.50`);
    // Allocation comes from --ip-range.
    assert.match(d.ok(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'app']), new RegExp(`^10\\.${oct}\\.7\\.(1[2-9]\\d|2[0-4]\\d|25[0-3])$`));
    assert.equal(d.ok(['exec', 'app', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    for (const name of ['db', 'database', dbId.slice(0, 12), 'DB.']) {
      assert.deepEqual(query(d, 'app', name), { rcode: 'NOERROR', answers: [`10.${oct}.7.50`] }, name);
    }
    assert.deepEqual(query(d, 'app', 'db', { server: `10.${oct}.7.254` }), { rcode: 'NOERROR', answers: [`10.${oct}.7.50`] }, 'at the gateway');
    assert.deepEqual(query(d, 'app', 'db', { transport: 'tcp' }), { rcode: 'NOERROR', answers: [`10.${oct}.7.50`] }, 'over TCP');
    assert.match(d.ok(['exec', 'app', 'ping', '-c1', '-W2', 'database']), /1 packets received/);
    // busybox's resolver inside the container, through /etc/resolv.conf.
    assert.match(d.ok(['exec', 'app', 'nslookup', 'db']), new RegExp(`Address: 10\\.${oct}\\.7\\.50`));
    // Another network: the name is unknown there, and the address unreachable.
    d.ok(['network', 'create', 'othernet']);
    d.ok(['run', '-d', '--name', 'stranger', '--network', 'othernet', 'busybox', 'sleep', '300']);
    assert.equal(query(d, 'stranger', 'db').answers.length, 0);
    assert.notEqual(d.berth(['exec', 'stranger', 'ping', '-c1', '-W1', `10.${oct}.7.50`]).code, 0);
    // The docker CLI sees the same network.
    const members = JSON.parse(d.docker(['network', 'inspect', '-f', '{{json .Containers}}', 'appnet']).stdout) as Record<string, { Name: string; IPv4Address: string }>;
    assert.deepEqual(Object.values(members).map((m) => m.Name).sort(), ['app', 'db']);
    assert.equal(members[dbId]!.IPv4Address, `10.${oct}.7.50/24`);
  });

  await t.test('unknown names go to the host resolvers over UDP and TCP; resolv.conf changes are followed', async () => {
    assert.deepEqual(query(d, 'app', 'www.upstream.test'), { rcode: 'NOERROR', answers: ['203.0.113.7'] });
    assert.deepEqual(query(d, 'app', 'tcp.upstream.test', { transport: 'tcp' }), { rcode: 'NOERROR', answers: ['203.0.113.7'] });
    assert.equal(query(d, 'app', 'nothing.example').rcode, 'NXDOMAIN');
    // The upstream (another process) reports each query on its stdout: counted as its lines arrive.
    await waitFor('the upstream to report 3 queries', () => upstream.queries >= 3);
    // Replaced by rename, as resolvconf and NetworkManager do: a second upstream takes over.
    const second = `127.54.${randomInt(1, 250)}.${randomInt(1, 250)}`;
    const up2 = await fakeUpstream(second, '203.0.113.8');
    try {
      // A container's own --dns servers are its upstreams; 127.0.0.11 stays its nameserver.
      d.ok(['run', '-d', '--name', 'owndns', '--network', 'appnet', '--dns', second, 'busybox', 'sleep', '300']);
      assert.equal(d.ok(['exec', 'owndns', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
      assert.deepEqual(query(d, 'owndns', 'own.upstream.test').answers, ['203.0.113.8']);
      assert.deepEqual(query(d, 'app', 'own.upstream.test').answers, ['203.0.113.7']);
      d.ok(['rm', '-f', 'owndns']);
      writeFileSync(`${resolvConf}.new`, `nameserver ${second}\n`);
      renameSync(`${resolvConf}.new`, resolvConf);
      // Each poll asks a new name, so no cached answer hides the switch.
      let i = 0;
      await waitFor('the new host upstream to answer', () => query(d, 'app', `n${i++}.upstream.test`).answers[0] === '203.0.113.8');
    } finally {
      up2.close();
    }
  });

  await t.test('connect and disconnect a running container; removal stops resolving at once', () => {
    d.ok(['network', 'connect', '--alias', 'bridgehead', '--ip', `10.${oct}.7.60`, 'appnet', 'stranger']);
    assert.equal(d.ok(['exec', 'stranger', 'sh', '-c', 'ip -o -4 addr show eth1 | grep -o "inet [0-9.]*"']), `inet 10.${oct}.7.60`);
    assert.deepEqual(query(d, 'app', 'bridgehead'), { rcode: 'NOERROR', answers: [`10.${oct}.7.60`] });
    assert.deepEqual(query(d, 'stranger', 'db').answers, [`10.${oct}.7.50`]);
    const twice = d.docker(['network', 'connect', 'appnet', 'stranger']);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /already exists in network appnet/);
    d.ok(['network', 'disconnect', 'appnet', 'stranger']);
    assert.equal(query(d, 'app', 'bridgehead').answers.length, 0);
    assert.notEqual(d.berth(['network', 'disconnect', 'appnet', 'stranger']).code, 0);
    assert.match(d.berth(['network', 'rm', 'appnet']).stderr, /has active endpoints/);
    d.ok(['rm', '-f', 'db']);
    assert.equal(query(d, 'app', 'db').answers.length, 0);
    assert.equal(query(d, 'app', 'database').answers.length, 0);
  });

  await t.test('--internal: neighbours reachable, no route out', () => {
    d.ok(['run', '-d', '--name', 'in1', '--network', 'backnet', 'busybox', 'sleep', '300']);
    d.ok(['run', '-d', '--name', 'in2', '--network', 'backnet', 'busybox', 'sleep', '300']);
    assert.match(d.ok(['exec', 'in2', 'ping', '-c1', '-W2', 'in1']), /1 packets received/);
    assert.equal(d.ok(['exec', 'in1', 'ip', 'route']).includes('default'), false);
    const gw = d.ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
    assert.notEqual(d.berth(['exec', 'in1', 'ping', '-c1', '-W1', gw]).code, 0);
  });

  await t.test('a restarted daemon keeps addresses and names', async () => {
    const ip = d.ok(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'app']);
    await d.stop('SIGKILL');
    await d.start();
    assert.equal(d.ok(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'app']), ip);
    assert.deepEqual(query(d, 'in2', 'in1').answers.length, 1);
    d.ok(['rm', '-f', 'app', 'stranger', 'in1', 'in2']);
    assert.deepEqual(d.ok(['network', 'prune', '-f']).split('\n').filter((l) => !/Deleted Networks/.test(l) && l).sort(), ['appnet', 'backnet', 'othernet']);
  });
});
