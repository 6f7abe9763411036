import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registryConfig, toApiEvent } from './system-views.ts';

test('registryConfig: no settings still lists localhost as insecure and docker.io as the official index', () => {
  assert.deepEqual(registryConfig([], []), {
    AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
    InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
    IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
    Mirrors: [],
  });
});

test('registryConfig: mirrors and insecure registries as dockerd reports them', () => {
  const rc = registryConfig(['https://mirror.example', 'https://mirror.example/'], ['10.0.0.0/8', 'reg.local:5000', 'http://plain.local', '127.0.0.0/8']);
  assert.deepEqual(rc['Mirrors'], ['https://mirror.example/']);
  assert.deepEqual(rc['InsecureRegistryCIDRs'], ['10.0.0.0/8', '127.0.0.0/8', '::1/128']);
  assert.deepEqual(rc['IndexConfigs'], {
    'reg.local:5000': { Name: 'reg.local:5000', Mirrors: [], Secure: false, Official: false },
    'plain.local': { Name: 'plain.local', Mirrors: [], Secure: false, Official: false },
    'docker.io': { Name: 'docker.io', Mirrors: ['https://mirror.example/'], Secure: true, Official: true },
  });
});

test('events: dockerd\'s bytes, the legacy status/id/from first for containers and images only', () => {
  const t = 1700000000123456800; // a double, as the bus makes them
  const actor = (id: string, attributes: Record<string, string>) => ({ id, attributes });
  assert.equal(JSON.stringify(toApiEvent({ type: 'container', action: 'start', actor: actor('c1', { image: 'busybox', name: 'web' }), scope: 'local', timeNano: t })),
    `{"status":"start","id":"c1","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1700000000,"timeNano":${t}}`);
  assert.equal(JSON.stringify(toApiEvent({ type: 'image', action: 'tag', actor: actor('sha256:aa', { name: 'busybox:1' }), scope: 'local', timeNano: t })),
    `{"status":"tag","id":"sha256:aa","Type":"image","Action":"tag","Actor":{"ID":"sha256:aa","Attributes":{"name":"busybox:1"}},"scope":"local","time":1700000000,"timeNano":${t}}`);
  assert.equal(JSON.stringify(toApiEvent({ type: 'network', action: 'create', actor: actor('n1', { name: 'net', type: 'bridge' }), scope: 'local', timeNano: t })),
    `{"Type":"network","Action":"create","Actor":{"ID":"n1","Attributes":{"name":"net","type":"bridge"}},"scope":"local","time":1700000000,"timeNano":${t}}`);
});
