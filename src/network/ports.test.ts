import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf, messageOf } from '../lib/errors.ts';
import {
  formatPortLines,
  fromPortMap,
  groupRanges,
  parsePortSpec,
  publishAllMappings,
  toApiPorts,
  toPortMap,
} from './ports.ts';

const m = (hostIp: string, hostPort: string, containerPort: number, proto = 'tcp') => ({ hostIp, hostPort, containerPort, proto });

test('parsePortSpec: every -p form from the issue', () => {
  assert.deepEqual(parsePortSpec('8080:80'), [m('', '8080', 80)]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8081:80'), [m('127.0.0.1', '8081', 80)]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [m('127.0.0.1', '', 80)]);
  assert.deepEqual(parsePortSpec('192.0.2.1:83:80/udp'), [m('192.0.2.1', '83', 80, 'udp')]);
  assert.deepEqual(parsePortSpec('53:53/udp'), [m('', '53', 53, 'udp')]);
  assert.deepEqual(parsePortSpec('80'), [m('', '', 80)]);
  assert.deepEqual(parsePortSpec('80/UDP'), [m('', '', 80, 'udp')]);
  assert.deepEqual(parsePortSpec('9000-9002:9000-9002'), [m('', '9000', 9000), m('', '9001', 9001), m('', '9002', 9002)]);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [m('', '8000-8010', 80)]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [m('::1', '8080', 80)]);
});

test('parsePortSpec: malformed specs get Docker messages', () => {
  const cases: [string, string][] = [
    ['', 'no port specified: <empty>'],
    ['8080:', 'no port specified: 8080:<empty>'],
    ['8080:abc', 'invalid containerPort: abc'],
    ['8080:0', 'invalid containerPort: 0'],
    ['8080:70000', 'invalid containerPort: 70000'],
    ['abc:80', 'invalid hostPort: abc'],
    ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
    ['80:80/xyz', 'invalid proto: xyz'],
    ['9000-9001:9000-9002', 'invalid ranges specified for container and host Ports: 9000-9002 and 9000-9001'],
    ['9002-9000:80', 'invalid hostPort: 9002-9000'],
  ];
  for (const [spec, msg] of cases) {
    assert.throws(() => parsePortSpec(spec), (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === msg, spec);
  }
});

test('publishAllMappings (-P) publishes every exposed port to a random host port', () => {
  assert.deepEqual(publishAllMappings({ '80/tcp': {}, '53/udp': {} }), [m('', '', 80), m('', '', 53, 'udp')]);
  assert.deepEqual(publishAllMappings(null), []);
});

test('toPortMap groups bindings by container port', () => {
  assert.deepEqual(toPortMap([...parsePortSpec('8080:80'), ...parsePortSpec('127.0.0.1:8081:80'), ...parsePortSpec('53:53/udp')]), {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }],
    '53/udp': [{ HostIp: '', HostPort: '53' }],
  });
});

test('groupRanges turns a published range into one run', () => {
  const assigned = fromPortMap({
    '9002/tcp': [{ HostIp: '', HostPort: '9002' }],
    '9000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '9001/tcp': [{ HostIp: '', HostPort: '9001' }],
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }],
    '53/udp': [{ HostIp: '', HostPort: '53' }],
  });
  assert.deepEqual(groupRanges(assigned), [
    { hostIp: '', hostPort: 9000, containerPort: 9000, count: 3, proto: 'tcp' },
    { hostIp: '', hostPort: 53, containerPort: 53, count: 1, proto: 'udp' },
    { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, count: 1, proto: 'tcp' },
  ]);
  // Consecutive host ports mapped to non-consecutive container ports stay separate rules.
  assert.equal(groupRanges(fromPortMap({ '80/tcp': [{ HostIp: '', HostPort: '8000' }], '90/tcp': [{ HostIp: '', HostPort: '8001' }] })).length, 2);
});

test('formatPortLines prints docker port lines', () => {
  assert.deepEqual(
    formatPortLines({
      '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }],
      '53/udp': [{ HostIp: '0.0.0.0', HostPort: '53' }],
      '443/tcp': null,
    }),
    ['53/udp -> 0.0.0.0:53', '80/tcp -> 0.0.0.0:8080', '80/tcp -> 127.0.0.1:8081'],
  );
});


test('toApiPorts: exposed ports without bindings, and one entry per binding', () => {
  const assigned = { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] };
  assert.deepEqual(toApiPorts({ '80/tcp': {}, '443/tcp': {} }, assigned), [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
  ]);
  assert.deepEqual(toApiPorts(null, null), []);
});
