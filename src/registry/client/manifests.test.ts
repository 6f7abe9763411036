import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf } from '../../lib/errors.ts';
import { checkManifest, digestOf, MEDIA_TYPES } from './manifests.ts';

const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 2 },
  layers: [],
}));
const d = digestOf(manifest);
const base = { bytes: manifest, contentType: MEDIA_TYPES.dockerManifest, reference: 'v1', headerDigest: undefined, name: 'r/app:v1' };

test('a schema2 manifest by tag and by digest', () => {
  const m = checkManifest(base);
  assert.equal(m.digest, d);
  assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest);
  assert.equal(checkManifest({ ...base, reference: d, headerDigest: d }).digest, d);
});

test('digest mismatches are refused', () => {
  const other = 'sha256:' + 'b'.repeat(64);
  assert.throws(() => checkManifest({ ...base, reference: other }), (e) => kindOf(e) === 'InvalidParameter' && /verification failed/.test((e as Error).message));
  assert.throws(() => checkManifest({ ...base, headerDigest: other }), /registry sent digest/);
  assert.throws(() => checkManifest({ ...base, headerDigest: 'sha512:' + 'c'.repeat(128) }), /registry sent digest sha512:/);
  // A right sha512 header is accepted; the returned digest stays sha256.
  assert.equal(checkManifest({ ...base, headerDigest: digestOf(manifest, 'sha512:') }).digest, d);
});

test('malformed, wrong schemaVersion, schema1 and unknown types', () => {
  const bad = (bytes: string, contentType = 'application/json') =>
    () => checkManifest({ ...base, bytes: Buffer.from(bytes), contentType });
  assert.throws(bad('{nope'), /^EngineError: unsupported manifest format$/);
  assert.throws(bad('[]'), /unsupported manifest format/);
  assert.throws(bad('{"schemaVersion":3,"manifests":[]}'), /unsupported manifest format/);
  assert.throws(bad('{"schemaVersion":1,"fsLayers":[]}'), /schema 1 support has been removed/);
  assert.throws(bad('{"schemaVersion":2}', MEDIA_TYPES.schema1Signed), /schema 1 support has been removed/);
  assert.throws(bad('{"schemaVersion":2,"mediaType":"application/x-other","layers":[]}'), /unsupported media type application\/x-other/);
  assert.throws(bad(`{"schemaVersion":2,"mediaType":"${MEDIA_TYPES.dockerManifest}"}`), /unsupported manifest format/);
});

test('untyped OCI documents are typed by their shape', () => {
  const idx = Buffer.from('{"schemaVersion":2,"manifests":[]}');
  assert.equal(checkManifest({ ...base, bytes: idx, contentType: 'application/json' }).mediaType, MEDIA_TYPES.ociIndex);
  assert.equal(checkManifest({ ...base, bytes: idx, contentType: MEDIA_TYPES.dockerList }).mediaType, MEDIA_TYPES.dockerList);
});
