import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf } from '../../lib/errors.ts';
import type { Image } from '../contracts/images.ts';
import type { EngineInfo } from '../contracts/system.ts';
import type { Orphan } from './gc.ts';
import { SystemEngineImpl, type SystemEngineDeps } from './system-engine.ts';
import { BERTH_VERSION } from './versions.ts';

const IMAGE: Image = {
  id: 'sha256:i', repoTags: [], repoDigests: [], size: 5, layerDirs: [], storedAt: '2024-05-01T10:00:00Z',
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
};
const ORPHAN: Orphan = { kind: 'temp', path: '/data/tmp/x', bytes: 10 };

/** Deps that record which parts of the engine were read. */
function deps(read: string[]): SystemEngineDeps {
  const note = <T>(what: string, v: T) => { read.push(what); return v; };
  return {
    components: Promise.resolve([{ name: 'conmon', version: '2.1.6', commit: '' }]),
    info: async () => note('info', {} as EngineInfo),
    images: async () => note('images', [IMAGE]),
    layerUsage: () => ({ layersSize: 7, shared: new Map([['sha256:i', 2]]), size: new Map([['sha256:i', 6]]) }),
    containersUsingImage: () => 3,
    containers: async () => note('containers', []),
    volumes: async () => note('volumes', []),
    logs: async () => ({ count: 1, bytes: 4 }),
    orphans: async () => [ORPHAN],
    collect: async (found) => note('collect', { removed: [...found], failed: [] }),
  };
}

test('SystemEngine.version: the engine, the components read at start, the host', async () => {
  const v = await new SystemEngineImpl(deps([])).version();
  assert.equal(v.version, BERTH_VERSION);
  assert.deepEqual(v.components, [{ name: 'conmon', version: '2.1.6', commit: '' }]);
  assert.equal(v.os, 'linux');
  assert.match(v.runtime, /^node\d+/);
});

test('SystemEngine.diskUsage: types narrow what is read; an unknown type is InvalidParameter', async () => {
  const read: string[] = [];
  const sys = new SystemEngineImpl(deps(read));
  const all = await sys.diskUsage([]);
  assert.deepEqual(all.images, [{ image: IMAGE, containers: 3, sharedSize: 2, size: 6 }]);
  assert.equal(all.layersSize, 7);
  assert.deepEqual(read.sort(), ['containers', 'images', 'volumes']);
  read.length = 0;
  const some = await sys.diskUsage(['volume']);
  assert.deepEqual(read, ['volumes']);
  assert.deepEqual(some.images, []);
  assert.deepEqual(some.orphans, [ORPHAN]);
  await assert.rejects(sys.diskUsage(['bogus' as 'image']), (err) => kindOf(err) === 'InvalidParameter' && /unknown object type: bogus/.test(String(err)));
});

test('SystemEngine.gc: a dry run finds without collecting', async () => {
  const read: string[] = [];
  const sys = new SystemEngineImpl(deps(read));
  assert.deepEqual(await sys.gc({ dryRun: true }), { found: [ORPHAN], removed: [], failed: [] });
  assert.deepEqual(read, []);
  assert.deepEqual(await sys.gc({ dryRun: false }), { found: [ORPHAN], removed: [ORPHAN], failed: [] });
  assert.deepEqual(read, ['collect']);
});
