import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import type { PortMap } from '../../api/types/index.ts';
import type { Proto } from '../../network/index.ts';
import { assignedPortMap, assignHostPorts, bindingsClash, ephemeralRange, portRequests, type PortPicker, type PortRequest } from './host-ports.ts';

const kindAndMessage = (kind: string, message: string | RegExp) => (err: unknown) =>
  err instanceof EngineError && err.kind === kind && (typeof message === 'string' ? err.message === message : message.test(err.message));

/** A picker over fixed "other containers'" ports and host sockets held by other processes. */
class FakePicker implements PortPicker {
  readonly checked: number[] = [];
  constructor(
    private readonly others: { hostIp: string; hostPort: number; proto: string; count: number }[] = [],
    private readonly busy: Map<number, string> = new Map(),
  ) {}
  taken() { return this.others; }
  async free(_hostIp: string, port: number, _proto: Proto): Promise<true | string> {
    this.checked.push(port);
    return this.busy.get(port) ?? true;
  }
}

/** PortBindings as a client may send them (fields left out). */
const wire = (json: string) => JSON.parse(json) as PortMap;

const req = (hostPort: string, containerPort = 80, extra: Partial<PortRequest> = {}): PortRequest =>
  ({ hostIp: '', hostPort, containerPort, proto: 'tcp', ...extra });

// ---- portRequests ------------------------------------------------------------------------------

test('portRequests: PortBindings give one request each; 0.0.0.0 and a missing HostIp mean any address', () => {
  const reqs = portRequests({
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }],
  }, undefined, false);
  assert.deepEqual(reqs, [
    { hostIp: '', hostPort: '8080', containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: '', containerPort: 80, proto: 'tcp' },
  ]);
  // Clients may leave fields out of the wire shape.
  assert.deepEqual(portRequests(wire('{"53/udp":[{"HostPort":"5353"}]}'), undefined, false), [{ hostIp: '', hostPort: '5353', containerPort: 53, proto: 'udp' }]);
  // A key without "/proto" is tcp.
  assert.deepEqual(portRequests(wire('{"443":[{}]}'), undefined, false), [{ hostIp: '', hostPort: '', containerPort: 443, proto: 'tcp' }]);
});

test('portRequests: -P adds every exposed port that has no binding; without -P exposed ports are ignored', () => {
  const bindings = { '80/tcp': [{ HostIp: '', HostPort: '8080' }] };
  const exposed = { '80/tcp': {}, '9000/udp': {}, '22/tcp': {} };
  assert.deepEqual(portRequests(bindings, exposed, false), [{ hostIp: '', hostPort: '8080', containerPort: 80, proto: 'tcp' }]);
  assert.deepEqual(portRequests(bindings, exposed, true), [
    { hostIp: '', hostPort: '8080', containerPort: 80, proto: 'tcp' },
    { hostIp: '', hostPort: '', containerPort: 9000, proto: 'udp' },
    { hostIp: '', hostPort: '', containerPort: 22, proto: 'tcp' },
  ]);
  assert.deepEqual(portRequests(null, null, true), []);
});

test('portRequests: a null binding list publishes nothing but still counts as bound for -P', () => {
  assert.deepEqual(portRequests({ '80/tcp': null }, { '80/tcp': {} }, true), []);
});

test('portRequests: invalid port keys are InvalidParameter', () => {
  for (const key of ['abc/tcp', '0/tcp', '65536/tcp', '80/icmp', '8000-8010/tcp', '']) {
    assert.throws(() => portRequests({ [key]: [{ HostIp: '', HostPort: '1' }] }, undefined, false), kindAndMessage('InvalidParameter', `invalid port: ${key}`), key);
  }
  assert.throws(() => portRequests(undefined, { 'x/tcp': {} }, true), kindAndMessage('InvalidParameter', 'invalid port: x/tcp'));
});

// ---- bindingsClash -----------------------------------------------------------------------------

test('bindingsClash: same proto and port clash when addresses overlap', () => {
  const any = { hostIp: '', hostPort: 8080, proto: 'tcp' };
  assert.equal(bindingsClash(any, { ...any }), true);
  assert.equal(bindingsClash(any, { ...any, hostIp: '127.0.0.1' }), true);
  assert.equal(bindingsClash({ ...any, hostIp: '127.0.0.1' }, any), true);
  assert.equal(bindingsClash({ ...any, hostIp: '127.0.0.1' }, { ...any, hostIp: '10.0.0.1' }), false);
  assert.equal(bindingsClash(any, { ...any, proto: 'udp' }), false);
  assert.equal(bindingsClash(any, { ...any, hostPort: 8081 }), false);
});

test('bindingsClash: ranges (count) overlap at either end', () => {
  const run = { hostIp: '', hostPort: 8000, proto: 'tcp', count: 5 }; // 8000-8004
  assert.equal(bindingsClash(run, { hostIp: '', hostPort: 8004, proto: 'tcp' }), true);
  assert.equal(bindingsClash({ hostIp: '', hostPort: 7998, proto: 'tcp', count: 3 }, run), true);
  assert.equal(bindingsClash(run, { hostIp: '', hostPort: 8005, proto: 'tcp' }), false);
  assert.equal(bindingsClash({ hostIp: '', hostPort: 7995, proto: 'tcp', count: 5 }, run), false);
});

// ---- assignHostPorts ---------------------------------------------------------------------------

