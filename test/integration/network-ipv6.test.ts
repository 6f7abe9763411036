/**
 * Dual-stack bridge networks end to end through the docker CLI: `network create --ipv6 --subnet`,
 * IPv6 addresses on the bridge and in containers (`--ip6` too), ping by address and by name (AAAA
 * from the embedded DNS), a server on the bridge's IPv6 gateway, a port published on IPv6, IPv6
 * turned off on interfaces of IPv4-only networks, connect, a daemon restart, and the ip6 nft
 * objects gone with the network. Traffic goes only to loopback and to this test's own bridge and
 * namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { daemonFor, REPO, requireRoot, type TestDaemon } from './harness.ts';

const QUERY = join(REPO, 'test/integration/fixtures/dns-query.mjs');

function dnsQuery(d: TestDaemon, container: string, name: string, type: string): { rcode: string; answers: string[] } {
  const ns = d.ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', container]);
  const r = spawnSync('nsenter', [`--net=${ns}`, process.execPath, QUERY, '127.0.0.11', name, type], { encoding: 'utf8' });
  return JSON.parse(r.stdout.trim() || '{"rcode":"NOOUTPUT","answers":[]}') as { rcode: string; answers: string[] };
}

/** An HTTP GET with busybox nc inside a container (busybox wget segfaults here). */
function ncGet(d: TestDaemon, container: string, addr: string, port: number): string {
  return d.berth(['exec', container, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${addr} ${port} | tail -n1`]).stdout.trim();
}

/** Polls `fn` until it returns `want` or the deadline passes; returns the last value. */
async function until(fn: () => Promise<string> | string, want: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = await fn();
  while (last !== want && Date.now() < deadline) {
    await sleep(100);
    last = await fn();
  }
  return last;
}

async function fetchText(url: string): Promise<string> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text()).trim();
  } catch (err) {
    return `error: ${String((err as Error).cause ?? err)}`;
  }
}

test('dual-stack bridge networks through the docker CLI', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const docker = (args: string[]): string => {
    const r = d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  // A random ULA /64 (never the host's own fd00::/64).
  const prefix = `fd${randomBytes(1).toString('hex')}:${randomInt(0x1000, 0xffff).toString(16)}::`;
  const gw6 = `${prefix}1`;
  const id = docker(['network', 'create', '--ipv6', '--subnet', `${prefix}/64`, 'v6net']);
  const bridgeOf = (): string => (spawnSync('ip', ['-o', '-6', 'addr', 'show'], { encoding: 'utf8' }).stdout.split('\n')
    .find((l) => l.includes(` ${gw6}/64 `)) ?? '').split(/\s+/)[1] ?? '';

  await t.test('create: EnableIPv6, both pools in IPAM.Config, the gateway on our bridge, ip6 chains', () => {
    const n = JSON.parse(docker(['network', 'inspect', 'v6net']))[0] as { EnableIPv6: boolean; IPAM: { Config: { Subnet: string; Gateway: string }[] } };
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config[1], { Subnet: `${prefix}/64`, Gateway: gw6 });
    assert.match(n.IPAM.Config[0]!.Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.ok(bridgeOf().startsWith(d.ifPrefix), `gateway ${gw6} on ${bridgeOf()}`);
    const table6 = spawnSync('nft', ['list', 'table', 'ip6', d.prefix], { encoding: 'utf8' }).stdout;
    assert.match(table6, new RegExp(`chain n-${id.slice(0, 12)}-out \\{`));
    assert.ok(table6.includes(`${prefix}/64 : jump n-${id.slice(0, 12)}-masq`), table6);
    // Without an IPv6 subnet or an IPv6 default-address-pool there is nothing to take one from (dockerd 27).
    const none = d.docker(['network', 'create', '--ipv6', 'nopool']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /all predefined address pools have been fully subnetted/);
  });

  await t.test('containers get IPv6 addresses, ping each other by address and by name (AAAA)', () => {
    docker(['run', '-d', '--name', 'alpha', '--network', 'v6net', 'busybox', 'sleep', '1000']);
    docker(['run', '-d', '--name', 'beta', '--network', 'v6net', '--ip6', `${prefix}99`, 'busybox', 'sleep', '1000']);
    const net = JSON.parse(docker(['inspect', '-f', '{{json .NetworkSettings.Networks.v6net}}', 'alpha'])) as Record<string, unknown>;
    assert.deepEqual([net['GlobalIPv6Address'], net['IPv6Gateway'], net['GlobalIPv6PrefixLen']], [`${prefix}2`, gw6, 64]);
    assert.match(docker(['exec', 'alpha', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet6 ${prefix}2/64 scope global`));
    assert.equal(docker(['exec', 'alpha', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']), '0');
    assert.match(docker(['exec', 'alpha', 'ip', '-6', 'route']), new RegExp(`default via ${gw6} dev eth0`));
    assert.match(docker(['exec', 'alpha', 'ping6', '-c1', '-W2', `${prefix}99`]), /1 packets received/);
    assert.deepEqual(dnsQuery(d, 'alpha', 'beta', 'AAAA'), { rcode: 'NOERROR', answers: [`${prefix}99`] });
    assert.match(docker(['exec', 'alpha', 'ping6', '-c1', '-W2', 'beta']), new RegExp(`PING beta \\(${prefix}99\\)[\\s\\S]*1 packets received`));
    assert.match(docker(['exec', 'alpha', 'cat', '/etc/hosts']), new RegExp(`^${prefix}2\\t`, 'm'));
    const members = JSON.parse(docker(['network', 'inspect', 'v6net']))[0].Containers as Record<string, { Name: string; IPv6Address: string }>;
    assert.deepEqual(Object.values(members).map((m) => [m.Name, m.IPv6Address]).sort(), [['alpha', `${prefix}2/64`], ['beta', `${prefix}99/64`]]);
  });

  await t.test('a container reaches a server on the bridge\'s IPv6 gateway', async () => {
    const port = randomInt(20000, 29000);
    const js = `require('http').createServer((q, s) => s.end('gw6 ok\\n')).listen(${port}, '${gw6}', () => console.log('ready'))`;
    const server = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => { server.kill(); });
    await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));
    assert.equal(await until(() => ncGet(d, 'alpha', gw6, port), 'gw6 ok'), 'gw6 ok');
  });

  await t.test('a published port answers on IPv6 as on IPv4; ::1 is refused with a reason', async () => {
    const port = randomInt(30000, 31000);
    docker(['run', '-d', '--name', 'web', '--network', 'v6net', '-p', `${port}:80`, 'busybox', 'sh', '-c',
      'mkdir -p /www && echo v6web > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.deepEqual(JSON.parse(docker(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web'])),
      { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }, { HostIp: '::', HostPort: String(port) }] });
    assert.equal(docker(['port', 'web', '80']).split('\n').sort().join(','), `0.0.0.0:${port},[::]:${port}`);
    assert.equal(await until(() => fetchText(`http://[${gw6}]:${port}/`), 'v6web'), 'v6web');
    assert.equal(await fetchText(`http://127.0.0.1:${port}/`), 'v6web');
    // A container reaching the published port through the host's IPv6 address on the bridge (hairpin).
    assert.equal(ncGet(d, 'alpha', gw6, port), 'v6web');
    const lo = d.docker(['run', '--rm', '--network', 'v6net', '-p', `[::1]:${port + 1}:80`, 'busybox', 'true']);
    assert.notEqual(lo.code, 0);
    assert.match(lo.stderr, /cannot publish on ::1: IPv6 loopback traffic cannot be forwarded to a container/);
  });

  await t.test('IPv6 is off on interfaces of IPv4-only networks, on again for a connected IPv6 network', () => {
    docker(['run', '-d', '--name', 'v4', 'busybox', 'sleep', '1000']);
    assert.equal(docker(['exec', 'v4', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']), '1');
    assert.doesNotMatch(docker(['exec', 'v4', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']), /inet6/);
    // As dockerd: loopback keeps ::1 and `all` stays 0; only the interfaces are switched off.
    assert.match(docker(['exec', 'v4', 'ip', '-6', 'addr', 'show', 'dev', 'lo']), /inet6 ::1\/128/);
    assert.equal(docker(['exec', 'v4', 'cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6']), '0');
    assert.equal(d.docker(['run', '--rm', 'busybox', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']).stdout.trim(), '1');
    docker(['network', 'connect', '--ip6', `${prefix}77`, 'v6net', 'v4']);
    assert.equal(docker(['exec', 'v4', 'cat', '/proc/sys/net/ipv6/conf/eth1/disable_ipv6']), '0');
    assert.match(docker(['exec', 'v4', 'ip', '-6', 'addr', 'show', 'dev', 'eth1']), new RegExp(`inet6 ${prefix}77/64`));
    assert.match(docker(['exec', 'v4', 'ping6', '-c1', '-W2', `${prefix}2`]), /1 packets received/);
    assert.equal(docker(['exec', 'v4', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']), '1');
  });

  await t.test('a restarted daemon keeps the bridge\'s and the containers\' IPv6 addresses', async () => {
    await d.stop();
    await d.start();
    assert.ok(bridgeOf().startsWith(d.ifPrefix));
    assert.match(docker(['exec', 'alpha', 'ping6', '-c1', '-W2', 'beta']), /1 packets received/);
    docker(['run', '-d', '--name', 'gamma', '--network', 'v6net', 'busybox', 'sleep', '1000']);
    const c6 = docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "v6net").GlobalIPv6Address}}', 'gamma']);
    assert.ok(![`${prefix}2`, `${prefix}99`, `${prefix}77`].includes(c6) && c6.startsWith(prefix), c6);
  });

  await t.test('removal takes the bridge and the ip6 chains with it', () => {
    docker(['rm', '-f', 'alpha', 'beta', 'gamma', 'web', 'v4']);
    docker(['network', 'rm', 'v6net']);
    assert.equal(bridgeOf(), '');
    assert.doesNotMatch(spawnSync('nft', ['list', 'table', 'ip6', d.prefix], { encoding: 'utf8' }).stdout, /n-|c-/);
  });
});

test('a dual-stack network whose create a crash cut short is swept from the ip6 table too, and its IPv6 subnet can be used again', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const prefix = `fd${randomBytes(1).toString('hex')}:${randomInt(0x1000, 0xffff).toString(16)}::`;
  const id = d.ok(['network', 'create', '--ipv6', '--subnet', `${prefix}/64`, 'half6']);
  await d.stop('SIGKILL');
  // What a kill between the nft batches and the row leaves: bridge, chains and elements in both tables, no row.
  const db = new Database(join(d.dataRoot, 'berth.db'));
  db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  db.close();
  const table6 = () => spawnSync('nft', ['list', 'table', 'ip6', d.prefix], { encoding: 'utf8' }).stdout;
  assert.match(table6(), new RegExp(`n-${id.slice(0, 12)}-masq`));
  await d.start();
  assert.doesNotMatch(table6(), new RegExp(`n-${id.slice(0, 12)}|${prefix}`), 'ip6 chains and map elements swept');
  const again = d.docker(['network', 'create', '--ipv6', '--subnet', `${prefix}/64`, 'again6']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(d.ok(['run', '--rm', '--network', 'again6', 'busybox', 'sh', '-c', `ip -6 -o addr show eth0 | grep -o '${prefix}[0-9a-f]*/64'`]), `${prefix}2/64`);
  d.ok(['network', 'rm', 'again6']);
});

test('daemon --ipv6 --fixed-cidr-v6: the default bridge is dual-stack, addresses from the MAC as dockerd 27', async (t) => {
  if (!requireRoot(t)) return;
  const prefix = `fd${randomBytes(1).toString('hex')}:${randomInt(0x1000, 0xffff).toString(16)}::`;
  const d = await daemonFor(t, { extraArgs: ['--ipv6', '--fixed-cidr-v6', `${prefix}/64`] });
  const bridge = JSON.parse(d.ok(['network', 'inspect', 'bridge']))[0] as { EnableIPv6: boolean; IPAM: { Config: { Subnet: string }[] } };
  assert.equal(bridge.EnableIPv6, true);
  assert.deepEqual(bridge.IPAM.Config.map((c) => c.Subnet).slice(1), [`${prefix}/64`]);
  const port = randomInt(31000, 32000);
  d.ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo bridge6 > /www/index.html && exec httpd -f -p 80 -h /www']);
  const [ip, mac, ip6, gw6] = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.MacAddress}} {{.NetworkSettings.GlobalIPv6Address}} {{.NetworkSettings.IPv6Gateway}}', 'web']).split(' ');
  assert.match(ip!, /^\d+\.\d+\.\d+\.\d+$/);
  const m = mac!.split(':');
  assert.equal(ip6, `${prefix}${m.slice(0, 2).join('').replace(/^0+/, '')}:${m.slice(2, 4).join('').replace(/^0+/, '') || '0'}:${m.slice(4, 6).join('').replace(/^0+/, '') || '0'}`);
  assert.equal(gw6, `${prefix}1`);
  assert.match(d.ok(['exec', 'web', 'ping6', '-c1', '-W2', gw6!]), /1 packets received/);
  assert.equal(await until(() => fetchText(`http://[${gw6}]:${port}/`), 'bridge6'), 'bridge6');
  d.ok(['rm', '-f', 'web']);
});
