import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidMountMode, parseBind, parseLocalOptions, parseMountSpec, parseVolumesFrom, volumeNameProblem } from './parse.ts';

test('-v forms become mount points as dockerd parses them', () => {
  assert.deepEqual(parseBind('/data'), { type: 'volume', source: '', destination: '/data', driver: 'local', mode: '', rw: true, propagation: '', copyData: true });
  assert.deepEqual(parseBind('vol:/data'), { type: 'volume', name: 'vol', source: '', destination: '/data', driver: 'local', mode: 'z', rw: true, propagation: '', copyData: true });
  assert.deepEqual(parseBind('vol:/data:ro,nocopy'), { type: 'volume', name: 'vol', source: '', destination: '/data', driver: 'local', mode: 'ro,nocopy', rw: false, propagation: '', copyData: false });
  assert.deepEqual(parseBind('/host/dir/:/c/:rw,Z'), { type: 'bind', source: '/host/dir/', destination: '/c/', mode: 'rw,Z', rw: true, propagation: 'rprivate', createSource: true });
  assert.equal(parseBind('/h:/c:ro,rshared').propagation, 'rshared');
  assert.equal(parseBind('/h:/c:ro').rw, false);
});

test('-v errors carry dockerd wording', () => {
  const cases: [string, string][] = [
    [':/x', "invalid volume specification: ':/x'"],
    ['/x:rw', "invalid volume specification: '/x:rw'"],
    ['a:/b:ro:x', "invalid volume specification: 'a:/b:ro:x'"],
    ['a:/b:bogus', 'invalid mode: bogus'],
    ['a:/b:ro,rw', 'invalid mode: ro,rw'],
    ['a:rel', `invalid volume specification: 'a:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`],
    ['/h:/', `invalid volume specification: '/h:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`],
  ];
  for (const [raw, msg] of cases) assert.throws(() => parseBind(raw), (e: Error & { kind?: string }) => e.message === msg && e.kind === 'InvalidParameter', raw);
});

test('--mount objects: defaults, checks and messages', () => {
  const exists = (p: string) => p === '/there';
  assert.deepEqual(parseMountSpec({ Type: 'bind', Source: '/there', Target: '/x', ReadOnly: true }, exists),
    { type: 'bind', source: '/there', destination: '/x', mode: '', rw: false, propagation: 'rprivate', createSource: false });
  assert.deepEqual(parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o700 } }, exists),
    { type: 'tmpfs', source: '', destination: '/t', mode: '', rw: true, propagation: '', tmpfs: { sizeBytes: 1 << 20, mode: 0o700 } });
  const v = parseMountSpec({ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true, Subpath: 'a/b', DriverConfig: { Options: { type: 'tmpfs' } } } }, exists);
  assert.equal(v.mode, 'z');
  assert.equal(v.copyData, false);
  assert.equal(v.subpath, 'a/b');
  assert.deepEqual(v.create, { options: { type: 'tmpfs' }, labels: {} });
  assert.equal(parseMountSpec({ Type: 'bind', Source: '/gone', Target: '/x', BindOptions: { CreateMountpoint: true } }, exists).createSource, true);
  const cases: [Parameters<typeof parseMountSpec>[0], string][] = [
    [{ Type: 'bind', Source: '/gone', Target: '/x' }, 'invalid mount config for type "bind": bind source path does not exist: /gone'],
    [{ Type: 'bind', Target: '/x' }, 'invalid mount config for type "bind": field Source must not be empty'],
    [{ Type: 'bind', Source: 'rel', Target: '/x' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
    [{ Type: 'bind', Source: '/there', Target: '/x', BindOptions: { Propagation: 'odd' } }, 'invalid mount config for type "bind": invalid propagation mode: odd'],
    [{ Type: 'volume', Source: 'v', Target: '' }, 'invalid mount config for type "volume": field Target must not be empty'],
    [{ Type: 'volume', Source: 'v', Target: '/' }, `invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    [{ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }, 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes'],
    [{ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '../up' } }, 'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '/abs' } }, 'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'tmpfs', Source: 'x', Target: '/x' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
    [{ Type: 'tmpfs', Target: '/x', BindOptions: {} }, 'invalid mount config for type "tmpfs": field BindOptions must not be specified'],
    [{ Type: 'foo' as 'bind', Target: '/x' }, 'invalid mount config for type "foo": mount type unknown'],
  ];
  for (const [spec, msg] of cases) assert.throws(() => parseMountSpec(spec, exists), (e: Error) => e.message === msg, msg);
});

test('--volumes-from, mount modes, names and local options', () => {
  assert.deepEqual(parseVolumesFrom('c'), { container: 'c', readonly: false });
  assert.deepEqual(parseVolumesFrom('c:ro'), { container: 'c', readonly: true });
  assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
  assert.throws(() => parseVolumesFrom('c:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('c:nocopy'), /invalid mode: nocopy/);
  assert.ok(isValidMountMode('ro,z,rslave,nocopy,cached'));
  assert.ok(!isValidMountMode('z,Z'));
  assert.equal(volumeNameProblem('ok_name.1-x'), undefined);
  assert.match(volumeNameProblem('a')!, /too short/);
  assert.equal(volumeNameProblem('v'.repeat(255)), undefined);
  assert.equal(volumeNameProblem('v'.repeat(256)), 'volume name is too long, names should be at most 255 characters');
  assert.match(volumeNameProblem('-bad')!, /"-bad" includes invalid characters for a local volume name/);
  assert.match(volumeNameProblem('a/b')!, /If you intended to pass a host directory, use absolute path/);
  assert.equal(parseLocalOptions({}), undefined);
  assert.deepEqual(parseLocalOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }), { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  assert.deepEqual(parseLocalOptions({ type: 'none', device: '/srv', o: 'bind' }), { type: 'none', device: '/srv', o: 'bind' });
  assert.throws(() => parseLocalOptions({ device: 'x' }), /missing required option: "type"/);
  assert.throws(() => parseLocalOptions({ type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => parseLocalOptions({ bogus: '1' }), /invalid option: "bogus"/);
  assert.throws(() => parseLocalOptions({ size: '1g' }), /quota size requested but no quota support/);
  assert.throws(() => parseLocalOptions({ type: 'nfs', device: ':/x', o: 'addr=1.2.3.4' }), (e: Error & { kind?: string }) => e.kind === 'NotImplemented');
});
