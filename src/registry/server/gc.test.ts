import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { collectGarbage, markReferenced } from './gc.ts';
import { FsRegistryStorage } from './storage.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const OCI = 'application/vnd.oci.image.manifest.v1+json';

test('mark: manifests keep themselves, config, layers and children; a bad one is reported', () => {
  const img = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: d('1') }, layers: [{ digest: d('2') }] }));
  const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: d('a') }] }));
  const bad: string[] = [];
  const live = markReferenced([
    { digest: d('a'), mediaType: OCI, bytes: img },
    { digest: d('b'), mediaType: 'application/vnd.oci.image.index.v1+json', bytes: idx },
    { digest: d('c'), mediaType: OCI, bytes: Buffer.from('{') },
  ], (dg) => bad.push(dg));
  assert.deepEqual([...live].sort(), [d('1'), d('2'), d('a'), d('b'), d('c')].sort());
  assert.deepEqual(bad, [d('c')]);
});

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('sweep: removes the unreferenced blob and its link, keeps referenced ones and uploads', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'reg-gc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s = new FsRegistryStorage(root);
  await s.init();
  const cfg = Buffer.from('{}');
  const layer = Buffer.from('layer');
  const junk = Buffer.from('junk');
  for (const b of [cfg, layer, junk]) await s.putBlob('r', sha(b), Readable.from([b]));
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha(cfg) }, layers: [{ digest: sha(layer) }] }));
  await s.putManifest('r', sha(man), man, OCI, 'v1');
  const upload = await s.startUpload('r');
  await s.appendUpload('r', upload, Readable.from([junk]));

  const dry = await collectGarbage({ root, dryRun: true });
  assert.deepEqual(dry.removed.map((x) => x.digest), [sha(junk)]);
  assert.equal(await s.statBlob('r', sha(junk)), junk.length);

  const lines: string[] = [];
  const r = await collectGarbage({ root, log: (l) => lines.push(l) });
  assert.deepEqual(r.removed, [{ digest: sha(junk), size: junk.length }]);
  assert.equal(r.freedBytes, junk.length);
  assert.equal(r.kept, 3);
  assert.match(lines.join('\n'), new RegExp(`deleted ${sha(junk)}`));
  assert.equal(await s.statBlob('r', sha(junk)), undefined);
  assert.deepEqual(await s.layerLinks('r').then((l) => l.sort()), [sha(cfg), sha(layer)].sort());
  assert.equal(await s.statBlob('r', sha(layer)), layer.length);
  assert.equal(await s.uploadSize('r', upload), junk.length);
  await assert.rejects(collectGarbage({ root: join(root, 'missing') }), /no such directory/);
});
