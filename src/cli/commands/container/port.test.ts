import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as api from '../../../api/types/index.ts';
import { formatPsPorts } from '../../format/ps-ports.ts';
import { portLines } from './port.ts';

const PORTS: api.PortMap = {
  '443/tcp': [{ HostIp: '0.0.0.0', HostPort: '8443' }],
  '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }, { HostIp: '0.0.0.0', HostPort: '8080' }],
  '53/udp': [{ HostIp: '0.0.0.0', HostPort: '53' }],
  '53/tcp': [{ HostIp: '0.0.0.0', HostPort: '53' }],
  '9000/tcp': null, // exposed, not published
};

test('port: every mapping, natural order of the whole line as docker sorts it', () => {
  assert.deepEqual(portLines(PORTS, 'web'), [
    '53/tcp -> 0.0.0.0:53',
    '53/udp -> 0.0.0.0:53',
    '80/tcp -> 0.0.0.0:8080',
    '80/tcp -> 127.0.0.1:8081',
    '443/tcp -> 0.0.0.0:8443',
  ]);
  assert.deepEqual(portLines({ '80/tcp': [{ HostIp: '::', HostPort: '8080' }, { HostIp: '', HostPort: '8081' }] }, 'web'), ['80/tcp -> 0.0.0.0:8081', '80/tcp -> [::]:8080']);
  assert.deepEqual(portLines({}, 'web'), []);
});

test('port CONTAINER PRIVATE_PORT[/PROTO]', () => {
  assert.deepEqual(portLines(PORTS, 'web', '80'), ['0.0.0.0:8080', '127.0.0.1:8081']);
  assert.deepEqual(portLines(PORTS, 'web', '53/udp'), ['0.0.0.0:53']);
  // The message repeats the argument as typed.
  assert.throws(() => portLines(PORTS, 'web', '81'), { message: "Error: No public port '81' published for web" });
  assert.throws(() => portLines(PORTS, 'abc123', '81/tcp'), { message: "Error: No public port '81/tcp' published for abc123" });
  assert.throws(() => portLines(PORTS, 'web', '9000'), { message: "Error: No public port '9000' published for web" });
  assert.throws(() => portLines(PORTS, 'web', 'http'), { message: 'Error: invalid port (http): strconv.ParseUint: parsing "http": invalid syntax' });
});

test('ps PORTS column (formatPsPorts) as docker renders it', () => {
  const p = (PrivatePort: number, Type: string, IP?: string, PublicPort?: number): api.Port => ({ PrivatePort, Type, ...(IP ? { IP } : {}), ...(PublicPort ? { PublicPort } : {}) }) as api.Port;
  assert.equal(formatPsPorts([p(80, 'tcp', '0.0.0.0', 8080)]), '0.0.0.0:8080->80/tcp');
  assert.equal(formatPsPorts([p(9002, 'tcp', '0.0.0.0', 9002), p(9000, 'tcp', '0.0.0.0', 9000), p(9001, 'tcp', '0.0.0.0', 9001)]), '0.0.0.0:9000-9002->9000-9002/tcp');
  assert.equal(formatPsPorts([p(80, 'tcp')]), '80/tcp');
  assert.equal(formatPsPorts([p(443, 'tcp'), p(80, 'tcp', '0.0.0.0', 8080), p(53, 'udp', '0.0.0.0', 53)]), '0.0.0.0:53->53/udp, 443/tcp, 0.0.0.0:8080->80/tcp');
});
