// Image endpoints as real clients see them at the API version they ask for: legacy inspect fields,
// and errors of a broken load inside the JSON stream.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startRegistry } from './fixtures/registry-server.mjs';
import { BUSYBOX_TAR, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/** One request over the daemon's socket: status and body text. */
function call(d: TestDaemon, method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function inspectAt(d: TestDaemon, version: string, ref: string): Promise<Record<string, any>> {
  const r = await call(d, 'GET', `/v${version}/images/${ref}/json`);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Record<string, any>;
}

function context(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

test('image inspect: a commit shows Container and ContainerConfig below API 1.45, not from 1.45; Config keeps OnBuild null with and without --target', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const cid = d.ok(['create', '--name', 'src', '-e', 'MARK=1', 'busybox', 'sh', '-c', 'echo hi > /made']);
  d.ok(['start', '-a', 'src']);
  d.ok(['commit', 'src', 'committed:1']);

  const old = await inspectAt(d, '1.44', 'committed:1');
  assert.equal(old['Container'], cid);
  assert.deepEqual(old['ContainerConfig']['Cmd'], ['sh', '-c', 'echo hi > /made']);
  assert.ok(old['ContainerConfig']['Env'].includes('MARK=1'));
  assert.equal(old['ContainerConfig']['OnBuild'], null);
  // docker-py's test_commit (API 1.41): the config as the operator gave it, and the image it came from.
  assert.equal(old['ContainerConfig']['Image'], 'busybox');
  assert.equal(old['Parent'], (await inspectAt(d, '1.44', 'busybox'))['Id']);
  assert.equal((await inspectAt(d, '1.47', 'committed:1'))['Parent'], old['Parent']);
  const oldest = await inspectAt(d, '1.41', 'committed:1');
  assert.equal(oldest['VirtualSize'], oldest['Size']);
  for (const version of ['1.45', '1.47']) {
    const now = await inspectAt(d, version, 'committed:1');
    assert.ok(!('Container' in now) && !('ContainerConfig' in now), `API ${version} has no legacy container fields`);
    assert.ok(!('VirtualSize' in now));
  }
  // The docker CLI asks at its own version (1.47 against us): the Go client decodes the fields if sent.
  assert.equal(d.docker(['image', 'inspect', '--format', '{{json .Config.OnBuild}}', 'committed:1']).stdout.trim(), 'null');
  // An image that is not a commit: "" and a zero config below 1.45.
  const base = await inspectAt(d, '1.44', 'busybox');
  assert.equal(base['Container'], '');
  assert.equal(base['ContainerConfig']['Cmd'], null);

  const dir = context(t, { 'Dockerfile': 'FROM busybox AS base\nRUN echo base > /b\n\nFROM base\nONBUILD RUN echo child\nCMD ["sh"]\n' });
  d.ok(['build', '-q', '--target', 'base', '-t', 'tgt:1', dir]);
  d.ok(['build', '-q', '-t', 'full:1', dir]);
  const target = (await inspectAt(d, '1.47', 'tgt:1'))['Config'];
  assert.ok('OnBuild' in target, JSON.stringify(target));
  assert.equal(target['OnBuild'], null);
  assert.equal(target['Entrypoint'], null);
  assert.equal(target['Labels'], null);
  assert.deepEqual((await inspectAt(d, '1.47', 'full:1'))['Config']['OnBuild'], ['RUN echo child']);
});

/** Every path under the data root except the database and the lock: what a failed operation must not change. */
function dataRootFiles(d: TestDaemon): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && (e.name.startsWith('berth.db') || e.name === 'berthd.lock')) continue;
      out.push(r);
      if (e.isDirectory()) walk(join(dir, e.name), r);
    }
  };
  walk(d.dataRoot, '');
  return out.sort();
}