test('assignHostPorts: a requested free port is used as is', async () => {
  const picker = new FakePicker();
  const out = await assignHostPorts([req('8080'), req('5353', 53, { proto: 'udp', hostIp: '127.0.0.1' })], picker, { next: 0 });
  assert.deepEqual(out, [
    { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp', count: 1 },
    { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, proto: 'udp', count: 1 },
  ]);
  assert.deepEqual(picker.checked, [8080, 5353]);
});

test('assignHostPorts: a port another container publishes is Docker\'s "port is already allocated"', async () => {
  const picker = new FakePicker([{ hostIp: '', hostPort: 8080, proto: 'tcp', count: 1 }]);
  await assert.rejects(assignHostPorts([req('8080')], picker, { next: 0 }),
    kindAndMessage('Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated'));
  await assert.rejects(assignHostPorts([req('8080', 80, { hostIp: '127.0.0.1' })], picker, { next: 0 }),
    kindAndMessage('Conflict', 'Bind for 127.0.0.1:8080 failed: port is already allocated'));
  assert.deepEqual(picker.checked, [], 'the host is not probed for a port we know is taken');
  // Another proto or a disjoint address is fine.
  assert.equal((await assignHostPorts([req('8080', 80, { proto: 'udp' })], picker, { next: 0 }))[0]!.hostPort, 8080);
});

test('assignHostPorts: a port a host process holds is Conflict "address already in use"', async () => {
  const picker = new FakePicker([], new Map([[8080, 'EADDRINUSE'], [9090, 'EADDRNOTAVAIL']]));
  await assert.rejects(assignHostPorts([req('8080')], picker, { next: 0 }),
    kindAndMessage('Conflict', 'failed to bind port 0.0.0.0:8080/tcp: listen tcp4 0.0.0.0:8080: bind: address already in use'));
  await assert.rejects(assignHostPorts([req('9090', 80, { hostIp: '10.9.9.9' })], picker, { next: 0 }),
    kindAndMessage('Conflict', /cannot assign requested address$/));
});

test('assignHostPorts: a host range takes its first free port; a full range is Unavailable', async () => {
  const picker = new FakePicker([{ hostIp: '', hostPort: 8000, proto: 'tcp', count: 2 }], new Map([[8002, 'EADDRINUSE']]));
  const out = await assignHostPorts([req('8000-8010')], picker, { next: 0 });
  assert.equal(out[0]!.hostPort, 8003);
  assert.deepEqual(picker.checked, [8002, 8003]);
  await assert.rejects(assignHostPorts([req('8000-8001')], picker, { next: 0 }),
    kindAndMessage('Unavailable', 'Bind for 0.0.0.0:8000-8001 failed: no free port in the range'));
});

test('assignHostPorts: malformed host ports are InvalidParameter', async () => {
  for (const hp of ['abc', '9-3', '70000', '0-5']) {
    await assert.rejects(assignHostPorts([req(hp)], new FakePicker(), { next: 0 }),
      kindAndMessage('InvalidParameter', `invalid port specification: "${hp}"`), hp);
  }
});

test('assignHostPorts: random ports come in order from the ephemeral range and the cursor advances', async () => {
  const [lo, hi] = ephemeralRange();
  const cursor = { next: 0 };
  const picker = new FakePicker([{ hostIp: '', hostPort: lo + 1, proto: 'tcp', count: 1 }], new Map([[lo + 2, 'EADDRINUSE']]));
  const first = await assignHostPorts([req(''), req('0', 81)], picker, cursor);
  assert.deepEqual(first.map((p) => p.hostPort), [lo, lo + 3]);
  assert.equal(cursor.next, lo + 4);
  const second = await assignHostPorts([req('', 82)], picker, cursor);
  assert.equal(second[0]!.hostPort, lo + 4, 'continues where the last call stopped');
  // At the top of the range the cursor wraps.
  cursor.next = hi;
  assert.equal((await assignHostPorts([req('')], new FakePicker(), cursor))[0]!.hostPort, hi);
  assert.equal(cursor.next, lo);
});

test('assignHostPorts: two requests in one call never get the same port', async () => {
  const cursor = { next: 0 };
  const out = await assignHostPorts([req(''), req('', 81), req('', 82, { hostIp: '127.0.0.1' })], new FakePicker(), cursor);
  assert.equal(new Set(out.map((p) => p.hostPort)).size, 3);
  // A requested port that an earlier request of the same call took is already allocated.
  await assert.rejects(assignHostPorts([req('8080'), req('8080', 81)], new FakePicker(), { next: 0 }),
    kindAndMessage('Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated'));
  // A random pick skips a port requested explicitly earlier in the call.
  const [lo] = ephemeralRange();
  const mixed = await assignHostPorts([req(String(lo)), req('', 81)], new FakePicker(), { next: 0 });
  assert.deepEqual(mixed.map((p) => p.hostPort), [lo, lo + 1]);
});

// ---- assignedPortMap ---------------------------------------------------------------------------

test('assignedPortMap: exposed ports without bindings are null, ranges expanded, any address shown as 0.0.0.0', () => {
  const map = assignedPortMap({ '22/tcp': {}, '80/tcp': {} }, [
    { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp', count: 1 },
    { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, proto: 'tcp', count: 1 },
    { hostIp: '', hostPort: 9000, containerPort: 7000, proto: 'udp', count: 3 },
  ]);
  assert.deepEqual(map, {
    '22/tcp': null,
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }],
    '7000/udp': [{ HostIp: '0.0.0.0', HostPort: '9000' }],
    '7001/udp': [{ HostIp: '0.0.0.0', HostPort: '9001' }],
    '7002/udp': [{ HostIp: '0.0.0.0', HostPort: '9002' }],
  });
  assert.deepEqual(assignedPortMap(undefined, []), {});
});
