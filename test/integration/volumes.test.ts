import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';

const mounted = (path: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

const volumeNames = (d: TestDaemon): string[] => d.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean);

/** A rootfs tarball with busybox, /data/hello.txt, and /link -> /etc (a VOLUME at a symlink). */
function makeRootfsTar(dir: string): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const a of ['sh', 'cat', 'ls', 'sleep', 'echo', 'sha256sum']) symlinkSync('busybox', join(root, 'bin', a));
  mkdirSync(join(root, 'data/sub'), { recursive: true });
  writeFileSync(join(root, 'data/hello.txt'), 'hello from the image\n');
  writeFileSync(join(root, 'data/sub/deep.txt'), 'deep\n');
  // Copied as a link, never followed to the host's /etc.
  symlinkSync('/etc', join(root, 'data/etc-link'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/marker'), 'image etc\n');
  symlinkSync('/etc', join(root, 'link'));
  const tar = join(dir, 'rootfs.tar');
  const r = spawnSync('tar', ['-C', root, '-cf', tar, '.']);
  assert.equal(r.status, 0, String(r.stderr));
  return tar;
}

test('named volumes: data survives rm and a kill -9 of berthd; in use is refused; two writers; inspect Mounts', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  assert.equal(d.ok(['volume', 'create', 'data1']), 'data1');
  const sha = d.ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'head -c 200000 /dev/urandom > /data/f && sha256sum /data/f']).split(' ')[0]!;
  assert.match(sha, /^[0-9a-f]{64}$/);
  assert.equal(d.ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sha256sum', '/data/f']).split(' ')[0], sha);

  const c1 = d.ok(['run', '-d', '--name', 'holder', '-v', 'data1:/data', 'busybox', 'sleep', '600']);
  const inUse = d.berth(['volume', 'rm', 'data1']);
  assert.equal(inUse.code, 1);
  assert.equal(inUse.stderr.trim(), `Error response from daemon: remove data1: volume is in use - [${c1}]`);
  const mounts = JSON.parse(d.ok(['inspect', '-f', '{{json .Mounts}}', 'holder'])) as Record<string, unknown>[];
  assert.deepEqual(mounts, [{
    Type: 'volume', Name: 'data1', Source: join(d.dataRoot, 'volumes/data1/_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '',
  }]);
  const vol = JSON.parse(d.ok(['volume', 'inspect', 'data1'])) as Record<string, unknown>[];
  assert.equal(vol[0]!['Mountpoint'], join(d.dataRoot, 'volumes/data1/_data'));
  assert.equal(vol[0]!['Scope'], 'local');
  assert.equal(d.ok(['volume', 'ls', '-f', 'dangling=true', '-q']), '');

  await d.stop('SIGKILL');
  await d.start();
  assert.equal(d.ok(['inspect', '-f', '{{.State.Status}}', 'holder']), 'running');
  assert.equal(d.ok(['exec', 'holder', 'sha256sum', '/data/f']).split(' ')[0], sha);
  assert.equal(d.ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sha256sum', '/data/f']).split(' ')[0], sha);

  // Two containers append to one file and write their own at once.
  const w = (n: string) => d.ok(['run', '-d', '-v', 'data1:/data', 'busybox', 'sh', '-c', `for i in $(seq 1 300); do echo ${n}$i >> /data/shared; echo $i >> /data/${n}; done`]);
  const [wa, wb] = [w('a'), w('b')];
  d.ok(['wait', wa, wb]);
  const counts = d.ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'grep -c ^a /data/shared; grep -c ^b /data/shared; wc -l < /data/a; wc -l < /data/b']);
  assert.deepEqual(counts.split('\n').map((s) => s.trim()), ['300', '300', '300', '300']);
  d.ok(['rm', wa, wb]);

  d.ok(['rm', '-f', 'holder']);
  assert.equal(d.ok(['volume', 'ls', '-f', 'dangling=true', '-q']), 'data1');
  assert.equal(d.ok(['volume', 'rm', 'data1']), 'data1');
  assert.ok(!existsSync(join(d.dataRoot, 'volumes/data1')));
  const gone = d.berth(['volume', 'inspect', 'data1']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr.trim(), 'Error response from daemon: get data1: no such volume');
  assert.equal(d.berth(['volume', 'rm', '-f', 'data1']).code, 0);
});

