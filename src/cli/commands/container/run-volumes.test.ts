import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { parseMountFlag, parseVolumeSpec, splitVolumeFlags } from './run-volumes.ts';

test('-v: binds with a source, anonymous volumes without, as docker 28 sends them', () => {
  assert.deepEqual(splitVolumeFlags(['/data', 'vol:/v:ro', '/h:/c', './rel:/r:rw', 'c:\\x:/w']), {
    binds: ['vol:/v:ro', '/h:/c', `${resolve('rel')}:/r:rw`, 'c:\\x:/w'], volumes: { '/data': {} },
  });
  assert.deepEqual(parseVolumeSpec('ab'), { source: '', target: 'ab', bind: false });
  assert.throws(() => parseVolumeSpec(''), /^Error: invalid empty volume spec$/);
  assert.throws(() => parseVolumeSpec('vol:/b:ro:xx'), /^Error: invalid spec: vol:\/b:ro:xx: too many colons$/);
  assert.throws(() => parseVolumeSpec('vol::/b'), /invalid spec: vol::\/b: empty section between colons/);
});

test('--mount: every key docker 28 knows', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rshared'),
    { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { Propagation: 'rshared' } });
  assert.deepEqual(parseMountFlag('source=v,target=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-label=a=b,volume-nocopy'),
    { Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { Labels: { a: 'b' }, NoCopy: true, DriverConfig: { Options: { type: 'tmpfs', device: 'tmpfs' } } } });
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770'),
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMountFlag('"type=bind","src=/a,b",dst=/c,ro=false').Source, '/a,b');
  assert.equal(parseMountFlag('type=bind,src=/h,dst=/c,bind-recursive=disabled').BindOptions?.NonRecursive, true);
});

test('--mount: docker 28 messages', () => {
  const cases: [string, string][] = [
    ['type=volume', 'target is required'],
    ['type=,dst=/x', 'type is required'],
    ['dst=/x,bogus', "invalid field 'bogus' must be a key=value pair"],
    ['dst=/x,color=red', "unexpected key 'color' in 'color=red'"],
    ['type=bind,src=/a,dst=/x,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
    ['type=volume,dst=/x,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'"],
    ['type=bind,src=/a,dst=/x,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'bind'"],
    ['type=tmpfs,dst=/x,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
    ['type=tmpfs,dst=/x,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'],
    ['dst=/x,readonly=maybe', 'invalid value for readonly: maybe'],
    ['type=bind,src=/a,dst=/x,bind-recursive=sometimes', 'invalid value for bind-recursive: sometimes (must be "enabled", "disabled", "writable", or "readonly")'],
  ];
  for (const [v, msg] of cases) assert.throws(() => parseMountFlag(v), (e: Error) => e.message === msg, `${v}: ${msg}`);
});
