// Prune filters at the engine level, the same table for every resource (issue 12): `label` and
// `label!` with and without a value, `until` as a Go duration, an RFC 3339 time and unix seconds,
// as dockerd reads them; dangling/all for images, all for volumes; what each prune refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../lib/errors.ts';
import type { Filters } from '../lib/filters.ts';
import { cachePrunePredicate } from './builds/cache-prune.ts';
import { containerPrunePredicate } from './containers/prune.ts';
import { initialState, type ContainerRecord } from './containers/record.ts';
import { prunePredicate as imagePrunePredicate } from './images/filters.ts';
import { networkPrunePredicate } from './networks/prune.ts';
import type { NetworkRecord } from './networks/record.ts';
import { volumePrunePredicate } from './volumes/prune.ts';
import type { VolumeRecord } from './volumes/record.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;

/** Three objects of each kind: A {x=y} 2 hours old, B {x=z} 10 minutes old, C unlabelled 3 days old. */
const OBJECTS = [
  { name: 'A', labels: { x: 'y' }, created: NOW - 2 * HOUR },
  { name: 'B', labels: { x: 'z' }, created: NOW - HOUR / 6 },
  { name: 'C', labels: {}, created: NOW - 72 * HOUR },
] as const;

const f = (entries: Record<string, string[]>): Filters => new Map(Object.entries(entries));

/** Filters and the objects they take, for every resource that has labels and `until`. */
const CASES: Array<[string, Filters, string[]]> = [
  ['no filter', f({}), ['A', 'B', 'C']],
  ['label=x (key only)', f({ label: ['x'] }), ['A', 'B']],
  ['label=x=y', f({ label: ['x=y'] }), ['A']],
  ['label=x and label=x=z: every one must hold', f({ label: ['x', 'x=z'] }), ['B']],
  ['label!=x (key only)', f({ 'label!': ['x'] }), ['C']],
  ['label!=x=y', f({ 'label!': ['x=y'] }), ['B', 'C']],
  ['label!: spared only when matching every value', f({ 'label!': ['x', 'x=y'] }), ['B', 'C']],
  ['label=x with label!=x=z', f({ label: ['x'], 'label!': ['x=z'] }), ['A']],
  ['until=1h (Go duration)', f({ until: ['1h'] }), ['A', 'C']],
  ['until=1h30m', f({ until: ['1h30m'] }), ['A', 'C']],
  ['until=24h', f({ until: ['24h'] }), ['C']],
  ['until=RFC 3339 time', f({ until: [new Date(NOW - HOUR).toISOString()] }), ['A', 'C']],
  ['until=unix seconds', f({ until: [String((NOW - HOUR) / 1000)] }), ['A', 'C']],
  ['until=0s is now', f({ until: ['0s'] }), ['A', 'B', 'C']],
  ['until with label', f({ until: ['1h'], label: ['x'] }), ['A']],
];

const iso = (ms: number) => new Date(ms).toISOString();
type Obj = (typeof OBJECTS)[number];

function container(o: Obj): ContainerRecord {
  return {
    id: o.name, name: o.name, imageId: 'sha256:1', imageRef: 'busybox', createdAt: iso(o.created),
    config: { Labels: { ...o.labels } }, hostConfig: {}, runtime: 'crun', restartCount: 0,
    state: { ...initialState(), status: 'exited' },
  };
}

function network(o: Obj): NetworkRecord {
  return {
    id: o.name, name: o.name, driver: 'bridge', createdAt: iso(o.created), bridge: '', subnet: '', gateway: '', ipRange: '',
    enableIPv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, attachable: false, builtin: false,
    labels: { ...o.labels }, options: {}, ipam: { Driver: 'default', Options: null, Config: null },
  };
}

const volume = (o: Obj, anonymous = true): VolumeRecord => ({
  name: o.name, driver: 'local', createdAt: iso(o.created), labels: { ...o.labels }, options: {}, anonymous, populated: false,
});

const image = (o: Obj, tagged = false) => ({
  id: o.name, created: o.created / 1000, labels: o.labels,
  refs: tagged ? [{ domain: 'docker.io', path: 'library/x', tag: o.name }] : [],
});

const taken = <T>(objects: T[], takes: (x: T) => boolean, name: (x: T) => string) => objects.filter(takes).map(name);
const refused = (re: RegExp) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && re.test(err.message);

