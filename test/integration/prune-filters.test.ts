/**
 * Prune filters end to end (issue 11): every prune endpoint honours label, label! and until (and
 * dangling for images), through berth and the docker CLI; volume prune follows the API version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { REPO, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** One API call over the daemon's socket; the body as text. */
function api(d: TestDaemon, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const names = (d: TestDaemon, args: string[]) => d.ok(args).split('\n').filter(Boolean).sort();
const q = (filters: object) => encodeURIComponent(JSON.stringify(filters));

test('container, network and system prune honour label, label! and until', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const stopped = (name: string, label?: string) => d.ok(['create', '--name', name, ...(label ? ['--label', label] : []), 'busybox', 'true']);
  stopped('plain');
  stopped('tagged', 'x=y');
  stopped('other', 'x=z');
  d.ok(['run', '-d', '--name', 'running', '--label', 'x=y', 'busybox', 'sleep', '300']);
  const all = () => names(d, ['ps', '-a', '--format', '{{.Names}}']);

  // Everything is younger than a day: until=24h takes nothing, through either CLI.
  assert.equal(d.ok(['container', 'prune', '-f', '--filter', 'until=24h']), 'Total reclaimed space: 0B');
  assert.equal(d.docker(['container', 'prune', '-f', '--filter', 'until=24h']).code, 0);
  assert.deepEqual(all(), ['other', 'plain', 'running', 'tagged']);

  // label: only the stopped container with x=y; the running one stays.
  const byLabel = d.ok(['container', 'prune', '-f', '--filter', 'label=x=y']);
  assert.match(byLabel, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.deepEqual(all(), ['other', 'plain', 'running']);

  // label!: the docker CLI spares what carries x (any value).
  const dk = d.docker(['container', 'prune', '-f', '--filter', 'label!=x']);
  assert.equal(dk.code, 0, dk.stderr);
  assert.deepEqual(all(), ['other', 'running']);

  // Networks: only the labelled unused one goes; until=24h keeps the fresh ones.
  d.ok(['network', 'create', '--label', 'x=y', 'net-tagged']);
  d.ok(['network', 'create', 'net-plain']);
  assert.equal(d.docker(['network', 'prune', '-f', '--filter', 'until=24h']).stdout, '');
  assert.match(d.docker(['network', 'prune', '-f', '--filter', 'label=x=y']).stdout, /Deleted Networks:\nnet-tagged\n/);
  assert.deepEqual(names(d, ['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), ['net-plain']);

  // system prune -f --filter label=x=z: only objects carrying it.
  const sp = d.ok(['system', 'prune', '-f', '--filter', 'label=x=z']);
  assert.match(sp, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.deepEqual(all(), ['running']);
  assert.deepEqual(names(d, ['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), ['net-plain']);
  assert.equal(d.docker(['system', 'prune', '-f', '--filter', 'label=nothing']).code, 0);
  assert.deepEqual(names(d, ['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), ['net-plain']);

  // The docker CLI shows the filters in its prompt, and refuses until with --volumes, as docker does.
  const prompt = d.berth(['system', 'prune', '--filter', 'label=a=b'], 'n\n');
  assert.match(prompt.stdout, /\n\n {2}Items to be pruned will be filtered with:\n {2}- label=a=b\n\nAre you sure you want to continue\? \[y\/N\] $/);
  const noUntil = d.berth(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
  assert.equal(noUntil.code, 1);
  assert.match(noUntil.stderr, /The "until" filter is not supported with "--volumes"/);

  // until=0s is "now": every stopped container was created before it.
  stopped('last');
  assert.match(d.docker(['container', 'prune', '-f', '--filter', 'until=0s']).stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.deepEqual(all(), ['running']);

  // Unknown or malformed filters change nothing and say why.
  for (const ep of ['containers', 'networks', 'volumes', 'images', 'build']) {
    const r = await api(d, 'POST', `/v1.47/${ep}/prune?filters=${q({ bogus: ['1'] })}`);
    assert.equal(r.status, 400, `${ep}: ${r.body}`);
    assert.match(r.body, /invalid filter 'bogus'/);
  }
  const twoUntil = await api(d, 'POST', `/v1.47/containers/prune?filters=${q({ until: ['1h', '2h'] })}`);
  assert.equal(twoUntil.status, 400);
  assert.match(twoUntil.body, /more than one until filter specified/);
  d.ok(['rm', '-f', 'running']);
  d.ok(['network', 'rm', 'net-plain']);
});

test('image prune: dangling, -a with until and label filters, through both CLIs', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  d.ok(['create', '--name', 'base', 'busybox', 'true']); // keeps busybox in use
  d.ok(['commit', '--change', 'LABEL keep=1', 'base', 'img:keep']);
  d.ok(['commit', '--change', 'LABEL tier=test', 'base', 'img:test']);
  d.ok(['commit', 'base', 'img:plain']);
  const repos = () => names(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(repos(), ['busybox:latest', 'img:keep', 'img:plain', 'img:test']);

  // Fresh images are younger than 24h: nothing goes.
  const young = d.docker(['image', 'prune', '-a', '-f', '--filter', 'until=24h']);
  assert.equal(young.code, 0, young.stderr);
  assert.deepEqual(repos(), ['busybox:latest', 'img:keep', 'img:plain', 'img:test']);
  // Tagged images are not dangling: a plain prune leaves them.
  assert.equal(d.ok(['image', 'prune', '-f', '--filter', 'label=tier=test']), 'Total reclaimed space: 0B');
  assert.match(d.ok(['image', 'prune', '-a', '-f', '--filter', 'label=tier=test']), /untagged: img:test/);
  assert.deepEqual(repos(), ['busybox:latest', 'img:keep', 'img:plain']);
  const dk = d.docker(['image', 'prune', '-a', '-f', '--filter', 'label!=keep']);
  assert.match(dk.stdout, /untagged: img:plain/);
  assert.deepEqual(repos(), ['busybox:latest', 'img:keep']);
  d.ok(['rm', 'base']);
});

test('volume prune: anonymous only from API 1.42, every unused one below it and with -a; label filters', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const make = () => {
    d.ok(['volume', 'create', 'named1']);
    d.ok(['volume', 'create', '--label', 'keep=1', 'named2']);
    d.ok(['run', '--rm', '-v', '/anon', 'busybox', 'true']); // --rm takes its anonymous volume
    d.ok(['create', '--name', 'holder', '-v', '/anon', 'busybox', 'true']);
    d.ok(['rm', 'holder']); // without -v its anonymous volume stays
  };
  const vols = () => d.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean);
  make();
  assert.equal(vols().length, 3);
  const dk = d.docker(['volume', 'prune', '-f']);
  assert.match(dk.stdout, /Deleted Volumes:\n[0-9a-f]{64}\n/);
  assert.deepEqual(vols().sort(), ['named1', 'named2']);
  assert.match(d.docker(['volume', 'prune', '-a', '-f', '--filter', 'label!=keep']).stdout, /Deleted Volumes:\nnamed1\n/);
  assert.deepEqual(vols(), ['named2']);

  // An API 1.41 client (docker-py's default era) prunes every unused volume.
  const old = await api(d, 'POST', '/v1.41/volumes/prune');
  assert.equal(old.status, 200, old.body);
  assert.deepEqual(JSON.parse(old.body).VolumesDeleted, ['named2']);
  make();
  const newer = await api(d, 'POST', `/v1.42/volumes/prune?filters=${q({ label: ['keep=1'] })}`);
  assert.equal(JSON.parse(newer.body).VolumesDeleted, null, 'named volumes stay at 1.42 without all=true');
  const allTrue = await api(d, 'POST', `/v1.42/volumes/prune?filters=${q({ all: ['true'], label: ['keep=1'] })}`);
  assert.deepEqual(JSON.parse(allTrue.body).VolumesDeleted, ['named2']);
  const bad = await api(d, 'POST', `/v1.42/volumes/prune?filters=${q({ all: ['maybe'] })}`);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /invalid filter 'all'/);
  d.ok(['volume', 'prune', '-af']);
  assert.deepEqual(vols(), []);
});

test('docker-py: label, label! and until prunes leave what does not match (containers, networks, volumes, images)', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const r = spawnSync('python3', [join(REPO, 'test/integration/fixtures/prune-docker-py.py')], { env: { ...process.env, DOCKER_HOST: d.host }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  t.diagnostic(`docker-py spoke API ${String(out['api'])}`);
  assert.equal(out['containers_until'], null, 'until=24h takes nothing younger');
  assert.equal(out['containers_label'], 1);
  assert.equal(out['containers_not'], 1);
  assert.deepEqual(out['containers'], ['py-keep']);
  assert.equal(out['networks_until'], null);
  assert.deepEqual(out['networks_label'], ['pynet-go']);
  assert.deepEqual(out['networks'], ['pynet-keep']);
  assert.deepEqual(out['volumes_label'], ['pyvol-go']);
  assert.deepEqual(out['volumes_not'], ['pyvol-plain']);
  assert.deepEqual(out['volumes'], ['pyvol-keep']);
  assert.equal(out['images_until'], null);
  assert.deepEqual(out['images_label'], [{ Untagged: 'pyimg:go' }]);
  assert.deepEqual(out['images'], ['pyimg:keep']);
  d.ok(['network', 'rm', 'pynet-keep']);
  d.ok(['volume', 'rm', 'pyvol-keep']);
});
