import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registryConfig } from './system-views.ts';

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
