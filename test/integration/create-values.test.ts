// Values of the right type that dockerd refuses (issue 11, "bad input gets a clear error and
// changes nothing"): the real docker CLI prints dockerd's words and nothing is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';
import { apiRequest } from './api-request.ts';

/** What a refused request must leave behind: nothing. */
function assertNothingStored(d: TestDaemon, volumesBefore: string): void {
  assert.equal(d.ok(['ps', '-aq']), '', 'no container is left');
  assert.equal(d.ok(['volume', 'ls', '-q']), volumesBefore, 'no volume is left');
}

test('docker run: wrong values are refused at create with dockerd\'s words, and nothing is stored', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const volumes = d.ok(['volume', 'ls', '-q']);
  const cases: [string[], string][] = [
    [['--cap-add', 'CAP_FOO'], 'invalid CapAdd: unknown capability: "CAP_FOO"'],
    [['--cap-drop', 'foo'], 'invalid CapDrop: unknown capability: "CAP_FOO"'],
    [['-w', 'x'], "the working directory 'x' is invalid, it needs to be an absolute path"],
    [['--stop-signal', 'FOO'], 'invalid signal: FOO'],
    [['--ipc', 'foo'], 'invalid IPC mode: foo'],
    [['--ipc', 'container:nope'], 'No such container: nope'],
    [['--pid', 'container:nope'], 'No such container: nope'],
    [['--isolation', 'hyperv'], 'Invalid isolation: "hyperv" - linux only supports \'default\''],
    [['--storage-opt', 'size=1G'], "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"],
    [['--security-opt', 'foo=bar'], 'invalid --security-opt 2: "foo=bar"'],
    [['--tmpfs', 'rel'], "invalid mount path: 'rel' mount path must be absolute"],
    [['--tmpfs', '/'], "invalid specification: destination can't be '/'"],
    [['--log-driver', 'logentries'], 'the logentries logging driver has been deprecated and removed'],
    [['-h', 'x', '--uts', 'host'], 'conflicting options: hostname and the UTS mode'],
    [['--network', 'host', '--link', 'a:b'], "conflicting options: host type networking can't be used with links. This would result in undefined behavior"],
    [['--network', 'container:nope', '--dns', '1.1.1.1'], 'conflicting options: dns and the network mode'],
    [['--network', 'container:'], 'Invalid network mode: invalid container format container:<name|id>'],
    [['--annotation', '=x'], 'invalid Annotations: the empty string is not permitted as an annotation key'],
  ];
  for (const [args, message] of cases) {
    const r = d.docker(['run', '--rm', ...args, 'busybox', 'true']);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n')[0], `docker: Error response from daemon: ${message}`, args.join(' '));
  }
  assertNothingStored(d, volumes);

  // The berth CLI shows the same words.
  const b = d.berth(['run', '--rm', '--cap-add', 'CAP_FOO', 'busybox', 'true']);
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, /invalid CapAdd: unknown capability: "CAP_FOO"/);

  // --gpus needs a device driver: dockerd without one refuses the start, and so does berth
  // (the container stays created, as there).
  const gpus = d.docker(['create', '--gpus', 'all', 'busybox', 'true']);
  assert.equal(gpus.code, 0, gpus.stderr);
  const start = d.docker(['start', gpus.stdout.trim()]);
  assert.equal(start.code, 1);
  assert.match(start.stderr, /Error response from daemon: could not select device driver "" with capabilities: \[\[gpu\]\]/);
  d.ok(['rm', gpus.stdout.trim()]);

  // exec -w with a relative directory: runc's words (crun would chdir relative to /), exit 126.
  const c = d.ok(['run', '-d', 'busybox', 'sleep', '60']);
  const wd = d.docker(['exec', '-w', 'rel', c, 'pwd']);
  assert.equal(wd.code, 126, wd.stderr);
  assert.equal(wd.stdout.trim(), 'OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown');
  d.ok(['rm', '-f', c]);
});