test('anonymous volumes (-v /path, image VOLUME), copy-up once and never out of the rootfs, rm -v, --rm, prune', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = mkdtempSync(join(tmpdir(), 'berth-vol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  d.ok(['import', '--change', 'VOLUME /data', '--change', 'VOLUME /link', '--change', 'CMD ["/bin/sh"]', makeRootfsTar(dir), 'volimg:1']);

  d.ok(['run', '-d', '--name', 'anon', '-v', '/scratch', 'busybox', 'sleep', '600']);
  const [m] = JSON.parse(d.ok(['inspect', '-f', '{{json .Mounts}}', 'anon'])) as { Name: string; Mode: string; Type: string }[];
  assert.match(m!.Name, /^[0-9a-f]{64}$/);
  assert.equal(m!.Type, 'volume');
  assert.equal(m!.Mode, '');
  assert.equal(d.ok(['volume', 'inspect', '-f', '{{json .Labels}}', m!.Name]), '{"com.docker.volume.anonymous":""}');
  d.ok(['rm', '-f', '-v', 'anon']);
  assert.deepEqual(volumeNames(d), []);

  // The image's VOLUMEs: copied up into the new anonymous volume; symlinks stay links.
  d.ok(['run', '-d', '--name', 'img', 'volimg:1', 'sleep', '600']);
  assert.equal(d.ok(['exec', 'img', 'cat', '/data/hello.txt', '/data/sub/deep.txt']), 'hello from the image\ndeep');
  assert.equal(d.ok(['exec', 'img', 'sh', '-c', 'readlink /data/etc-link']), '/etc');
  // /link -> /etc is resolved inside the image: its own /etc, never the host's.
  assert.equal(d.ok(['exec', 'img', 'cat', '/link/marker']), 'image etc');
  assert.equal(volumeNames(d).length, 2);
  const imgVols = (JSON.parse(d.ok(['inspect', '-f', '{{json .Mounts}}', 'img'])) as { Name: string; Destination: string; Source: string }[]);
  const linkVol = imgVols.find((x) => x.Destination === '/link')!;
  assert.ok(existsSync(join(linkVol.Source, 'marker')));
  assert.ok(!existsSync(join(linkVol.Source, 'passwd')), 'the host /etc was copied');

  // --rm takes its anonymous volumes along.
  assert.equal(d.ok(['run', '--rm', 'volimg:1', 'cat', '/data/hello.txt']), 'hello from the image');
  assert.equal(volumeNames(d).length, 2);

  // Copy-up into a new named volume happens once.
  assert.equal(d.ok(['run', '--rm', '-v', 'named1:/data', 'volimg:1', 'cat', '/data/hello.txt']), 'hello from the image');
  d.ok(['run', '--rm', '-v', 'named1:/data', 'busybox', 'sh', '-c', 'rm -rf /data/*']);
  assert.equal(d.ok(['run', '--rm', '-v', 'named1:/data', 'volimg:1', 'ls', '-A', '/data']), '');
  // nocopy: a new volume stays empty.
  assert.equal(d.ok(['run', '--rm', '-v', 'nocopy1:/data:nocopy', 'volimg:1', 'ls', '-A', '/data']), '');

  // Plain prune: unused anonymous volumes only. img's are in use, named ones are not anonymous.
  d.ok(['rm', '-f', 'img']);
  const pruned = d.ok(['volume', 'prune', '-f']);
  assert.match(pruned, /^Deleted Volumes:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?[kM]?B$/);
  assert.deepEqual(volumeNames(d).sort(), ['named1', 'nocopy1']);
  d.ok(['volume', 'create', '--label', 'keep=1', 'kept']);
  assert.equal(d.ok(['volume', 'ls', '-q', '--filter', 'label=keep']), 'kept');
  assert.match(d.ok(['volume', 'prune', '-af', '--filter', 'label!=keep']), /named1\nnocopy1\n/);
  assert.deepEqual(volumeNames(d), ['kept']);
  assert.equal(d.ok(['volume', 'prune', '-f']), 'Total reclaimed space: 0B');
  d.ok(['rmi', 'volimg:1']);
});

test('bind mounts, --mount, --volumes-from, tmpfs, local tmpfs volumes unmounted with their last container, and bad input', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const dir = mkdtempSync(join(tmpdir(), 'berth-bind-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'f'), 'from the host\n');
  assert.equal(d.ok(['run', '--rm', '-v', `${dir}:/h`, 'busybox', 'sh', '-c', 'cat /h/f; echo written > /h/w']), 'from the host');
  assert.equal(readFileSync(join(dir, 'w'), 'utf8'), 'written\n');
  const ro = d.berth(['run', '--rm', '-v', `${dir}:/h:ro`, 'busybox', 'sh', '-c', 'echo x > /h/w2']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/, ro.stderr);
  assert.ok(!existsSync(join(dir, 'w2')));
  // A symlink to a directory is followed on the host, as Docker does.
  symlinkSync(dir, join(dir, '..', `${join(dir).split('/').pop()}-link`));
  const link = `${dir}-link`;
  t.after(() => rmSync(link, { force: true }));
  assert.equal(d.ok(['run', '--rm', '--mount', `type=bind,src=${link},dst=/h,readonly`, 'busybox', 'cat', '/h/f']), 'from the host');
  // -v creates a missing host directory; --mount refuses it, and nothing is created.
  assert.equal(d.ok(['run', '--rm', '-v', `${dir}/made:/m`, 'busybox', 'ls', '/m']), '');
  assert.ok(existsSync(join(dir, 'made')));
  const before = d.ok(['ps', '-aq']);
  const missing = d.berth(['run', '--rm', '--mount', `type=bind,src=${dir}/nope,dst=/x`, 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${dir}/nope`), JSON.stringify(missing));
  assert.equal(d.ok(['ps', '-aq']), before);

  // --mount tmpfs with a size and mode; --tmpfs.
  const tm = d.ok(['run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts; stat -c %a /t']);
  assert.match(tm, /tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700/);
  assert.match(tm, /\n700$/);

  // --volumes-from, rw and ro.
  d.ok(['run', '-d', '--name', 'src', '-v', 'vf:/vf', '-v', `${dir}:/hostdir`, 'busybox', 'sh', '-c', 'echo hi > /vf/x; sleep 600']);
  await waitFor('the write to show through --volumes-from', () => d.berth(['exec', 'src', 'cat', '/vf/x']).stdout === 'hi\n');
  assert.equal(d.ok(['run', '--rm', '--volumes-from', 'src', 'busybox', 'sh', '-c', 'cat /vf/x /hostdir/f; echo more >> /vf/x']), 'hi\nfrom the host');
  const fromRo = d.berth(['run', '--rm', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'echo x >> /vf/x']);
  assert.match(fromRo.stderr, /Read-only file system/, fromRo.stderr);
  const consumer = d.ok(['create', '--volumes-from', 'src:ro', 'busybox']);
  const fromMounts = JSON.parse(d.ok(['inspect', '-f', '{{json .Mounts}}', consumer])) as { RW: boolean; Name?: string }[];
  assert.deepEqual(fromMounts.map((x) => [x.Name, x.RW]), [['vf', false], [undefined, false]]);
  d.ok(['rm', '-f', 'src', consumer]);

  // A local volume with tmpfs options is mounted while a container uses it, unmounted after the last.
  d.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', 'tv']);
  const tvData = join(d.dataRoot, 'volumes/tv/_data');
  const a = d.ok(['run', '-d', '-v', 'tv:/tv', 'busybox', 'sh', '-c', 'echo a > /tv/a; sleep 600']);
  const b = d.ok(['run', '-d', '-v', 'tv:/tv', 'busybox', 'sleep', '600']);
  assert.ok(mounted(tvData));
  await waitFor('the file in the shared volume', () => d.berth(['exec', b, 'cat', '/tv/a']).stdout === 'a\n');
  assert.match(d.ok(['exec', b, 'df', '-k', '/tv']), /\s2048\s/);
  d.ok(['stop', '-t', '0', a]);
  assert.ok(mounted(tvData));
  d.ok(['stop', '-t', '0', b]);
  // The exit is told before its cleanup ends; the unmount follows at once.
  await waitFor('the volume to be unmounted', () => !mounted(tvData));
  d.ok(['rm', a, b]);
  d.ok(['volume', 'rm', 'tv']);

  // Bad input: Docker's errors, nothing created.
  const vols = volumeNames(d);
  const plugin = d.berth(['volume', 'create', '-d', 'nope', 'x1']);
  assert.equal(plugin.stderr.trim(), 'Error response from daemon: create x1: error looking up volume plugin nope: plugin "nope" not found');
  const badName = d.berth(['volume', 'create', 'a!b']);
  assert.match(badName.stderr, /create a!b: "a!b" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/, badName.stderr);
  const badOpt = d.berth(['volume', 'create', '-o', 'device=tmpfs', 'x2']);
  assert.match(badOpt.stderr, /create x2: missing required option: "type"/, badOpt.stderr);
  const colons = d.berth(['run', '--rm', '-v', 'vol:/b:ro:xx', 'busybox', 'true']);
  assert.equal(colons.code, 125);
  assert.match(colons.stderr, /invalid spec: vol:\/b:ro:xx: too many colons/, colons.stderr);
  const mode = d.berth(['run', '--rm', '-v', 'vv:/b:bogus', 'busybox', 'true']);
  assert.match(mode.stderr, /invalid mode: bogus/, mode.stderr);
  const typ = d.berth(['run', '--rm', '--mount', 'type=foo,dst=/x', 'busybox', 'true']);
  assert.match(typ.stderr, /invalid mount config for type "foo": mount type unknown/, typ.stderr);
  const flag = d.berth(['run', '--rm', '--mount', 'type=volume', 'busybox', 'true']);
  assert.match(flag.stderr, /invalid argument "type=volume" for "--mount" flag: target is required/, flag.stderr);
  const dup = d.berth(['run', '--rm', '-v', 'v1:/d', '-v', 'v2:/d', 'busybox', 'true']);
  assert.match(dup.stderr, /Duplicate mount point: \/d/, dup.stderr);
  const from = d.berth(['run', '--rm', '--volumes-from', 'ghost', 'busybox', 'true']);
  assert.match(from.stderr, /No such container: ghost/, from.stderr);
  const plugin2 = d.berth(['run', '--rm', '--mount', 'type=volume,src=pv,dst=/x,volume-driver=nope', 'busybox', 'true']);
  assert.match(plugin2.stderr, /error looking up volume plugin nope: plugin "nope" not found/, plugin2.stderr);
  assert.deepEqual(volumeNames(d), vols);
  assert.equal(d.ok(['ps', '-aq']), before);
});

test('docker CLI: volume create/ls/inspect/rm and run -v / --mount', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const ok = (args: string[]) => {
    const r = d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  assert.equal(ok(['volume', 'create', '--label', 'a=b', 'dv']), 'dv');
  assert.match(ok(['volume', 'ls']), /^DRIVER\s+VOLUME NAME\nlocal\s+dv$/);
  ok(['run', '--rm', '-v', 'dv:/d', 'busybox', 'sh', '-c', 'echo docker > /d/x']);
  assert.equal(ok(['run', '--rm', '--mount', 'type=volume,src=dv,dst=/d,readonly', 'busybox', 'cat', '/d/x']), 'docker');
  assert.equal(ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels.a}}', 'dv']), 'dv local b');
  ok(['run', '-d', '--name', 'dc', '-v', '/anon', '-v', 'dv:/d:ro', 'busybox', 'sleep', '600']);
  const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'dc'])) as { Destination: string; RW: boolean; Mode: string }[];
  assert.deepEqual(mounts.map((m) => [m.Destination, m.RW, m.Mode]).sort(), [['/anon', true, ''], ['/d', false, 'ro']]);
  const inUse = d.docker(['volume', 'rm', 'dv']);
  assert.match(inUse.stderr, /remove dv: volume is in use - \[[0-9a-f]{64}\]/, inUse.stderr);
  ok(['rm', '-f', '-v', 'dc']);
  assert.equal(ok(['volume', 'ls', '-q']), 'dv');
  assert.equal(ok(['volume', 'rm', 'dv']), 'dv');
  const bad = d.docker(['volume', 'create', '-d', 'nope', 'x']);
  assert.match(bad.stderr, /plugin "nope" not found/, bad.stderr);
  // A name longer than a directory name may be: 400 with the reason, never a 500 naming a host path.
  const long = 'v'.repeat(300);
  const api = spawnSync('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket, '-X', 'POST', '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ Name: long }), 'http://berth/v1.47/volumes/create'], { encoding: 'utf8' });
  assert.equal(api.stdout.trim().split('\n').pop(), '400', api.stdout);
  assert.match(api.stdout, /volume name is too long, names should be at most 255 characters/);
  for (const r of [d.docker(['volume', 'create', long]), d.docker(['run', '--rm', '-v', `${long}:/d`, 'busybox', 'true'])]) {
    assert.match(r.stderr, /volume name is too long/, r.stderr);
    assert.ok(!r.stderr.includes(d.dir), `no host path in: ${r.stderr}`);
  }
  assert.equal(ok(['volume', 'ls', '-q']), '');
});