test('a broken load answers 200 with the error in the JSON stream; docker load and berth load print it and exit 1; nothing half-loaded stays', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const good = readFileSync(BUSYBOX_TAR);
  const before = dataRootFiles(d);
  const imagesBefore = d.ok(['images', '-a', '--no-trunc', '-q']);
  const evil = spawnSync('sh', ['-c', 'cd "$1" && mkdir -p a && echo x > a/f && tar --transform "s,^a/f,../../escape," -cf - a/f', 'sh', mkdtempSync(join(tmpdir(), 'berth-evil-'))]).stdout;
  const cases: Record<string, Buffer> = {
    'not a tar': Buffer.from('this is not an archive at all\n'.repeat(40)),
    'truncated': good.subarray(0, Math.floor(good.length / 2)),
    'hostile path': evil,
    'bad gzip': Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(600, 0x55)]),
    'empty': Buffer.alloc(0),
  };
  for (const [name, body] of Object.entries(cases)) {
    const r = await call(d, 'POST', '/v1.47/images/load?quiet=1', body);
    assert.equal(r.status, 200, `${name}: ${r.body}`);
    const last = JSON.parse(r.body.trim().split('\n').at(-1)!) as { error?: string; errorDetail?: { message?: string } };
    assert.ok(last.error && last.errorDetail?.message === last.error, `${name}: ${r.body}`);
  }
  const file = join(d.dir, 'truncated.tar');
  writeFileSync(file, cases['truncated']!);
  for (const [cli, run] of [['docker', d.docker.bind(d)], ['berth', d.berth.bind(d)]] as const) {
    const r = run(['load', '-i', file]);
    assert.equal(r.code, 1, `${cli} load: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /unexpected end|truncated|invalid archive/i, `${cli} prints the daemon's error: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Error response from daemon/, `${cli}: the error came in the stream, not as a status`);
  }
  assert.equal(d.ok(['images', '-a', '--no-trunc', '-q']), imagesBefore);
  assert.deepEqual(dataRootFiles(d), before, 'no spool, blob, snapshot or layer is left by a failed load');
  // The daemon still loads a good archive afterwards.
  d.ok(['rmi', 'busybox']);
  d.ok(['load', '-i', BUSYBOX_TAR]);
});

const MiB = 1024 ** 2;
/**
 * A gzip bomb: a tar whose one file is `mib` MiB of zeros, as concatenated gzip members (one per
 * MiB, ~1 KB each), so a 1 GiB expansion is a ~1 MB upload made in milliseconds.
 */
function tarBomb(mib: number): Buffer {
  const h = Buffer.alloc(512);
  h.write('zeros', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${(mib * MiB).toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('0', 156);
  h.write('ustar\u000000', 257);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const zeros = gzipSync(Buffer.alloc(MiB), { level: 9 });
  return Buffer.concat([gzipSync(h), ...Array.from({ length: mib }, () => zeros), gzipSync(Buffer.alloc(1024))]);
}

/** Pushes a one-layer image whose layer is `layer` to the test registry (the distribution API by hand). */
async function pushRaw(reg: { domain: string }, name: string, layer: Buffer): Promise<void> {
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  // The diffID is never reached: the layer is refused while it is unpacked.
  const config = Buffer.from(JSON.stringify({ architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(Buffer.from('never'))] } }));
  for (const blob of [config, layer]) {
    const start = await fetch(`http://${reg.domain}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const loc = new URL(start.headers.get('location')!, `http://${reg.domain}`);
    loc.searchParams.set('digest', sha(blob));
    const put = await fetch(loc, { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
  }
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }],
  };
  const res = await fetch(`http://${reg.domain}/v2/${name}/manifests/1`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'Content-Type': manifest.mediaType } });
  assert.equal(res.status, 201, await res.text());
}

test('gzip bombs are refused cleanly by load, import, build, cp and pull: a clear error, nothing left on the data root', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const bomb = tarBomb(1024);
  assert.ok(bomb.length < 2 * MiB);
  const cid = d.ok(['create', '--name', 'target', 'busybox', 'true']);
  const before = dataRootFiles(d);

  const load = await call(d, 'POST', '/v1.47/images/load', bomb);
  assert.equal(load.status, 200);
  assert.match(load.body, /"error":"invalid archive: refused as a decompression bomb: [^"]* \(over 200:1\)"/);
  const imported = await call(d, 'POST', '/v1.47/images/create?fromSrc=-&repo=bomb', bomb);
  assert.equal(imported.status, 400, imported.body);
  assert.match(imported.body, /decompression bomb/);
  const built = await call(d, 'POST', '/v1.47/build?t=bomb', bomb);
  assert.match(built.body, /build context: refused as a decompression bomb/);
  const cp = await call(d, 'PUT', `/v1.47/containers/${cid}/archive?path=/tmp`, bomb);
  assert.equal(cp.status, 400, cp.body);
  assert.match(cp.body, /decompression bomb/);
  const file = join(d.dir, 'bomb.tar.gz');
  writeFileSync(file, bomb);
  const cli = d.docker(['load', '-i', file]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /decompression bomb/);

  const reg = await startRegistry();
  t.after(() => reg.close());
  await pushRaw(reg, 'bomb', bomb);
  const pull = d.docker(['pull', `${reg.domain}/bomb:1`]);
  assert.equal(pull.code, 1, pull.stdout);
  assert.match(pull.stderr, /decompression bomb/);

  assert.deepEqual(dataRootFiles(d).filter((f) => !f.startsWith(`overlay/containers/${cid}`)), before.filter((f) => !f.startsWith(`overlay/containers/${cid}`)),
    'no spool, temp blob, layer, snapshot or compressed blob is left');
  assert.deepEqual(d.ok(['images', '-a', '--format', '{{.Repository}}']).split('\n'), ['busybox']);
});
