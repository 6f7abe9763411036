/**
 * Networks as dockerd 27 (API 1.47) shows them to real clients: any name that is not blank works
 * everywhere (create, run --network, inspect, connect, disconnect, rm), IPAM.Options and the other
 * maps and arrays of network inspect have dockerd's null/{} shapes, and an endpoint's DriverOpts
 * are kept and shown by container inspect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiRequest } from './api-request.ts';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** GET on the daemon's API socket, parsed (a fresh connection each time: apiRequest uses no agent). */
async function apiGet<T>(d: TestDaemon, path: string): Promise<T> {
  const r = await apiRequest(d.socket, 'GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
  return r.json() as T;
}

interface NetInspect {
  Name: string; Id: string; IPAM: { Driver: string; Options: Record<string, string> | null; Config: unknown[] | null };
  Options: Record<string, string>; Labels: Record<string, string>; Containers: Record<string, { Name: string; IPv4Address: string }>;
  ConfigFrom: { Network: string }; Peers?: unknown;
}

test('network names with spaces, inspect shapes and endpoint DriverOpts through the docker CLI', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);

  await t.test('a name with spaces works for create, run, inspect, connect, disconnect and rm', () => {
    const ok = (args: string[]) => {
      const r = d.docker(args);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const id = ok(['network', 'create', 'my net']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(ok(['network', 'inspect', '-f', '{{.Name}}', 'my net']), 'my net');
    ok(['run', '-d', '--name', 'spaced', '--network', 'my net', 'busybox', 'sleep', '300']);
    const ip = ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "my net").IPAddress}}', 'spaced']);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const members = JSON.parse(ok(['network', 'inspect', 'my net'])) as NetInspect[];
    assert.deepEqual(Object.values(members[0]!.Containers).map((c) => c.Name), ['spaced']);
    ok(['network', 'create', 'other net']);
    ok(['network', 'connect', 'other net', 'spaced']);
    assert.deepEqual(ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}};{{end}}', 'spaced']).split(';').filter(Boolean).sort(), ['my net', 'other net']);
    ok(['network', 'disconnect', 'other net', 'spaced']);
    ok(['rm', '-f', 'spaced']);
    ok(['network', 'rm', 'my net', 'other net']);
    assert.equal(d.docker(['network', 'inspect', 'my net']).code, 1);
    const blank = d.docker(['network', 'create', '   ']);
    assert.equal(blank.code, 1);
    assert.match(blank.stderr, /invalid name:/);
  });

  await t.test('IPAM.Options is null unless sent; Config, Containers, ConfigFrom and Peers as dockerd sends them', async () => {
    // docker-py and compose 1.29 send no IPAM options; the docker CLI sends {}.
    d.ok(['network', 'create', 'cli-net']);
    const byCli = await apiGet<NetInspect>(d, '/networks/cli-net');
    assert.deepEqual(byCli.IPAM.Options, {});
    const created = await apiRequest(d.socket, 'POST', '/networks/create', { Name: 'api-net' });
    assert.equal(created.status, 201, created.body);
    for (const view of [await apiGet<NetInspect>(d, '/networks/api-net'), (await apiGet<NetInspect[]>(d, '/networks')).find((n) => n.Name === 'api-net')!]) {
      assert.equal(view.IPAM.Options, null);
      assert.equal(view.IPAM.Config?.length, 1);
      assert.deepEqual([view.Containers, view.ConfigFrom, view.Options, view.Labels, 'Peers' in view], [{}, { Network: '' }, {}, {}, false]);
    }
    const host = await apiGet<NetInspect>(d, '/networks/host');
    assert.deepEqual(host.IPAM, { Driver: 'default', Options: null, Config: null });
    const bridge = await apiGet<NetInspect>(d, '/networks/bridge');
    assert.equal(bridge.IPAM.Options, null);
    d.ok(['network', 'rm', 'cli-net', 'api-net']);
  });

  await t.test('endpoint DriverOpts from run --network and network connect are kept', () => {
    d.ok(['network', 'create', 'optnet']);
    d.ok(['network', 'create', 'optnet2']);
    assert.equal(d.docker(['run', '-d', '--name', 'withopts', '--network', 'name=optnet,driver-opt=com.example.a=1', 'busybox', 'sleep', '300']).code, 0);
    const r = d.docker(['network', 'connect', '--driver-opt', 'com.example.b=2', 'optnet2', 'withopts']);
    assert.equal(r.code, 0, r.stderr);
    const nets = JSON.parse(d.ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'withopts'])) as Record<string, { DriverOpts: unknown }>;
    assert.deepEqual(nets['optnet']!.DriverOpts, { 'com.example.a': '1' });
    assert.deepEqual(nets['optnet2']!.DriverOpts, { 'com.example.b': '2' });
    d.ok(['rm', '-f', 'withopts']);
    d.ok(['network', 'rm', 'optnet', 'optnet2']);
  });
});
