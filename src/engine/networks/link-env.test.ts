import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnv } from './link-env.ts';

test('one port: ALIAS_PORT, the per-port variables, ALIAS_NAME and ALIAS_ENV_* (HOME and PATH left out)', () => {
  assert.deepEqual(linkEnv({ name: '/web/my-db', childIp: '172.17.0.2', env: ['PATH=/bin', 'HOME=/root', 'PASSWORD=s=3', 'NOVALUE'], exposedPorts: { '5432/tcp': {} } }), [
    'MY_DB_PORT=tcp://172.17.0.2:5432',
    'MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432', 'MY_DB_PORT_5432_TCP_ADDR=172.17.0.2', 'MY_DB_PORT_5432_TCP_PORT=5432', 'MY_DB_PORT_5432_TCP_PROTO=tcp',
    'MY_DB_NAME=/web/my-db',
    'MY_DB_ENV_PASSWORD=s=3',
  ]);
});

test('ports sorted TCP first; a run of consecutive ports gets _START and _END (links_test.go)', () => {
  const env = linkEnv({ name: '/a/b', childIp: '10.0.0.2', env: null, exposedPorts: { '6381/tcp': {}, '53/udp': {}, '6379/tcp': {}, '6380/tcp': {} } });
  assert.equal(env[0], 'B_PORT=tcp://10.0.0.2:6379');
  assert.ok(env.includes('B_PORT_6379_TCP_START=tcp://10.0.0.2:6379'));
  assert.ok(env.includes('B_PORT_6379_TCP_PORT_START=6379'));
  assert.ok(env.includes('B_PORT_6379_TCP_END=tcp://10.0.0.2:6381'));
  assert.ok(env.includes('B_PORT_6379_TCP_PORT_END=6381'));
  assert.ok(env.includes('B_PORT_53_UDP=udp://10.0.0.2:53'));
  assert.ok(env.indexOf('B_PORT_6381_TCP=tcp://10.0.0.2:6381') < env.indexOf('B_PORT_53_UDP=udp://10.0.0.2:53'));
  assert.ok(!env.some((e) => e.startsWith('B_PORT_53_UDP_START')));
  assert.equal(env.at(-1), 'B_NAME=/a/b');
});

test('no exposed ports: only the name and the environment', () => {
  assert.deepEqual(linkEnv({ name: '/x/y', childIp: '10.0.0.3', env: ['A=1'], exposedPorts: undefined }), ['Y_NAME=/x/y', 'Y_ENV_A=1']);
});
