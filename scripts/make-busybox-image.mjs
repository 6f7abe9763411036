#!/usr/bin/env node
// Builds a docker-archive of `busybox:latest` offline from the host's static busybox
// (Debian's busybox-static), for `berth load -i`. Usage: node scripts/make-busybox-image.mjs OUT.tar [BUSYBOX]
// Deterministic: fixed times, sorted entries, no user names, so the image ID only changes when
// the busybox binary does. The archive has Docker 25+'s shape: an OCI layout plus manifest.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import tar from 'tar-stream';

const [out, busyboxPath = '/bin/busybox'] = process.argv.slice(2);
if (!out) {
  console.error('usage: make-busybox-image.mjs OUT.tar [BUSYBOX]');
  process.exit(2);
}

const CREATED = '2024-01-01T00:00:00Z';
const MTIME = new Date(CREATED);
const ARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch] ?? process.arch;
const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d) => d.slice('sha256:'.length);

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

/** Packs entries ({ name, type, mode, body?, linkname? }) into a tar Buffer. */
async function pack(entries) {
  const p = tar.pack();
  const chunks = [];
  const done = (async () => { for await (const c of p) chunks.push(Buffer.from(c)); })();
  for (const e of entries) {
    const body = e.body ?? Buffer.alloc(0);
    const header = { name: e.name, type: e.type ?? 'file', mode: e.mode, uid: 0, gid: 0, mtime: MTIME, size: e.type === 'file' || !e.type ? body.length : 0 };
    if (e.linkname) header.linkname = e.linkname;
    await new Promise((resolve, reject) => p.entry(header, e.type === 'file' || !e.type ? body : Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function rootfsEntries() {
  const dirs = new Map([
    ['bin', 0o755], ['dev', 0o755], ['etc', 0o755], ['home', 0o755], ['proc', 0o555], ['root', 0o700], ['sbin', 0o755],
    ['sys', 0o555], ['tmp', 0o1777], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['var', 0o755],
    ['var/spool', 0o755], ['var/spool/mail', 0o755], ['var/www', 0o755],
  ]);
  const applets = execFileSync(busyboxPath, ['--list-full'], { encoding: 'utf8' })
    .split('\n').map((s) => s.trim())
    .filter((p) => /^(bin|sbin|usr\/bin|usr\/sbin)\/[^/]+$/.test(p) && p !== 'bin/busybox');
  const files = [
    { name: 'bin/busybox', mode: 0o755, body: readFileSync(busyboxPath) },
    { name: 'etc/passwd', mode: 0o644, body: Buffer.from(PASSWD) },
    { name: 'etc/group', mode: 0o644, body: Buffer.from(GROUP) },
    ...[...new Set(applets)].map((p) => ({ name: p, type: 'symlink', mode: 0o777, linkname: '/bin/busybox' })),
  ];
  return [
    ...[...dirs].map(([name, mode]) => ({ name: `${name}/`, type: 'directory', mode })),
    ...files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const layer = await pack(rootfsEntries());
const diffId = sha256(layer);
const config = Buffer.from(JSON.stringify({
  architecture: ARCH,
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  created: CREATED,
  history: [
    { created: CREATED, created_by: `/bin/sh -c #(nop) ADD file:${hex(diffId)} in / ` },
    { created: CREATED, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
  ],
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [diffId] },
}));
const configDigest = sha256(config);
const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: layer.length }],
}));
const manifestDigest = sha256(manifest);
const json = (v) => Buffer.from(JSON.stringify(v));

const archive = await pack([
  { name: 'blobs/', type: 'directory', mode: 0o755 },
  { name: 'blobs/sha256/', type: 'directory', mode: 0o755 },
  { name: `blobs/sha256/${hex(configDigest)}`, mode: 0o644, body: config },
  { name: `blobs/sha256/${hex(diffId)}`, mode: 0o644, body: layer },
  { name: `blobs/sha256/${hex(manifestDigest)}`, mode: 0o644, body: manifest },
  { name: 'index.json', mode: 0o644, body: json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length,
    annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' },
  }] }) },
  { name: 'manifest.json', mode: 0o644, body: json([{ Config: `blobs/sha256/${hex(configDigest)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${hex(diffId)}`] }]) },
  { name: 'oci-layout', mode: 0o644, body: json({ imageLayoutVersion: '1.0.0' }) },
  { name: 'repositories', mode: 0o644, body: json({ busybox: { latest: hex(diffId) } }) },
]);
writeFileSync(out, archive);
console.log(`${out}: busybox:latest ${configDigest}`);
