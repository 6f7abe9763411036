import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../lib/errors.ts';
import { RegistryError } from '../../registry/client/index.ts';
import { checkPlatform, parsePlatform, pickPlatform, pullError } from './pull.ts';

const entry = (architecture: string, variant?: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${architecture}${variant ?? ''}`.padEnd(71, '0'), size: 1,
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
});

test('parsePlatform: os/arch[/variant], the host by default, errors', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('LINUX/AMD64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform(undefined).os, 'linux');
  assert.throws(() => parsePlatform('windows/amd64'), /operating system is not supported/);
  assert.throws(() => parsePlatform('linux/arm/v7/x'), /invalid platform format/);
});

test('pickPlatform: exact match, variant preference, Docker\'s error', () => {
  const list = [entry('amd64'), entry('arm', 'v6'), entry('arm', 'v7'), entry('arm64', 'v8')];
  assert.equal(pickPlatform(list, { os: 'linux', architecture: 'amd64' }), list[0]);
  assert.equal(pickPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v7' }), list[2]);
  assert.equal(pickPlatform(list, { os: 'linux', architecture: 'arm64' }), list[3]);
  assert.throws(() => pickPlatform(list, { os: 'linux', architecture: 's390x' }),
    (e: unknown) => e instanceof EngineError && e.kind === 'NotFound' && e.message === 'no matching manifest for linux/s390x in the manifest list entries');
});

test('checkPlatform: a single-platform image of another platform is refused', () => {
  checkPlatform({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' }, 'x:1');
  assert.throws(() => checkPlatform({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }, 'x:1'),
    /image with reference x:1 was found but its platform \(linux\/amd64\) does not match the specified platform \(linux\/arm64\)/);
});

test('pullError words registry errors as dockerd does', () => {
  const reg = (kind: 'NotFound' | 'Forbidden' | 'Unauthorized', status: number, code: string, message: string) =>
    new RegistryError(kind, message, status, [{ code, message }]);
  const msg = (e: unknown) => (e as Error).message;
  assert.equal(msg(pullError(reg('NotFound', 404, 'MANIFEST_UNKNOWN', 'manifest unknown: manifest unknown'), 'bb:nope', 'bb')),
    'manifest for bb:nope not found: manifest unknown: manifest unknown');
  assert.equal(msg(pullError(reg('NotFound', 404, 'NAME_UNKNOWN', 'name unknown: repository name not known to registry'), 'r/x:1', 'r/x')),
    'repository r/x not found: name unknown: repository name not known to registry');
  assert.equal(msg(pullError(reg('Forbidden', 403, 'DENIED', 'denied: requested access to the resource is denied'), 'private:1', 'private')),
    "pull access denied for private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
  const other = new EngineError('Unavailable', 'connection refused');
  assert.equal(pullError(other, 'a', 'a'), other);
});

test('downloadBlob resumes a cut transfer from the bytes on disk and verifies the whole', async (t) => {
  const { createHash, randomBytes } = await import('node:crypto');
  const { mkdtempSync, readFileSync, renameSync, rmSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Readable } = await import('node:stream');
  const { downloadBlob } = await import('./pull.ts');
  const dir = mkdtempSync(join(tmpdir(), 'berth-dl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = randomBytes(3 << 20);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const offsets: number[] = [];
  const session = {
    async openBlob(_d: string, o: { offset?: number } = {}) {
      const from = o.offset ?? 0;
      offsets.push(from);
      // The first answer breaks off after 1.5 MiB (in 64 KiB chunks), as a dropped connection does.
      const end = offsets.length === 1 ? from + (3 << 19) : data.length;
      async function* chunks() {
        for (let p = from; p < end; p += 1 << 16) yield data.subarray(p, Math.min(end, p + (1 << 16)));
        if (end < data.length) throw Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
      }
      return { stream: Readable.from(chunks()), size: data.length };
    },
  };
  let n = 0;
  const store = { tempPath: () => join(dir, `.tmp-${n++}`), adopt: async (tmp: string, d: string) => renameSync(tmp, join(dir, d.slice(7))) };
  await downloadBlob(session as never, { digest, size: data.length }, store, { backoffMs: 1 });
  assert.deepEqual(offsets, [0, 3 << 19]);
  assert.ok(readFileSync(join(dir, digest.slice(7))).equals(data));
  // A blob whose bytes do not match its digest is refused and leaves nothing behind.
  const wrong = `sha256:${'0'.repeat(64)}`;
  await assert.rejects(downloadBlob(session as never, { digest: wrong, size: data.length }, store, { backoffMs: 1 }), /filesystem layer verification failed/);
  assert.equal(existsSync(join(dir, '0'.repeat(64))), false);
  assert.equal(existsSync(join(dir, '.tmp-1')), false);
});
