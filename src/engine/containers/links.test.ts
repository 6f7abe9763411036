import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../lib/errors.ts';
import { openDb } from '../../store/db.ts';
import { ContainerRepo, type ContainerRecord, initialState } from './record.ts';
import { removeLink } from './links.ts';

const WEB = 'a'.repeat(64);

function setup(t: { after: (fn: () => void) => void }, hostsPath?: string) {
  const db = openDb(':memory:');
  t.after(() => db.close());
  const repo = new ContainerRepo(db);
  const web: ContainerRecord = {
    id: WEB, name: 'web', imageId: 'sha256:' + 'e'.repeat(64), imageRef: 'busybox', createdAt: '2024-05-01T10:00:00Z',
    config: {}, hostConfig: { Links: ['db:db', '/cache:/web/kv'] }, runtime: 'crun', restartCount: 0, state: { ...initialState(), status: 'created' },
  };
  repo.insert(web);
  const endpointAliases: string[] = ['db', 'kv'];
  const network = { removeLink: (_c: ContainerRecord, alias: string) => {
    const i = endpointAliases.indexOf(alias);
    if (i >= 0) endpointAliases.splice(i, 1);
    return i >= 0;
  } };
  return { repo, network, endpointAliases, liveHostsPath: () => hostsPath };
}

const fails = (kind: string, message: string) => (err: unknown) => err instanceof EngineError && err.kind === kind && err.message === message;

test('rm --link /web/kv drops the link from HostConfig.Links and the endpoints, whatever form it was stored in', async (t) => {
  const s = setup(t);
  await removeLink(s, '/web/kv');
  assert.deepEqual(s.repo.get(WEB)!.hostConfig.Links, ['db:db']);
  assert.deepEqual(s.endpointAliases, ['db']);
  await removeLink(s, 'web/db');
  assert.deepEqual(s.repo.get(WEB)!.hostConfig.Links, []);
});

test('rm --link of a running container drops its /etc/hosts line too, in place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-links-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, '127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab\n172.17.0.3\tkv 0123456789cd cache\n172.17.0.4\tweb\n');
  await removeLink(setup(t, hosts), '/web/kv');
  assert.equal(readFileSync(hosts, 'utf8'), '127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab\n172.17.0.4\tweb\n');
});

test('rm --link refusals: the default name, an unknown container or link', async (t) => {
  const s = setup(t);
  await assert.rejects(removeLink(s, '/web'), fails('Conflict', 'Conflict, cannot remove the default link name of the container'));
  await assert.rejects(removeLink(s, '/nope/db'), fails('NotFound', 'No such container: /nope/db'));
  await assert.rejects(removeLink(s, '/web/other'), fails('NotFound', 'No such container: /web/other'));
  assert.deepEqual(s.repo.get(WEB)!.hostConfig.Links, ['db:db', '/cache:/web/kv']);
});
