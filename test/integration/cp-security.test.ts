import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { REPO, daemonFor, requireRoot, waitFor, type TestDaemon } from './harness.ts';

const BERTH = join(REPO, 'dist/berth.mjs');

function berthBin(d: TestDaemon, args: string[], input?: Buffer): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BERTH, ...args], { env: { ...process.env, BERTH_HOST: d.host }, input, timeout: 60000, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A tar made entry by entry, hostile names included (tar(1) would clean them). */
async function makeTar(entries: { name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; body?: string; linkname?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const e of entries) {
    const body = e.body ?? '';
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, size: e.type && e.type !== 'file' ? 0 : Buffer.byteLength(body), ...(e.linkname ? { linkname: e.linkname } : {}) } as tar.Header,
      e.type && e.type !== 'file' ? '' : body, (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A host directory the tests try to reach from inside the container, with a secret and nothing else. */
function hostTarget(t: { after(fn: () => void): void }): { dir: string; secret: string; untouched(): void } {
  const dir = mkdtempSync('/tmp/berth-cpsec-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = `host-secret-${Math.random()}`;
  writeFileSync(join(dir, 'secret'), secret);
  return {
    dir, secret,
    untouched: () => {
      assert.deepEqual(readdirSync(dir), ['secret'], `host dir ${dir} changed`);
      assert.equal(readFileSync(join(dir, 'secret'), 'utf8'), secret);
    },
  };
}

test('symlinks pointing out of the container resolve inside it, as source and as destination', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const host = hostTarget(t);
  d.ok(['run', '-d', '--name', 'sec', 'busybox', 'sh', '-c', `ln -s / /evil && ln -s ../../../../../.. /up && mkdir -p ${host.dir} && echo inside > ${host.dir}/secret && sleep 1000`]);
  await waitFor('the container to have set itself up', () => d.berth(['exec', 'sec', 'test', '-e', `${host.dir}/secret`]).code === 0);
  // Source: /evil/<host path> and /up/<host path> are the container's files, never the host's.
  for (const via of ['/evil', '/up']) {
    const r = berthBin(d, ['cp', `sec:${via}${host.dir}/secret`, '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('inside') && !r.stdout.includes(host.secret), `${via}: read the host's file`);
    const k = d.docker(['cp', `sec:${via}${host.dir}/secret`, '-']);
    assert.ok(k.stdout.includes('inside') && !k.stdout.includes(host.secret));
  }
  // Destination: writes through /evil land in the container.
  const tmp = mkdtempSync('/tmp/berth-cpsrc-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  writeFileSync(join(tmp, 'payload'), 'payload\n');
  d.ok(['cp', join(tmp, 'payload'), `sec:/evil${host.dir}/`]);
  assert.equal(d.docker(['cp', join(tmp, 'payload'), `sec:/up${host.dir}/payload2`]).code, 0);
  assert.equal(d.ok(['exec', 'sec', 'cat', `${host.dir}/payload`, `${host.dir}/payload2`]), 'payload\npayload');
  host.untouched();
  // A destination that is a symlink to / (the last component followed, inside the container).
  d.ok(['cp', join(tmp, 'payload'), 'sec:/evil']);
  assert.equal(d.ok(['exec', 'sec', 'cat', '/payload']), 'payload');
  assert.ok(!existsSync('/payload'));
});

test('hostile tar uploads: .. names and links climbing out are refused; a symlink then a file through it stays inside', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const host = hostTarget(t);
  d.ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '1000']);
  d.ok(['exec', 'up', 'mkdir', '-p', '/dest']);
  const depth = '../'.repeat(12);
  const cases: [string, Buffer, RegExp][] = [
    ['dotdot', await makeTar([{ name: `${depth}${host.dir.slice(1)}/dotdot`, body: 'x' }]), /is outside of "\/dest"/],
    ['abs-dotdot', await makeTar([{ name: `/../..${host.dir}/absdot`, body: 'x' }]), /is outside of/],
    ['symlink-out', await makeTar([{ name: 'rel', type: 'symlink', linkname: `${depth}tmp` }]), /invalid symlink/],
    ['hardlink-out', await makeTar([{ name: 'hl', type: 'link', linkname: `${depth}${host.dir.slice(1)}/secret` }]), /invalid hardlink/],
  ];
  for (const [what, body, message] of cases) {
    const r = berthBin(d, ['cp', '-', 'up:/dest'], body);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, message, what);
  }
  // Absolute names are taken relative to the destination; a symlink to / then a file through it
  // writes into the container's /, never the host's (the container's root is the process's root).
  const contained = await makeTar([
    { name: `/abs${host.dir}/f`, body: 'abs' },
    { name: 'to-root', type: 'symlink', linkname: '/' },
    { name: `to-root${host.dir}/through`, body: 'through' },
  ]);
  const r = berthBin(d, ['cp', '-', 'up:/dest'], contained);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.ok(['exec', 'up', 'cat', `/dest/abs${host.dir}/f`, `${host.dir}/through`]), 'absthrough');
  host.untouched();
  // The docker CLI's upload of the same archive (cp - reads a tar from stdin).
  const k = spawnSync('docker', ['cp', '-', 'up:/dest'], { env: { ...process.env, DOCKER_HOST: d.host }, input: cases[0]![1] });
  assert.notEqual(k.status, 0);
  host.untouched();
});

test('a directory swapped for a symlink while cp runs never exposes or changes host files', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const host = hostTarget(t);
  // /race/d flips between a real directory (holding a decoy at the host target's path) and a
  // symlink to / (CVE-2018-15664's swap), as fast as the shell can.
  // Half a CPU: the loop forks without pause and would otherwise starve the copies it races with.
  d.ok(['run', '-d', '--name', 'race', '--cpus', '0.5', 'busybox', 'sh', '-c',
    `mkdir -p /race/real${host.dir} && echo decoy > /race/real${host.dir}/secret && ln -s / /race/link && ` +
    'while true; do mv -T /race/link /race/d 2>/dev/null; mv -T /race/d /race/link 2>/dev/null; ' +
    'mv -T /race/real /race/d 2>/dev/null; mv -T /race/d /race/real 2>/dev/null; done']);
  const tmp = mkdtempSync('/tmp/berth-cprace-');
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  writeFileSync(join(tmp, 'payload'), 'payload\n');
  let reads = 0;
  for (let i = 0; i < 25; i++) {
    const out = berthBin(d, ['cp', `race:/race/d${host.dir}/secret`, '-']);
    assert.ok(!out.stdout.includes(host.secret), 'read a host file through a swapped symlink');
    if (out.code === 0) reads++;
    berthBin(d, ['cp', join(tmp, 'payload'), `race:/race/d${host.dir}/`]);
  }
  t.diagnostic(`${reads}/25 reads found a file`);
  host.untouched();
  d.ok(['rm', '-f', 'race']);
});
