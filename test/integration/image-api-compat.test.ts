// Image endpoints as real clients see them at the API version they ask for: legacy inspect fields,
// and errors of a broken load inside the JSON stream.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { daemonFor, requireRoot, type TestDaemon } from './harness.ts';

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
