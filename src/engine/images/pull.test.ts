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
