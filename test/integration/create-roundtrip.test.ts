// What a client sends in a container create is what inspect shows (issue 11): every field berth
// knows is kept, dockerd's own adjustments are the only differences, and fields Go would ignore
// are neither stored nor shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';
import { apiRequest } from './api-request.ts';

type Json = Record<string, unknown>;

/**
 * Runs the real docker CLI through a recording proxy in front of the daemon and returns the body
 * of its POST /containers/create, as sent, and the container's ID.
 */
async function createThroughProxy(d: TestDaemon, args: string[]): Promise<{ body: Json; id: string }> {
  const sock = join(d.dir, 'recorder.sock');
  let body: Json | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.method === 'POST' && /\/containers\/create/.test(req.url ?? '')) body = JSON.parse(raw.toString('utf8')) as Json;
      const up = request({ socketPath: d.socket, method: req.method, path: req.url, headers: req.headers, agent: false }, (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(d.dir, 'docker-config') };
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    assert.equal(code, 0, err);
    assert.ok(body, 'the CLI sent no create body');
    return { body, id: out.trim() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Go's decoder treats an absent field, null and (for these) an empty value the same; so do we. */
const unset = (v: unknown) => v === undefined || v === null;

/**
 * Differences between what was sent and what inspect shows, at every depth, minus the ones dockerd
 * makes itself (`adjusted`: a path and the value dockerd stores instead).
 */
function differences(sent: unknown, shown: unknown, path: string, adjusted: Record<string, unknown>, out: string[]): void {
  if (Object.hasOwn(adjusted, path)) {
    if (JSON.stringify(shown) !== JSON.stringify(adjusted[path])) out.push(`${path}: expected dockerd's ${JSON.stringify(adjusted[path])}, shown ${JSON.stringify(shown)}`);
    return;
  }
  if (unset(sent) && unset(shown)) return;
  if (sent && typeof sent === 'object' && !Array.isArray(sent) && shown && typeof shown === 'object' && !Array.isArray(shown)) {
    for (const [k, v] of Object.entries(sent)) differences(v, (shown as Json)[k], `${path}.${k}`, adjusted, out);
    return;
  }
  if (Array.isArray(sent) && Array.isArray(shown) && sent.length === shown.length) {
    sent.forEach((v, i) => differences(v, shown[i], `${path}[${i}]`, adjusted, out));
    return;
  }
  if (JSON.stringify(sent) !== JSON.stringify(shown)) out.push(`${path}: sent ${JSON.stringify(sent)}, shown ${JSON.stringify(shown)}`);
}

async function inspect(d: TestDaemon, id: string): Promise<Json> {
  const r = await apiRequest(d.socket, 'GET', `/containers/${id}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json() as Json;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

test('a full docker CLI create round-trips through inspect', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['network', 'create', 'rt-net']);
  const { body, id } = await createThroughProxy(d, ['create', '--name', 'full', '-h', 'host1', '--domainname', 'example.com', '-u', '1000:1000',
    '-e', 'A=1', '-l', 'x=y', '-w', '/work', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--health-cmd', 'true', '--health-interval', '2s',
    '--health-retries', '3', '--health-start-period', '1s', '--health-timeout', '1s', '-p', '8080:80', '--expose', '90', '--cap-add', 'NET_ADMIN',
    '--cap-drop', 'MKNOD', '--dns', '1.1.1.1', '--dns-search', 'x.com', '--dns-option', 'ndots:2', '--add-host', 'a:1.2.3.4', '--restart', 'on-failure:3',
    '--memory', '64m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '100', '--ulimit', 'nofile=100:200',
    '--sysctl', 'net.ipv4.ip_forward=1', '--tmpfs', '/t:size=1m', '--mount', 'type=volume,target=/v', '-v', '/tmp:/h:ro', '--shm-size', '1m',
    '--oom-score-adj', '10', '--read-only', '--init', '--security-opt', 'no-new-privileges', '--log-opt', 'max-size=1m', '--ipc', 'private',
    '--group-add', '10', '--device', '/dev/null:/dev/xnull:rw', '--device-cgroup-rule', 'c 1:3 r', '--annotation', 'an=1',
    '--network', 'rt-net', '--network-alias', 'al', '-i', '-t', '--entrypoint', '/bin/sh', 'busybox', '-c', 'true']);
  const { HostConfig: hcSent, NetworkingConfig: ncSent, ...configSent } = body;
  const shown = await inspect(d, id);
  const diffs: string[] = [];
  differences(configSent, shown['Config'], 'Config', {
    'Config.Env': [PATH, 'A=1'], // the image's environment first
    'Config.Volumes': null, // the CLI's empty map; dockerd shows the merged set, here none
  }, diffs);
  differences(hcSent, shown['HostConfig'], 'HostConfig', {
    'HostConfig.LogConfig.Type': 'json-file', // the daemon's default driver
    'HostConfig.CgroupnsMode': (shown['HostConfig'] as Json)['CgroupnsMode'] === 'host' ? 'host' : 'private', // the daemon's default mode
    'HostConfig.MemorySwap': 2 * 64 * 1024 * 1024, // adaptContainerSettings: twice the memory limit
    'HostConfig.MemorySwappiness': null, // -1 means unset
  }, diffs);
  const endpoint = ((shown['NetworkSettings'] as Json)['Networks'] as Record<string, Json>)['rt-net'];
  differences((ncSent as { EndpointsConfig: Record<string, Json> }).EndpointsConfig['rt-net'], endpoint, 'Networks.rt-net', {
    'Networks.rt-net.NetworkID': d.ok(['network', 'inspect', '-f', '{{.Id}}', 'rt-net']),
    'Networks.rt-net.DNSNames': ['full', 'al', id.slice(0, 12)],
    'Networks.rt-net.GwPriority': undefined, // API 1.48: the CLI sends it, dockerd 27 (API 1.47) has no such field
  }, diffs);
  assert.deepEqual(diffs, []);
  d.ok(['rm', id]);
});

test('docker-py\'s create body round-trips, and fields Go would ignore are neither stored nor shown', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['network', 'create', 'rt-net']);
  // What docker-py 7.1's APIClient.create_container sent (API 1.41) for a container with most options.
  const pyBody = {
    Hostname: 'host1', Domainname: 'example.com', ExposedPorts: { '80/tcp': {} }, User: '1000', Tty: true, OpenStdin: true, StdinOnce: true,
    AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ['A=1'], Cmd: ['sh', '-c', 'true'], Image: 'busybox', NetworkDisabled: false,
    Entrypoint: ['/bin/sh'], WorkingDir: '/work',
    HostConfig: {
      Memory: 67108864, ShmSize: 1048576, OomScoreAdj: 10, NetworkMode: 'default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      CapAdd: ['NET_ADMIN'], Dns: ['1.1.1.1'], SecurityOpt: ['no-new-privileges'], Sysctls: { 'net.ipv4.ip_forward': '1' }, Binds: ['/tmp:/h:ro'],
      PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, ExtraHosts: ['a:1.2.3.4'], Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, Tmpfs: { '/t': 'size=1m' }, PidsLimit: 100, Init: true,
      Mounts: [{ Target: '/v', Source: null, Type: 'volume', ReadOnly: false }],
    },
    NetworkingConfig: { EndpointsConfig: { 'rt-net': { Aliases: ['al'] } } }, Labels: { x: 'y' }, StopSignal: 'SIGINT',
    Healthcheck: { Test: ['CMD', 'true'], Interval: 2000000000, Timeout: null, Retries: 3, StartPeriod: null }, StopTimeout: 5,
  };
  // The same body with fields no Go struct of API 1.47 has, at every level.
  const withJunk = structuredClone(pyBody) as Json & { HostConfig: Json; Healthcheck: Json; NetworkingConfig: { EndpointsConfig: Record<string, Json> } };
  Object.assign(withJunk, { Junk: 1, PortSpecs: ['80'], Memory: 1 });
  Object.assign(withJunk.HostConfig, { Junk: { a: 1 }, Capabilities: ['CAP_X'] });
  Object.assign(withJunk.Healthcheck, { Junk: true });
  Object.assign(withJunk.NetworkingConfig.EndpointsConfig['rt-net']!, { Junk: 'x' });
  (withJunk.HostConfig['Mounts'] as Json[])[0]!['Junk'] = 1;
  for (const [name, sent] of [['py', pyBody], ['junk', withJunk]] as const) {
    const r = await apiRequest(d.socket, 'POST', `/v1.41/containers/create?name=${name}`, sent);
    assert.equal(r.status, 201, r.body);
    const id = (r.json() as { Id: string }).Id;
    const shown = await inspect(d, id);
    const { HostConfig, NetworkingConfig: _nc, ...config } = pyBody;
    const diffs: string[] = [];
    // NetworkDisabled: false is left out of inspect (omitempty), as dockerd does.
    differences(config, shown['Config'], 'Config', { 'Config.Env': [PATH, 'A=1'], 'Config.NetworkDisabled': undefined }, diffs);
    differences(HostConfig, shown['HostConfig'], 'HostConfig', { 'HostConfig.NetworkMode': 'bridge' }, diffs);
    assert.deepEqual(diffs, [], name);
    const text = JSON.stringify(shown);
    for (const junk of ['Junk', 'PortSpecs', 'Capabilities', 'CAP_X']) assert.ok(!text.includes(junk), `${name}: inspect shows ${junk}`);
    assert.equal((shown['Config'] as Json)['Memory'], undefined);
    d.ok(['rm', id]);
  }
});