test('create through the API: what the docker CLI checks itself, dockerd checks too', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const volumes = d.ok(['volume', 'ls', '-q']);
  const cases: [object, string][] = [
    [{ HostConfig: { PidMode: 'foo' } }, 'invalid PID mode: foo'],
    [{ HostConfig: { UTSMode: 'foo' } }, 'invalid UTS mode: foo'],
    [{ HostConfig: { SecurityOpt: ['foo'] } }, 'invalid --security-opt 1: "foo"'],
    [{ HostConfig: { ShmSize: -1 } }, 'SHM size can not be less than 0'],
    [{ HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } }, 'invalid restart policy: maximum retry count cannot be negative'],
    [{ HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
    [{ HostConfig: { ExtraHosts: ['foo'] } }, 'bad format for add-host: "foo"'],
    [{ HostConfig: { ExtraHosts: ['foo:bar'] } }, 'invalid IP address in add-host: "bar"'],
    [{ HostConfig: { PortBindings: { 'abc/tcp': [{ HostPort: '1' }] } } }, 'invalid port specification: "abc"'],
    [{ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 'abc' }] } } }, 'invalid port specification: "abc"'],
    [{ HostConfig: { PortBindings: { '80/foo': [{ HostPort: '8080' }] } } }, 'invalid proto: foo'],
    [{ ExposedPorts: { 'abc/tcp': {} } }, 'invalid port specification: "abc"'],
    [{ Env: ['=foo'] }, 'invalid environment variable: =foo'],
    [{ HostConfig: { IOMaximumIOps: 5 } }, 'Invalid QoS settings: linux does not support configuration of maximum IOPs'],
    [{ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', VolumeOptions: {} }] } }, 'VolumeOptions must not be specified on mount type "bind"'],
  ];
  for (const [body, message] of cases) {
    const r = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], ...body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.deepEqual(r.json(), { message }, JSON.stringify(body));
  }
  // A volume driver that does not exist is a 404, as under dockerd (the docker CLI takes any 404
  // for a missing image and tries a pull first).
  const driver = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumeDriver: 'nope', Binds: ['vx:/x'] } });
  assert.equal(driver.status, 404, driver.body);
  assert.deepEqual(driver.json(), { message: 'create vx: error looking up volume plugin nope: plugin "nope" not found' });
  assertNothingStored(d, volumes);

  // What dockerd stores instead of what was sent: a clean working directory, the ID of the
  // container whose namespaces are shared (a rename keeps the link).
  const web = d.ok(['run', '-d', '--name', 'web', 'busybox', 'sleep', '60']);
  const id = d.ok(['create', '-w', '/a/b/../c/', '--pid', 'container:web', '--ipc', 'container:web', 'busybox', 'sh', '-c', 'pwd; echo $$']);
  assert.equal(d.ok(['inspect', '-f', '{{.Config.WorkingDir}} {{.HostConfig.PidMode}} {{.HostConfig.IpcMode}}', id]), `/a/c container:${web} container:${web}`);
  d.ok(['rename', 'web', 'web2']);
  d.ok(['start', id]);
  assert.equal(d.ok(['wait', id]), '0');
  d.ok(['rm', '-f', id, web]);
});

test('docker network create and commit --change: wrong values in dockerd\'s words, nothing made', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const networks = d.ok(['network', 'ls', '-q']);
  const cases: [string[], string][] = [
    [['-d', 'nope'], 'plugin "nope" not found'],
    [['--ipam-driver', 'nope'], 'plugin "nope" not found'],
    [['-d', 'overlay'], 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'],
    [['--ingress'], 'Ingress network can only be global scope network'],
    [['--config-from', 'nope'], 'configuration network "nope" does not exist'],
    [['--subnet', '10.77.0.5/16'], 'invalid network config:\ninvalid subnet 10.77.0.5/16: it should be 10.77.0.0/16'],
    [['-o', 'com.docker.network.bridge.enable_icc=maybe'], 'failed to parse com.docker.network.bridge.enable_icc value: maybe (strconv.ParseBool: parsing "maybe": invalid syntax)'],
    [['-o', 'com.docker.network.driver.mtu=abc'], 'failed to parse com.docker.network.driver.mtu value: abc (strconv.Atoi: parsing "abc": invalid syntax)'],
  ];
  for (const [args, message] of cases) {
    const r = d.docker(['network', 'create', ...args, 'vals-net']);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), `Error response from daemon: ${message}`, args.join(' '));
  }
  // The CLI checks a gateway or range outside the subnet itself; dockerd does too, and lists every problem.
  const ipam = await apiRequest(d.socket, 'POST', '/networks/create', { Name: 'vals-net', IPAM: { Config: [{ Subnet: '10.77.0.0/16', IPRange: '10.78.0.0/24', Gateway: '10.79.0.1' }] } });
  assert.equal(ipam.status, 400, ipam.body);
  assert.deepEqual(ipam.json(), { message: "invalid network config:\n* invalid ip-range 10.78.0.0/24: parent subnet 10.77.0.0/16 doesn't contain ip-range\n* invalid gateway 10.79.0.1: parent subnet 10.77.0.0/16 doesn't contain this address" });
  assert.equal(d.ok(['network', 'ls', '-q']), networks, 'no network is left');

  const c = d.ok(['create', 'busybox', 'true']);
  const images = d.ok(['images', '-aq']);
  const commits: [string, string][] = [
    ['STOPSIGNAL FOO', 'invalid signal: FOO'],
    ['foo bar', 'foo is not a valid change command'],
    ['HEALTHCHECK --interval=x CMD true', 'dockerfile parse error on line 1: time: invalid duration "x"'],
  ];
  for (const [change, message] of commits) {
    const r = d.docker(['commit', '--change', change, c]);
    assert.equal(r.code, 1, `${change}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), `Error response from daemon: ${message}`, change);
  }
  assert.equal(d.ok(['images', '-aq']), images, 'no image is left');
  // HEALTHCHECK is one of dockerd's change commands.
  const img = d.ok(['commit', '--change', 'HEALTHCHECK --interval=5s --retries=2 CMD true', c, 'vals:hc']);
  assert.ok(img.startsWith('sha256:'), img);
  assert.equal(d.ok(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'vals:hc']), '{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2}');
  d.ok(['rm', c]);
  d.ok(['rmi', 'vals:hc']);
});
