import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toApiMountPoint } from './container-views.ts';

test('Mounts: a volume has Name and Driver, a bind and a tmpfs do not (dockerd\'s bytes)', () => {
  assert.equal(JSON.stringify(toApiMountPoint({ type: 'volume', name: 'data', source: '/var/lib/berth/volumes/data/_data', destination: '/data', mode: 'z', rw: true, propagation: '', copyData: true })),
    '{"Type":"volume","Name":"data","Source":"/var/lib/berth/volumes/data/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":""}');
  assert.equal(JSON.stringify(toApiMountPoint({ type: 'bind', source: '/srv', destination: '/srv', mode: 'ro', rw: false, propagation: 'rprivate' })),
    '{"Type":"bind","Source":"/srv","Destination":"/srv","Mode":"ro","RW":false,"Propagation":"rprivate"}');
  assert.equal(JSON.stringify(toApiMountPoint({ type: 'tmpfs', source: '', destination: '/run', mode: '', rw: true, propagation: '' })),
    '{"Type":"tmpfs","Source":"","Destination":"/run","Mode":"","RW":true,"Propagation":""}');
});
