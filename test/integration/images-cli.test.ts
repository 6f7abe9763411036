// Image commands end to end: load (docker-archive, OCI layout, gzip, stdin), save, import with
// --change, images listing and filters, tag, rmi, history, prune, and hostile archives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar, type TestEntry } from '../../src/image/test-tar.ts';
import { BUSYBOX_TAR, REPO, TestDaemon, daemonFor, requireRoot, type RunResult } from './harness.ts';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string): string => d.slice('sha256:'.length);
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Runs berth or docker with binary stdin. */
function pipe(d: TestDaemon, cli: 'berth' | 'docker', args: string[], input: Buffer): RunResult {
  const env: NodeJS.ProcessEnv = cli === 'berth'
    ? { ...process.env, BERTH_HOST: d.host }
    : { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') };
  const [cmd, pre] = cli === 'berth' ? [process.execPath, [join(REPO, 'dist/berth.mjs')]] : ['docker', []];
  const r = spawnSync(cmd, [...pre, ...args], { env, input, encoding: 'utf8', timeout: 60000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The busybox rootfs layer (uncompressed tar) out of the fixture archive. */
async function busyboxLayer(): Promise<Buffer> {
  const { default: tar } = await import('tar-stream');
  const archive = readFileSync(BUSYBOX_TAR);
  const files = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => { parts.push(c as Buffer); });
      stream.on('end', () => { files.set(h.name, Buffer.concat(parts)); next(); });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(archive);
  await done;
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Layers: string[] }>;
  return files.get(manifest[0]!.Layers[0]!)!;
}

interface OciImage { ref: string; layers: Buffer[]; config?: object; gzipLayers?: boolean; corruptBlob?: boolean }

/** An OCI image layout tar (no manifest.json), layers optionally gzipped. */
async function ociArchive(img: OciImage): Promise<Buffer> {
  const diffIds = img.layers.map(sha);
  const blobs = img.layers.map((l) => (img.gzipLayers ? gzipSync(l) : l));
  const config = json({ architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin:/usr/bin'], ...img.config }, rootfs: { type: 'layers', diff_ids: diffIds },
    history: img.layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'test layer' })) });
  const layerType = `application/vnd.oci.image.layer.v1.tar${img.gzipLayers ? '+gzip' : ''}`;
  const manifest = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: blobs.map((b) => ({ mediaType: layerType, digest: sha(b), size: b.length })) });
  const entries: TestEntry[] = [
    { name: 'oci-layout', body: json({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', body: json({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': img.ref, 'org.opencontainers.image.ref.name': img.ref.split(':').pop() } }] }) },
    { name: 'blobs/' }, { name: 'blobs/sha256/' },
    { name: `blobs/sha256/${hex(sha(config))}`, body: config },
    { name: `blobs/sha256/${hex(sha(manifest))}`, body: manifest },
    ...blobs.map((b) => ({ name: `blobs/sha256/${hex(sha(b))}`, body: img.corruptBlob ? Buffer.concat([b, Buffer.from('x')]) : b })),
  ];
  return makeTar(entries);
}

/** A docker-archive whose one layer is `layer` (for hostile layer contents). */
async function dockerArchive(ref: string, layer: Buffer): Promise<Buffer> {
  const config = json({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } });
  return makeTar([
    { name: `${hex(sha(config))}.json`, body: config },
    { name: 'layer/' }, { name: 'layer/layer.tar', body: layer },
    { name: 'manifest.json', body: json([{ Config: `${hex(sha(config))}.json`, RepoTags: [ref], Layers: ['layer/layer.tar'] }]) },
  ]);
}

/** Every path under root, for before/after comparisons (temp dirs and files left behind). */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      out.push(relative(root, p));
      if (e.isDirectory() && depth < 3) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out.sort();
}

