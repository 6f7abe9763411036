import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '../lib/filters.ts';
import { EventBus, type EngineEvent, matchEvent } from './events.ts';

const f = (json: object) => parseFilters(JSON.stringify(json));

test('events: type, action, actor and strictly increasing times', () => {
  const bus = new EventBus();
  bus.publish('container', 'start', 'c1', { image: 'busybox', name: 'web' });
  bus.publish('image', 'tag', 'sha256:aa', { name: 'busybox:1' });
  bus.publish('network', 'create', 'n1', { name: 'net', type: 'bridge' });
  const [c, i, n] = bus.since(0);
  assert.deepEqual({ ...c, timeNano: 0 }, { type: 'container', action: 'start', actor: { id: 'c1', attributes: { image: 'busybox', name: 'web' } }, scope: 'local', timeNano: 0 });
  assert.ok(c!.timeNano < i!.timeNano && i!.timeNano < n!.timeNano);
});

test('history is a bounded ring; since/until select by timeNano', () => {
  const bus = new EventBus(5);
  for (let i = 0; i < 12; i++) bus.publish('container', `a${i}`, 'x');
  const all = bus.since(0);
  assert.deepEqual(all.map((e) => e.action), ['a7', 'a8', 'a9', 'a10', 'a11']);
  assert.deepEqual(bus.since(all[1]!.timeNano, all[3]!.timeNano).map((e) => e.action), ['a8', 'a9', 'a10']);
});

test('a subscriber that does not read is dropped after its queue fills; others and the publisher carry on', async () => {
  const bus = new EventBus(100);
  const slow = bus.open({ maxQueue: 50 });
  const fast = bus.open({ maxQueue: 50 });
  const got: string[] = [];
  const reader = (async () => { for (let ev = await fast.next(); ev; ev = await fast.next()) got.push(ev.action); })();
  for (let i = 0; i < 5000; i++) {
    bus.publish('container', String(i), 'x');
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(slow.overflowed, true);
  assert.equal(slow.queued, 0, 'its queue is released');
  assert.equal(await slow.next(), undefined);
  assert.equal(bus.subscribers, 1);
  await new Promise((r) => setImmediate(r));
  fast.close();
  await reader;
  assert.equal(got.length, 5000);
  assert.equal(got[4999], '4999');
});

test('next() ends on close and on abort; a filter keeps events out of the queue', async () => {
  const bus = new EventBus();
  const sub = bus.open({ filter: (e) => e.type === 'image' });
  bus.publish('container', 'start', 'x');
  bus.publish('image', 'tag', 'y');
  assert.equal((await sub.next())!.action, 'tag');
  const ac = new AbortController();
  const pending = sub.next(ac.signal);
  ac.abort();
  assert.equal(await pending, undefined);
  const p2 = sub.next();
  sub.close();
  assert.equal(await p2, undefined);
  assert.equal(bus.subscribers, 0);
});

const ev = (type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent =>
  ({ type, action, actor: { id, attributes }, scope: 'local', timeNano: 0 });

test('filters follow dockerd: type, event (exact; prefix for health_status/exec_*), container/network/volume by ID or name prefix', () => {
  const start = ev('container', 'start', 'abc123', { name: 'web', image: 'busybox:latest', 'com.x': 'y' });
  const health = ev('container', 'health_status: healthy', 'abc123', { name: 'web', image: 'busybox' });
  const net = ev('network', 'connect', 'n999', { name: 'front', container: 'abc123', type: 'bridge' });
  assert.ok(matchEvent(start, f({})));
  assert.ok(matchEvent(start, f({ type: ['container'] })));
  assert.ok(!matchEvent(net, f({ type: ['container'] })));
  assert.ok(matchEvent(start, f({ event: ['start', 'die'] })));
  assert.ok(!matchEvent(start, f({ event: ['sta'] })));
  assert.ok(!matchEvent(health, f({ event: ['health'] })));
  assert.ok(matchEvent(health, f({ event: ['health_status'] })));
  assert.ok(matchEvent(health, f({ event: ['health_status: healthy'] })));
  assert.ok(matchEvent(start, f({ container: ['abc'] })));
  assert.ok(matchEvent(start, f({ container: ['web'] })));
  assert.ok(!matchEvent(start, f({ container: ['other'] })));
  assert.ok(!matchEvent(net, f({ container: ['web'] })));
  assert.ok(matchEvent(net, f({ network: ['front'] })));
  assert.ok(matchEvent(net, f({ network: ['n9'] })));
  assert.ok(!matchEvent(start, f({ network: ['front'] })));
  assert.ok(!matchEvent(start, f({ volume: ['v'] })));
  assert.ok(matchEvent(ev('volume', 'create', 'data', { driver: 'local' }), f({ volume: ['data'], type: ['volume'] })));
  assert.ok(matchEvent(ev('daemon', 'reload', 'd1', { name: 'host' }), f({ daemon: ['host'] })));
});

test('image matches exactly by ID or name, with or without the tag; labels as k or k=v, all required', () => {
  const c = ev('container', 'create', 'abc', { name: 'web', image: 'busybox:latest', tier: 'front', debug: '' });
  const i = ev('image', 'tag', 'sha256:ff', { name: 'reg:5000/team/app:1.0' });
  assert.ok(matchEvent(c, f({ image: ['busybox'] })));
  assert.ok(matchEvent(c, f({ image: ['busybox:latest'] })));
  assert.ok(!matchEvent(c, f({ image: ['busy'] })));
  assert.ok(matchEvent(i, f({ image: ['reg:5000/team/app'] })));
  assert.ok(matchEvent(i, f({ image: ['sha256:ff'] })));
  assert.ok(matchEvent(c, f({ label: ['tier'] })));
  assert.ok(matchEvent(c, f({ label: ['tier=front', 'debug'] })));
  assert.ok(!matchEvent(c, f({ label: ['tier=back'] })));
  assert.ok(!matchEvent(c, f({ label: ['tier=front', 'missing'] })));
  assert.ok(matchEvent(c, f({ scope: ['local'] })));
  assert.ok(!matchEvent(c, f({ scope: ['swarm'] })));
});

test('watch: the history in range and matching, then live events up to until, from one subscription', async () => {
  const bus = new EventBus();
  bus.publish('container', 'start', 'c1', { name: 'web' });
  bus.publish('network', 'create', 'n1', { name: 'net' });
  const first = bus.since(0)[0]!.timeNano;
  // Neither since nor until: no history, live only.
  const live = bus.watch({ filters: f({ type: ['container'] }) });
  assert.deepEqual(live.past, []);
  const ranged = bus.watch({ filters: f({ type: ['container'] }), since: first });
  assert.deepEqual(ranged.past.map((e) => e.action), ['start']);
  bus.publish('network', 'connect', 'n1', { name: 'net' });
  bus.publish('container', 'stop', 'c1', { name: 'web' });
  assert.equal((await live.live.next())?.action, 'stop');
  assert.equal((await ranged.live.next())?.action, 'stop');
  live.live.close();
  ranged.live.close();
  // An until in the past: the live subscription lets nothing through.
  const past = bus.watch({ filters: new Map(), since: 0, until: first });
  assert.deepEqual(past.past.map((e) => e.action), ['start']);
  bus.publish('container', 'die', 'c1');
  assert.equal(past.live.queued, 0);
  past.live.close();
  assert.equal(bus.subscribers, 0);
});