test('container prune: label, label! and until as dockerd; running containers stay', () => {
  const all = OBJECTS.map(container);
  for (const [what, filters, want] of CASES) {
    assert.deepEqual(taken(all, containerPrunePredicate(filters, NOW), (c) => c.name), want, what);
  }
  const running = { ...container(OBJECTS[0]), state: { ...initialState(), status: 'running' as const } };
  assert.equal(containerPrunePredicate(f({}), NOW)(running), false);
  assert.throws(() => containerPrunePredicate(f({ dangling: ['true'] }), NOW), refused(/invalid filter 'dangling'/));
  assert.throws(() => containerPrunePredicate(f({ until: ['1h', '2h'] }), NOW), refused(/more than one until filter specified/));
  assert.throws(() => containerPrunePredicate(f({ until: ['soon'] }), NOW), refused(/invalid value for 'until' filter/));
});

test('network prune: label, label! and until as dockerd; built-in and used networks stay', () => {
  const all = OBJECTS.map(network);
  for (const [what, filters, want] of CASES) {
    assert.deepEqual(taken(all, networkPrunePredicate(filters, () => false, NOW), (n) => n.name), want, what);
  }
  assert.deepEqual(taken(all, networkPrunePredicate(f({}), (n) => n.name === 'A', NOW), (n) => n.name), ['B', 'C']);
  assert.equal(networkPrunePredicate(f({}), () => false, NOW)({ ...network(OBJECTS[0]), builtin: true }), false);
  assert.throws(() => networkPrunePredicate(f({ dangling: ['true'] }), () => false, NOW), refused(/invalid filter 'dangling'/));
});

test('image prune: dangling ones only unless all or dangling=false, then label, label! and until', () => {
  const dangling = OBJECTS.map((o) => image(o));
  const tagged = OBJECTS.map((o) => image(o, true));
  for (const [what, filters, want] of CASES) {
    assert.deepEqual(taken(dangling, imagePrunePredicate(filters, false, NOW), (i) => i.id), want, `dangling, ${what}`);
    assert.deepEqual(taken(tagged, imagePrunePredicate(filters, true, NOW), (i) => i.id), want, `all, ${what}`);
    assert.deepEqual(taken(tagged, imagePrunePredicate(filters, false, NOW), (i) => i.id), [], `tagged stay, ${what}`);
  }
  assert.deepEqual(taken(tagged, imagePrunePredicate(f({ dangling: ['false'] }), false, NOW), (i) => i.id), ['A', 'B', 'C']);
  assert.throws(() => imagePrunePredicate(f({ reference: ['x'] }), false, NOW), refused(/invalid filter 'reference'/));
});

test('volume prune: anonymous ones unless all=true, label and label! as dockerd; no until', () => {
  const anonymous = OBJECTS.map((o) => volume(o));
  const named = OBJECTS.map((o) => volume(o, false));
  for (const [what, filters, want] of CASES.filter(([, fl]) => !fl.has('until'))) {
    assert.deepEqual(taken(anonymous, volumePrunePredicate(filters, new Set()), (v) => v.name), want, `anonymous, ${what}`);
    assert.deepEqual(taken(named, volumePrunePredicate(filters, new Set()), (v) => v.name), [], `named stay, ${what}`);
    const all = new Map([...filters, ['all', ['true']]]);
    assert.deepEqual(taken(named, volumePrunePredicate(all, new Set()), (v) => v.name), want, `all=true, ${what}`);
  }
  assert.deepEqual(taken(anonymous, volumePrunePredicate(f({}), new Set(['B'])), (v) => v.name), ['A', 'C'], 'a used volume stays');
  assert.throws(() => volumePrunePredicate(f({ until: ['1h'] }), new Set()), refused(/invalid filter 'until'/));
  assert.throws(() => volumePrunePredicate(f({ all: ['maybe'] }), new Set()), refused(/invalid filter 'all'/));
  assert.throws(() => volumePrunePredicate(f({ all: ['1', '0'] }), new Set()), refused(/only one value is expected/));
});

test('build cache prune: until and unused-for as dockerd; label and label! accepted and ignored (cache entries have none)', () => {
  const entries = OBJECTS.map((o) => ({ key: o.name, imageId: `sha256:${o.name}`, parentId: null, createdAt: iso(o.created) }));
  for (const [what, filters, want] of CASES) {
    const got = taken(entries, cachePrunePredicate(filters, NOW), (e) => e.key);
    if (filters.has('label') || filters.has('label!')) {
      // Labels change nothing: the same as the filter without them.
      const without = new Map([...filters].filter(([k]) => k !== 'label' && k !== 'label!'));
      assert.deepEqual(got, taken(entries, cachePrunePredicate(without, NOW), (e) => e.key), what);
    } else assert.deepEqual(got, want, what);
  }
  const unusedFor = taken(entries, cachePrunePredicate(f({ 'unused-for': ['1h'] }), NOW), (e) => e.key);
  assert.deepEqual(unusedFor, ['A', 'C']);
  assert.throws(() => cachePrunePredicate(f({ until: ['1h'], 'unused-for': ['1h'] }), NOW), refused(/conflicting filters/));
});