test('image commands through berth and docker', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const tmp = mkdtempSync(join(tmpdir(), 'berth-images-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const bbId = d.ok(['inspect', '-f', '{{.Id}}', 'busybox']);
  const base = await busyboxLayer();
  const helloLayer = await makeTar([{ name: 'hello.txt', body: 'hello from oci\n' }]);

  await t.test('load -i and < stdin, docker-archive and OCI layout, gzip', async () => {
    const oci = await ociArchive({ ref: 'docker.io/library/ocitest:v1', layers: [base, helloLayer], gzipLayers: true, config: { Cmd: ['cat', '/hello.txt'] } });
    writeFileSync(join(tmp, 'oci.tar'), oci);
    assert.equal(d.ok(['load', '-i', join(tmp, 'oci.tar')]), 'Loaded image: ocitest:v1');
    assert.equal(d.ok(['run', '--rm', 'ocitest:v1']), 'hello from oci');
    const oci2 = await ociArchive({ ref: 'docker.io/library/ocigz:v2', layers: [base, await makeTar([{ name: 'hello.txt', body: 'gz\n' }])] });
    const r = pipe(d, 'berth', ['load'], gzipSync(oci2));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Loaded image: ocigz:v2');
    assert.equal(d.ok(['run', '--rm', 'ocigz:v2', 'cat', '/hello.txt']), 'gz');
    const viaDocker = pipe(d, 'docker', ['load'], readFileSync(BUSYBOX_TAR));
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.match(viaDocker.stdout, /Loaded image: busybox:latest/);
    assert.equal(d.ok(['load', '-q', '-i', BUSYBOX_TAR]), 'Loaded image: busybox:latest');
  });

  await t.test('save -o and > stdout with two images reload to the same IDs', async () => {
    const ids = ['busybox', 'ocitest:v1'].map((r) => d.ok(['inspect', '-f', '{{.Id}}', r]));
    d.ok(['save', '-o', join(tmp, 'two.tar'), 'busybox', 'ocitest:v1']);
    const viaStdout = spawnSync(process.execPath, [join(REPO, 'dist/berth.mjs'), 'save', 'busybox', 'ocitest:v1'], { env: { ...process.env, BERTH_HOST: d.host }, maxBuffer: 1 << 28 });
    assert.equal(viaStdout.status, 0, viaStdout.stderr.toString());
    assert.ok(viaStdout.stdout.length > 100000);
    const dk = d.docker(['save', '-o', join(tmp, 'dk.tar'), 'ocitest:v1']);
    assert.equal(dk.code, 0, dk.stderr);
    const fresh = new TestDaemon();
    try {
      await fresh.start();
      assert.equal(fresh.ok(['images', '-q']), '');
      assert.match(fresh.ok(['load', '-i', join(tmp, 'two.tar')]), /Loaded image: busybox:latest\nLoaded image: ocitest:v1/);
      assert.deepEqual(['busybox', 'ocitest:v1'].map((r) => fresh.ok(['inspect', '-f', '{{.Id}}', r])), ids);
      fresh.ok(['rmi', 'busybox', 'ocitest:v1']);
      assert.equal(pipe(fresh, 'berth', ['load'], viaStdout.stdout).code, 0);
      assert.deepEqual(['busybox', 'ocitest:v1'].map((r) => fresh.ok(['inspect', '-f', '{{.Id}}', r])), ids);
      assert.equal(fresh.ok(['run', '--rm', 'ocitest:v1']), 'hello from oci');
    } finally { await fresh.stopAndCheckLeaks(); }
  });

  await t.test('import file and - with --change, then run it', () => {
    writeFileSync(join(tmp, 'rootfs.tar'), base);
    const id = d.ok(['import', '--change', 'CMD ["echo","x"]', '-c', 'ENV GREETING="hi there" B=2', '-c', 'ENV LEGACY two words', '-c', 'LABEL team=core', join(tmp, 'rootfs.tar'), 'imported:one']);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(d.ok(['run', '--rm', 'imported:one']), 'x');
    assert.equal(d.ok(['run', '--rm', 'imported:one', 'sh', '-c', 'echo "$GREETING|$B|$LEGACY"']), 'hi there|2|two words');
    const bad = d.berth(['import', '-c', 'ENV A=1 oops', join(tmp, 'rootfs.tar'), 'imported:bad']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Syntax error - can't find = in "oops". Must be of the form: name=value/);
    assert.equal(d.ok(['inspect', '-f', '{{json .Config.Cmd}} {{index .Config.Labels "team"}}', 'imported:one']), '["echo","x"] core');
    const r = pipe(d, 'berth', ['import', '-c', 'ENTRYPOINT ["/bin/echo"]', '-', 'imported:two'], base);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(d.ok(['run', '--rm', 'imported:two', 'via', 'stdin']), 'via stdin');
    const dk = pipe(d, 'docker', ['import', '-c', 'CMD ["echo","dk"]', '-', 'imported:dk'], base);
    assert.equal(dk.code, 0, dk.stderr);
    assert.equal(d.docker(['run', '--rm', 'imported:dk']).stdout.trim(), 'dk');
    const dangling = pipe(d, 'berth', ['import', '-'], helloLayer);
    assert.equal(dangling.code, 0, dangling.stderr);
  });

  await t.test('images -q/-a/--digests/--no-trunc/--format and filters', () => {
    const list = d.ok(['images']);
    assert.match(list.split('\n')[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(list, new RegExp(`busybox\\s+latest\\s+${hex(bbId).slice(0, 12)}\\s`));
    assert.ok(d.ok(['images', '-q']).split('\n').every((l) => /^[0-9a-f]{12}$/.test(l)));
    assert.ok(d.ok(['images', '-q', '--no-trunc']).split('\n').includes(bbId));
    assert.ok(d.ok(['images', '-a', '-q']).split('\n').length >= d.ok(['images', '-q']).split('\n').length);
    assert.match(d.ok(['images', '--digests']).split('\n')[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    assert.equal(d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']), 'busybox:latest');
    assert.equal(d.ok(['images', '--format', '{{.Repository}}|{{.Tag}}', '--filter', 'dangling=true']), '<none>|<none>');
    const refs = d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=imported:*']).split('\n').sort();
    assert.deepEqual(refs, ['imported:dk', 'imported:one', 'imported:two']);
    assert.equal(d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'label=team=core']), 'imported:one');
    const since = d.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'since=imported:one', '--filter', 'dangling=false']).split('\n').sort();
    assert.deepEqual(since, ['imported:dk', 'imported:two']);
    const before = d.ok(['images', '--format', '{{.Repository}}', '--filter', 'before=imported:one']).split('\n');
    assert.ok(!before.includes('imported') && before.includes('busybox'), before.join(','));
    assert.match(d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'busybox']).stdout, new RegExp(`^busybox:latest ${hex(bbId).slice(0, 12)}\\n$`));
    assert.equal(d.docker(['images', '-q', '--filter', 'dangling=true']).stdout.trim().split('\n').length, 1);
  });

  await t.test('tag, history, rmi untag vs delete, rmi of an image in use', () => {
    d.ok(['tag', 'busybox', 'mybox:1']);
    assert.equal(d.docker(['tag', 'busybox:latest', 'localhost:5000/team/mybox:2']).code, 0);
    assert.equal(d.ok(['inspect', '-f', '{{.Id}}', 'mybox:1']), bbId);
    assert.match(d.ok(['history', 'busybox']).split('\n')[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(d.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox']), /CMD \["sh"\]/);
    assert.equal(d.ok(['rmi', 'mybox:1']), 'Untagged: mybox:1');
    assert.equal(d.ok(['rmi', 'localhost:5000/team/mybox:2']), 'Untagged: localhost:5000/team/mybox:2');
    assert.equal(d.ok(['inspect', '-f', '{{.Id}}', 'busybox']), bbId);

    d.ok(['create', '--name', 'user', 'imported:two']);
    const refused = d.berth(['rmi', 'imported:two']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /conflict: unable to remove repository reference "imported:two" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
    const dk = d.docker(['rmi', 'imported:two']);
    assert.match(dk.stderr, /conflict: unable to remove repository reference "imported:two" \(must force\)/);
    // -f ignores a stopped container (docker deletes the image; the container keeps its ID) ...
    assert.match(d.ok(['rmi', '-f', 'imported:two']), /^Untagged: imported:two\nDeleted: sha256:[0-9a-f]{64}$/);
    d.ok(['rm', 'user']);
    // ... but only untags an image a running container uses.
    d.ok(['tag', 'imported:dk', 'inuse:1']);
    d.ok(['run', '-d', '--name', 'runner', 'inuse:1', 'sleep', '300']);
    assert.equal(d.ok(['rmi', 'imported:dk']), 'Untagged: imported:dk', 'another tag is left: untag only');
    assert.match(d.berth(['rmi', 'inuse:1']).stderr, /unable to remove repository reference "inuse:1" \(must force\) - container [0-9a-f]{12} is using/);
    assert.equal(d.ok(['rmi', '-f', 'inuse:1']), 'Untagged: inuse:1');
    assert.equal(d.ok(['inspect', '-f', '{{.State.Running}}', 'runner']), 'true');
    d.ok(['rm', '-f', 'runner']);

    const deleted = d.ok(['rmi', 'imported:one']);
    assert.match(deleted, /^Untagged: imported:one\nDeleted: sha256:[0-9a-f]{64}/);
    assert.notEqual(d.berth(['inspect', '--type', 'image', 'imported:one']).code, 0);
    const missing = d.berth(['rmi', 'nosuch:image']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:image/);
  });

  await t.test('image prune -a -f keeps images in use', () => {
    d.ok(['create', '--name', 'keeper', 'busybox']);
    const out = d.ok(['image', 'prune', '-a', '-f']);
    assert.match(out, /Deleted Images:/);
    assert.match(out, /Total reclaimed space: /);
    assert.deepEqual(d.ok(['images', '--format', '{{.Repository}}']).split('\n'), ['busybox']);
    assert.equal(d.ok(['image', 'prune', '-f']), 'Total reclaimed space: 0B');
    d.ok(['rm', 'keeper']);
  });

  await t.test('hostile archives fail cleanly and change nothing', async () => {
    const listing = ['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.Size}}'];
    const imagesBefore = d.ok(listing);
    const rootBefore = tree(d.dataRoot);
    const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    const evil: Array<[string, Buffer]> = [
      ['layer path traversal', await dockerArchive('evil:dotdot', await makeTar([{ name: '../../../../../../../../../../../../tmp/berth-evil-dotdot', body: 'x' }]))],
      ['layer absolute symlink escape', await dockerArchive('evil:symlink', await makeTar([
        { name: 'esc', type: 'symlink', linkname: outside }, { name: 'esc/pwned', body: 'x' }]))],
      ['layer relative symlink escape', await dockerArchive('evil:relsym', await makeTar([
        { name: 'up', type: 'symlink', linkname: '../../../../../../../../..' + outside }, { name: 'up/pwned2', body: 'x' }]))],
      ['hardlink to a host file', await dockerArchive('evil:hardlink', await makeTar([{ name: 'shadow', type: 'link', linkname: '../../../../../../../../etc/shadow' }]))],
      ['manifest path traversal', await makeTar([{ name: 'manifest.json', body: json([{ Config: '../../../../../../etc/passwd', RepoTags: ['evil:cfg'], Layers: [] }]) }])],
      ['archive entry traversal', await makeTar([{ name: '../../../../../../tmp/berth-evil-entry', body: 'x' }, { name: 'manifest.json', body: json([]) }])],
      ['bad blob digest', await ociArchive({ ref: 'docker.io/library/evil:digest', layers: [helloLayer], corruptBlob: true })],
      ['not a tar', Buffer.from('this is not an archive at all, just text\n'.repeat(40))],
    ];
    for (const [what, archive] of evil) {
      const r = pipe(d, 'berth', ['load'], archive);
      assert.notEqual(r.code, 0, `${what}: loaded: ${r.stdout}`);
      assert.ok(r.stderr.trim().length > 0, `${what}: no error message`);
      assert.doesNotMatch(r.stderr, /TypeError|ReferenceError|\bat .*\.ts:\d+/, `${what}: ${r.stderr}`);
      assert.deepEqual(readdirSync(outside), [], what);
      for (const f of ['/tmp/berth-evil-dotdot', '/tmp/berth-evil-entry']) assert.throws(() => statSync(f), what);
    }
    assert.equal(d.ok(listing), imagesBefore);
    assert.deepEqual(tree(d.dataRoot), rootBefore);
  });
});
