// Network modes and name resolution files, observed from inside the container, through berth and
// docker 28: host, none, container:<other>, hostname and domain, MAC address, /etc/hosts
// (own name, --add-host, host-gateway, --link) and resolv.conf from --dns flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

type Cli = 'berth' | 'docker';
const CLIS: readonly Cli[] = ['berth', 'docker'];

/** `run --rm ... busybox sh -c script` through one CLI; must succeed; trimmed stdout. */
function sh(d: TestDaemon, cli: Cli, flags: string[], script: string): string {
  const r = d[cli](['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, `${cli} run ${flags.join(' ')} ${script}: ${r.stderr}`);
  return r.stdout.trim();
}

const ifNames = (ipOLink: string): string[] => ipOLink.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter(Boolean);
const hostsLines = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('network modes, /etc/hosts and resolv.conf', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const webId = d.ok(['run', '-d', '--name', 'web', 'busybox', 'sleep', '1000']);
  const webIp = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web']);
  const gw = d.ok(['inspect', '-f', '{{.NetworkSettings.Gateway}}', 'web']);
  assert.match(webIp, /^\d+\.\d+\.\d+\.\d+$/);

  await t.test('--network host: the host\'s namespace and interfaces', () => {
    for (const cli of CLIS) {
      const links = ifNames(sh(d, cli, ['--network', 'host'], 'ip -o link'));
      assert.ok(links.includes('lo'), cli);
      assert.ok(links.includes(`${d.ifPrefix}0`), `${cli}: the daemon's bridge is visible: ${links.join(' ')}`);
      assert.equal(sh(d, cli, ['--network', 'host'], 'readlink /proc/self/ns/net'), readlinkSync('/proc/self/ns/net'), cli);
    }
    for (const cli of CLIS) {
      const r = d[cli](['create', '--network', 'host', '-p', '80:80', 'busybox', 'true']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /WARNING: Published ports are discarded when using host network mode/, cli);
      d.ok(['rm', r.stdout.trim()]);
    }
    const id = d.ok(['create', '--network', 'host', 'busybox', 'true']);
    assert.equal(d.ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}|{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', id]), 'host||host');
    d.ok(['rm', id]);
  });

  await t.test('--network none: only lo', () => {
    for (const cli of CLIS) {
      assert.deepEqual(ifNames(sh(d, cli, ['--network', 'none'], 'ip -o link')), ['lo'], cli);
      assert.equal(sh(d, cli, ['--network', 'none'], 'ip -o -4 addr | grep -c inet'), '1', cli);
    }
    const id = d.ok(['create', '--network', 'none', 'busybox', 'true']);
    assert.equal(d.ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}|{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', id]), 'none||none');
    d.ok(['rm', id]);
  });

  await t.test('--network container:<name>: same namespace, same address', () => {
    for (const cli of CLIS) {
      const out = sh(d, cli, ['--network', 'container:web'], 'ip -4 -o addr show eth0; hostname');
      assert.match(out, new RegExp(`inet ${webIp.replace(/\./g, '\\.')}/16`), cli);
      assert.equal(out.split('\n')[1], webId.slice(0, 12), `${cli}: the other container's hostname`);
    }
    for (const cli of CLIS) {
      const r = d[cli](['run', '--rm', '--network', 'container:web', '-p', '80', 'busybox', 'true']);
      assert.notEqual(r.code, 0, cli);
      assert.match(r.stderr, /conflicting options: port publishing and the container type network mode/, cli);
      const h = d[cli](['run', '--rm', '--network', 'container:web', '-h', 'x', 'busybox', 'true']);
      assert.match(h.stderr, /conflicting options: hostname and the network mode/, cli);
    }
  });

  await t.test('-h, --domainname, --mac-address', () => {
    const mac = '02:42:0a:bc:de:01';
    for (const cli of CLIS) {
      const out = sh(d, cli, ['-h', 'boxy', '--domainname', 'example.org', '--mac-address', mac],
        'hostname; cat /proc/sys/kernel/domainname; cat /sys/class/net/eth0/address; grep boxy /etc/hosts');
      const [hn, dn, m, hostsLine] = out.split('\n');
      assert.equal(hn, 'boxy', cli);
      assert.equal(dn, 'example.org', cli);
      assert.equal(m, mac, cli);
      assert.match(hostsLine ?? '', /^\d+\.\d+\.\d+\.\d+\tboxy\.example\.org boxy$/, cli);
    }
    const id = d.ok(['run', '-d', '--mac-address', mac, 'busybox', 'sleep', '100']);
    assert.equal(d.docker(['inspect', '-f', '{{.NetworkSettings.MacAddress}} {{.NetworkSettings.Networks.bridge.MacAddress}}', id]).stdout.trim(), `${mac} ${mac}`);
    d.ok(['rm', '-f', id]);
  });

  await t.test('/etc/hosts: own short ID, --add-host, host-gateway', () => {
    for (const cli of CLIS) {
      const id = d[cli](['run', '-d', '--add-host', 'db.local:10.9.8.7', '--add-host', 'h:host-gateway', 'busybox', 'sleep', '100']).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/, cli);
      const ip = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]);
      const lines = hostsLines(d.ok(['exec', id, 'cat', '/etc/hosts']));
      assert.deepEqual(lines.slice(0, 2), ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'], cli);
      assert.ok(lines.includes('10.9.8.7\tdb.local'), `${cli}: ${lines.join('|')}`);
      assert.ok(lines.includes(`${gw}\th`), `${cli}: host-gateway is the default bridge's gateway: ${lines.join('|')}`);
      assert.equal(lines.at(-1), `${ip}\t${id.slice(0, 12)}`, cli);
      assert.equal(d.ok(['exec', id, 'hostname']), id.slice(0, 12), cli);
      assert.match(d.ok(['exec', id, 'ping', '-c1', '-W2', 'h']), /1 packets received/, cli);
      d.ok(['rm', '-f', id]);
    }
  });

  await t.test('--dns, --dns-search, --dns-option: resolv.conf', () => {
    for (const cli of CLIS) {
      const conf = sh(d, cli, ['--dns', '10.1.2.3', '--dns', '10.1.2.4', '--dns-search', 'x', '--dns-option', 'ndots:2'], 'cat /etc/resolv.conf');
      const lines = hostsLines(conf).sort();
      assert.deepEqual(lines, ['nameserver 10.1.2.3', 'nameserver 10.1.2.4', 'options ndots:2', 'search x'], `${cli}: ${conf}`);
      assert.ok(conf.indexOf('10.1.2.3') < conf.indexOf('10.1.2.4'), cli);
    }
    const hc = JSON.parse(d.ok(['inspect', '-f', '{{json .HostConfig}}', d.ok(['create', '--dns', '10.1.2.3', '--dns-search', 'x', '--dns-option', 'ndots:2', 'busybox'])])) as Record<string, unknown>;
    assert.deepEqual([hc['Dns'], hc['DnsSearch'], hc['DnsOptions']], [['10.1.2.3'], ['x'], ['ndots:2']]);
  });

  await t.test('--link web:alias on the default bridge', () => {
    for (const cli of CLIS) {
      const out = sh(d, cli, ['--link', 'web:alias'], 'cat /etc/hosts; ping -c1 -W2 alias >/dev/null && echo pinged; ping -c1 -W2 web >/dev/null && echo pinged-name');
      assert.ok(out.split('\n').includes(`${webIp}\talias ${webId.slice(0, 12)} web`), `${cli}: ${out}`);
      assert.match(out, /^pinged$/m, cli);
      assert.match(out, /^pinged-name$/m, cli);
    }
    const id = d.ok(['create', '--link', 'web:alias', 'busybox']);
    assert.equal(d.docker(['inspect', '-f', '{{json .HostConfig.Links}}', id]).stdout.trim(), `["/web:/${d.ok(['inspect', '-f', '{{.Name}}', id]).slice(1)}/alias"]`);
    d.ok(['rm', id]);
    for (const cli of CLIS) {
      const r = d[cli](['run', '--rm', '--link', 'nosuch:alias', 'busybox', 'true']);
      assert.notEqual(r.code, 0, cli);
      assert.match(r.stderr, /could not get container for nosuch/, cli);
    }
    d.ok(['stop', '-t', '0', 'web']);
    const stopped = d.berth(['run', '--rm', '--link', 'web:alias', 'busybox', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /Cannot link to a non running container: \/web AS \/\S+\/alias/);
  });
});
