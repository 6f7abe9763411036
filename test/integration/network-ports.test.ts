// Published ports on the default bridge, observed from outside: traffic from the host (loopback,
// the bridge gateway, a dummy host address), from another container and from a "remote host"
// namespace; `port`, `ps` and `inspect` through berth and docker 28; Docker's errors for taken
// ports and malformed specs; rules dropped on stop and kept while berthd is down.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { daemonFor, REPO, requireRoot, type TestDaemon } from './harness.ts';

const rnd = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A host command that must succeed; trimmed stdout. */
function host(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** GET with a short timeout; the body, or the error's text (so asserts can show it). */
async function get(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return await res.text();
  } catch (err) {
    return `error: ${(err as Error).cause ?? err}`;
  }
}

/** Polls until the URL serves `want` (a container's httpd takes a moment to listen). */
async function served(url: string, want: string): Promise<void> {
  let last = '';
  // A deadline (a loaded machine), not a count of tries.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    last = await get(url);
    if (last.trim() === want) return;
    await sleep(100);
  }
  assert.fail(`${url} served ${JSON.stringify(last)}, want ${JSON.stringify(want)}`);
}

/** A container serving `body` over HTTP on each of `ports` (busybox httpd). */
function web(d: TestDaemon, name: string, flags: string[], body: string, ports = [80]): string {
  const daemons = ports.map((p) => `httpd -p ${p} -h /www`).join('; ');
  return d.ok(['run', '-d', '--name', name, ...flags, 'busybox', 'sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && ${daemons} && exec sleep 1000`]);
}

/**
 * Sends datagrams to addr:port until a listener on `ctrPort` inside the container's network
 * namespace receives one (this busybox's nc has no -u, so node listens there via nsenter).
 */
async function udpReaches(d: TestDaemon, ctr: string, ctrPort: number, addr: string, port: number): Promise<void> {
  const pid = d.ok(['inspect', '-f', '{{.State.Pid}}', ctr]);
  const js = `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { console.log(String(m)); process.exit(0); });
    s.bind(${ctrPort}, () => console.log('ready')); setTimeout(() => process.exit(1), 8000);`;
  const listener = spawn('nsenter', ['-t', pid, '-n', process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  listener.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => listener.once('exit', r));
  const s = dgram.createSocket('udp4');
  try {
    const msg = `ping-${ctr}`;
    // Until the listener exits: on the datagram, or by its own 8 s timer.
    while (listener.exitCode === null && listener.signalCode === null) {
      if (out.includes('ready')) s.send(msg, port, addr);
      await sleep(100);
    }
    assert.equal(await exited, 0, `udp ${addr}:${port} never reached ${ctr}`);
    assert.match(out, new RegExp(msg));
  } finally { s.close(); listener.kill(); }
}

const nftTable = (d: TestDaemon): string => spawnSync('nft', ['list', 'table', 'ip', d.prefix], { encoding: 'utf8' }).stdout;
const sandboxes = (d: TestDaemon): number => (existsSync(`${d.execRoot}/netns`) ? readdirSync(`${d.execRoot}/netns`).length : 0);
const portChains = (d: TestDaemon): string[] => [...nftTable(d).matchAll(/chain (c-\S+) \{/g)].map((m) => m[1]!);

/** A namespace behind a veth pair standing in for another machine; removed in t.after. */
function remoteHost(t: TestContext): { ns: string; hostSide: string } {
  const tag = Math.random().toString(16).slice(2, 8);
  const [a, b] = [rnd(0, 255), rnd(0, 63) * 4];
  const ns = `bt-rh-${tag}`;
  const hostSide = `10.${a}.${b}.1`;
  t.after(() => { spawnSync('ip', ['link', 'del', `bth${tag}`]); spawnSync('ip', ['netns', 'del', ns]); });
  host('ip', ['netns', 'add', ns]);
  host('ip', ['link', 'add', `bth${tag}`, 'type', 'veth', 'peer', 'name', `btn${tag}`, 'netns', ns]);
  host('ip', ['addr', 'add', `${hostSide}/30`, 'dev', `bth${tag}`]);
  host('ip', ['link', 'set', `bth${tag}`, 'up']);
  host('ip', ['-n', ns, 'addr', 'add', `10.${a}.${b}.2/30`, 'dev', `btn${tag}`]);
  host('ip', ['-n', ns, 'link', 'set', `btn${tag}`, 'up']);
  host('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return { ns, hostSide };
}

/**
 * One 198.18.x.y/32 host address on an interface of its own, removed in t.after: a dummy, or a
 * veth pair where the kernel has no dummy driver (both ends stay on the host).
 */
function dummyAddress(t: TestContext): string {
  const name = `btd${Math.random().toString(16).slice(2, 10)}`;
  const addr = `198.18.${rnd(0, 255)}.${rnd(1, 254)}`;
  t.after(() => { spawnSync('ip', ['link', 'del', name]); });
  if (spawnSync('ip', ['link', 'add', name, 'type', 'dummy']).status !== 0) {
    host('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  }
  host('ip', ['addr', 'add', `${addr}/32`, 'dev', name]);
  host('ip', ['link', 'set', name, 'up']);
  return addr;
}

/** An HTTP GET with busybox nc (busybox wget segfaults here); `prefix` runs it in a namespace. */
function ncGet(prefix: string[], addr: string, port: number, env?: NodeJS.ProcessEnv): { code: number; body: string } {
  const script = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${addr} ${port} | tail -n1`;
  const [cmd = '', ...args] = [...prefix, 'sh', '-c', script];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000, env });
  return { code: r.status ?? -1, body: `${r.stdout.trim()}${r.stderr}` };
}

test('published ports: traffic, port/ps/inspect, errors, lifecycle', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const base = rnd(20000, 29900);
  const [p1, p2, p3] = [base, base + 1, base + 2];
  web(d, 'web', ['-p', `${p1}:80`, '-p', `127.0.0.1:${p2}:80`, '-p', '127.0.0.1::80', '-p', `${p3}:8080`], 'hello', [80, 8080]);
  const gw = d.ok(['inspect', '-f', '{{.NetworkSettings.Gateway}}', 'web']);
  const ip = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web']);

  await t.test('-p HOST:80 from 127.0.0.1 and the gateway; 127.0.0.1:P:80; 127.0.0.1::80', async () => {
    await served(`http://127.0.0.1:${p1}/`, 'hello');
    await served(`http://${gw}:${p1}/`, 'hello');
    await served(`http://127.0.0.1:${p2}/`, 'hello');
    await served(`http://127.0.0.1:${p3}/`, 'hello');
    assert.match(await get(`http://${gw}:${p2}/`), /^error/, '127.0.0.1 binding must not answer on the gateway');
    const local = [...d.ok(['port', 'web']).matchAll(/^80\/tcp -> 127\.0\.0\.1:(\d+)$/gm)].map((m) => Number(m[1]));
    const random = local.find((p) => p !== p2);
    assert.ok(local.length === 2 && random, d.ok(['port', 'web']));
    await served(`http://127.0.0.1:${random}/`, 'hello');
  });

  await t.test('port, ps PORTS, inspect NetworkSettings (berth and docker)', () => {
    for (const cli of ['berth', 'docker'] as const) {
      const run = (args: string[]) => { const r = d[cli](args); assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
      const lines = run(['port', 'web']).trim().split('\n');
      assert.ok(lines.includes(`80/tcp -> 0.0.0.0:${p1}`), `${cli}: ${lines.join('|')}`);
      assert.ok(lines.includes(`80/tcp -> 127.0.0.1:${p2}`), cli);
      assert.ok(lines.includes(`8080/tcp -> 0.0.0.0:${p3}`), cli);
      assert.equal(lines.length, 4, cli);
      const on80 = run(['port', 'web', '80']).trim().split('\n');
      assert.deepEqual(on80.slice(0, 2), [`0.0.0.0:${p1}`, `127.0.0.1:${p2}`], cli);
      assert.equal(run(['port', 'web', '8080/tcp']).trim(), `0.0.0.0:${p3}`, cli);
      const ports = run(['ps', '--filter', 'name=web', '--format', '{{.Ports}}']).trim();
      assert.ok(ports.includes(`0.0.0.0:${p1}->80/tcp`), `${cli}: ${ports}`);
      assert.ok(ports.includes(`127.0.0.1:${p2}->80/tcp`), `${cli}: ${ports}`);
      assert.ok(ports.includes(`0.0.0.0:${p3}->8080/tcp`), `${cli}: ${ports}`);
      const f = '{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Gateway}}|{{.NetworkSettings.IPPrefixLen}}|{{.NetworkSettings.MacAddress}}|{{.HostConfig.NetworkMode}}';
      const [cip, cgw, len, mac, mode] = run(['inspect', '-f', f, 'web']).trim().split('|');
      assert.equal(cip, ip, cli);
      assert.equal(cgw, gw, cli);
      assert.equal(len, '16', cli);
      assert.equal(mac, `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`, cli);
      assert.equal(mode, 'bridge', cli);
      const nb = JSON.parse(run(['inspect', '-f', '{{json .NetworkSettings.Networks.bridge}}', 'web'])) as Record<string, unknown>;
      assert.equal(nb['IPAddress'], ip, cli);
      assert.equal(nb['Gateway'], gw, cli);
      assert.equal(nb['MacAddress'], mac, cli);
      assert.match(String(nb['NetworkID']), /^[0-9a-f]{64}$/, cli);
      assert.match(String(nb['EndpointID']), /^[0-9a-f]{64}$/, cli);
      const pm = JSON.parse(run(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web'])) as Record<string, unknown>;
      assert.deepEqual((pm['8080/tcp'] as unknown[]), [{ HostIp: '0.0.0.0', HostPort: String(p3) }], cli);
    }
    // Same text from both CLIs, order included.
    for (const args of [['port', 'web'], ['port', 'web', '80'], ['ps', '--filter', 'name=web', '--format', '{{.Ports}}']]) {
      assert.equal(d.ok(args), d.docker(args).stdout.trim(), args.join(' '));
    }
    // The container sees its own address on eth0.
    assert.match(d.ok(['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/16`));
  });

  await t.test('udp on a dummy host address and on all addresses', async () => {
    const addr = dummyAddress(t);
    const [u1, u2] = [base + 10, base + 11];
    d.ok(['run', '-d', '--name', 'udp1', '-p', `${addr}:${u1}:53/udp`, 'busybox', 'sleep', '1000']);
    const viaDocker = d.docker(['run', '-d', '--name', 'udp2', '-p', `${u2}:53/udp`, 'busybox', 'sleep', '1000']);
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    await udpReaches(d, 'udp1', 53, addr, u1);
    await udpReaches(d, 'udp2', 53, '127.0.0.1', u2);
    await udpReaches(d, 'udp2', 53, gw, u2);
    assert.equal(d.docker(['port', 'udp1']).stdout.trim(), `53/udp -> ${addr}:${u1}`);
    assert.equal(d.ok(['port', 'udp2', '53/udp']), `0.0.0.0:${u2}`);
    assert.equal(d.docker(['ps', '--filter', 'name=udp1', '--format', '{{.Ports}}']).stdout.trim(), `${addr}:${u1}->53/udp`);
    d.ok(['rm', '-f', 'udp1', 'udp2']);
  });

  await t.test('a range -p A-B:A-B is one DNAT rule; -P with --expose', async () => {
    const [a, b] = [base + 20, base + 22];
    web(d, 'ranged', ['-p', `${a}-${b}:${a}-${b}`], 'ranged', [a, a + 1, b]);
    for (let p = a; p <= b; p++) await served(`http://127.0.0.1:${p}/`, 'ranged');
    const dnat = nftTable(d).split('\n').filter((l) => l.includes('dnat') && l.includes(`${a}-${b}`));
    assert.equal(dnat.length, 1, nftTable(d));
    assert.equal(d.docker(['ps', '--filter', 'name=ranged', '--format', '{{.Ports}}']).stdout.trim(), `0.0.0.0:${a}-${b}->${a}-${b}/tcp`);
    const pub = d.docker(['run', '-d', '--name', 'pall', '--expose', '80', '--expose', '7000-7001', '-P', 'busybox', 'sh', '-c', 'mkdir /www && echo all > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(pub.code, 0, pub.stderr);
    const lines = d.ok(['port', 'pall']).split('\n');
    assert.equal(lines.length, 3, lines.join('|'));
    const hp = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(lines.join('\n'))?.[1];
    assert.ok(hp, lines.join('|'));
    await served(`http://127.0.0.1:${hp}/`, 'all');
    d.ok(['rm', '-f', 'ranged', 'pall']);
  });

  await t.test('from another container to HOSTIP:PORT, from a remote host to the host veth address', async () => {
    const inCtr = (args: string[], addr: string, port: number) =>
      ncGet([process.execPath, `${REPO}/dist/berth.mjs`, ...args], addr, port, { ...process.env, BERTH_HOST: d.host });
    assert.deepEqual(inCtr(['run', '--rm', 'busybox'], gw, p1), { code: 0, body: 'hello' });
    const addr = dummyAddress(t);
    assert.deepEqual(inCtr(['run', '--rm', 'busybox'], addr, p1), { code: 0, body: 'hello' });
    // The container reaching its own published port (hairpin).
    assert.deepEqual(inCtr(['exec', 'web'], gw, p1), { code: 0, body: 'hello' });
    const { ns, hostSide } = remoteHost(t);
    const remote = ['nsenter', `--net=/run/netns/${ns}`, '/bin/busybox'];
    assert.deepEqual(ncGet(remote, hostSide, p1), { code: 0, body: 'hello' });
    assert.deepEqual(ncGet(remote, hostSide, p3), { code: 0, body: 'hello' });
    assert.notEqual(ncGet(remote, hostSide, p2).body, 'hello', 'a 127.0.0.1 binding is not reachable from another host');
    // The administrator's chain filters published traffic (Docker's ports bypass ufw/firewalld).
    const remoteAddr = hostSide.replace(/\.1$/, '.2');
    host('nft', ['add', 'rule', 'ip', d.prefix, 'berth-user', 'ip', 'saddr', remoteAddr, 'tcp', 'dport', '80', 'drop']);
    assert.notEqual(ncGet(remote, hostSide, p1).body, 'hello', 'dropped by the berth-user chain');
    assert.deepEqual(ncGet(remote, hostSide, p3), { code: 0, body: 'hello' }, 'other ports still pass');
    host('nft', ['flush', 'chain', 'ip', d.prefix, 'berth-user']);
    assert.deepEqual(ncGet(remote, hostSide, p1), { code: 0, body: 'hello' });
  });

  await t.test('port already allocated by a container: Docker\'s error, container left Created, nothing leaked', () => {
    const chains = portChains(d);
    const viaBerth = d.berth(['run', '-d', '--name', 'clash1', '-p', `${p1}:80`, 'busybox', 'sleep', '100']);
    const viaDocker = d.docker(['run', '-d', '--name', 'clash2', '-p', `${p1}:80`, 'busybox', 'sleep', '100']);
    for (const [cli, r] of [['berth', viaBerth], ['docker', viaDocker]] as const) {
      assert.equal(r.code, 125, `${cli}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^${cli}: Error response from daemon: driver failed programming external connectivity on endpoint clash\\d \\([0-9a-f]{64}\\): Bind for 0\\.0\\.0\\.0:${p1} failed: port is already allocated$`, 'm'), cli);
    }
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'clash1']), 'created');
    assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'clash2']), 'created');
    assert.equal(d.ok(['port', 'clash1']), '');
    assert.deepEqual(portChains(d), chains);
    assert.equal(sandboxes(d), 1, 'only web has a namespace');
    // 127.0.0.1:P2 is taken only on loopback: another address may publish the same port.
    const addr = dummyAddress(t);
    d.ok(['run', '-d', '--name', 'sameport', '-p', `${addr}:${p2}:80`, 'busybox', 'sleep', '100']);
    d.ok(['rm', '-f', 'clash1', 'clash2', 'sameport']);
  });

  await t.test('port held by a host process: error, no rule', async () => {
    const hp = base + 30;
    const srv = net.createServer((s) => s.end('host\n'));
    await new Promise<void>((r) => srv.listen(hp, '0.0.0.0', r));
    try {
      const chains = portChains(d);
      for (const cli of ['berth', 'docker'] as const) {
        const r = d[cli](['run', '-d', '--name', `held-${cli}`, '-p', `${hp}:80`, 'busybox', 'sleep', '100']);
        assert.equal(r.code, 125, `${cli}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^${cli}: Error response from daemon: driver failed programming external connectivity on endpoint held-${cli} \\([0-9a-f]{64}\\): failed to bind port 0\\.0\\.0\\.0:${hp}/tcp: .*address already in use$`, 'm'), cli);
        assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', `held-${cli}`]), 'created');
      }
      assert.deepEqual(portChains(d), chains);
      assert.equal(sandboxes(d), 1, 'only web has a namespace');
      assert.doesNotMatch(nftTable(d), new RegExp(`\\b${hp}\\b`));
      d.ok(['rm', 'held-berth', 'held-docker']);
    } finally { await new Promise((r) => srv.close(r)); }
  });

  await t.test('malformed -p: exit 125, nothing created', () => {
    const before = d.ok(['ps', '-aq']);
    for (const spec of ['80:80:80:80', 'abc:80', '70000:80', '8000-8002:80-81', '1.2.3:80:80', '80/xyz']) {
      for (const cli of ['berth', 'docker'] as const) {
        const r = d[cli](['run', '-d', '-p', spec, 'busybox', 'true']);
        assert.equal(r.code, 125, `${cli} -p ${spec}: ${r.stderr}`);
        assert.match(r.stderr, /invalid|port/i, `${cli} -p ${spec}: ${r.stderr}`);
      }
    }
    assert.equal(d.ok(['ps', '-aq']), before);
  });

  await t.test('stop drops the rules, start restores them', async () => {
    d.ok(['stop', '-t', '1', 'web']);
    assert.match(await get(`http://127.0.0.1:${p1}/`), /^error/);
    assert.deepEqual(portChains(d), []);
    assert.equal(d.ok(['port', 'web']), '');
    d.ok(['start', 'web']);
    await served(`http://127.0.0.1:${p1}/`, 'hello');
    await served(`http://127.0.0.1:${p2}/`, 'hello');
    assert.equal(d.ok(['port', 'web', '8080']), `0.0.0.0:${p3}`);
    assert.equal(portChains(d).length, 1);
  });

  await t.test('ports keep forwarding while berthd is down (SIGTERM and SIGKILL)', async () => {
    const before = d.ok(['port', 'web']);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await d.stop(signal);
      await served(`http://127.0.0.1:${p1}/`, 'hello');
      await d.start();
      assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'web']), 'running', signal);
      assert.equal(d.ok(['port', 'web']), before, signal);
      await served(`http://127.0.0.1:${p1}/`, 'hello');
      assert.equal(portChains(d).length, 1, signal);
    }
  });
});
