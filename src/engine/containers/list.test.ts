import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { type ListOptions, selectContainers } from './list.ts';
import { type ContainerRecord, type ContainerStatus, initialState } from './record.ts';

function ctr(n: number, name: string, status: ContainerStatus, extra: { labels?: Record<string, string>; exitCode?: number; image?: string; net?: string } = {}): ContainerRecord {
  return {
    id: `${String(n).repeat(4)}${'f'.repeat(60)}`, name, imageId: `sha256:${extra.image ?? 'busybox'}`, imageRef: extra.image ?? 'busybox',
    createdAt: `2024-05-01T10:00:0${n}.000000000Z`, config: { Labels: extra.labels ?? {} }, hostConfig: { NetworkMode: extra.net ?? 'none' },
    runtime: 'crun', restartCount: 0, state: { ...initialState(), status, exitCode: extra.exitCode ?? 0 },
  };
}

// Newest first, as ContainerRepo.all() returns them.
const ALL: ContainerRecord[] = [
  ctr(6, 'web-2', 'running', { labels: { role: 'web', tier: 'front' } }),
  ctr(5, 'db', 'paused', { labels: { role: 'db' }, image: 'postgres' }),
  ctr(4, 'job-ok', 'exited', { exitCode: 0 }),
  ctr(3, 'job-fail', 'exited', { exitCode: 3, labels: { role: 'job' } }),
  ctr(2, 'fresh', 'created', { net: 'host' }),
  ctr(1, 'web-1', 'running', { labels: { role: 'web' }, net: 'host' }),
];

const lookup = {
  resolve(ref: string): ContainerRecord {
    const c = ALL.find((x) => x.name === ref.replace(/^\//, '') || x.id.startsWith(ref));
    if (!c) throw new EngineError('NotFound', `No such container: ${ref}`);
    return c;
  },
  imageMatches: (ref: string, c: ContainerRecord) => c.imageRef === ref,
};

const names = (o: Partial<ListOptions> & { f?: string }) =>
  selectContainers(ALL, { all: o.all ?? false, ...(o.limit !== undefined ? { limit: o.limit } : {}), filters: parseFilters(o.f ?? null) }, lookup).map((c) => c.name);

const invalidWith = (msg: string) => (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === msg;

test('without all: running, paused (and restarting) ones, newest first', () => {
  assert.deepEqual(names({}), ['web-2', 'db', 'web-1']);
});

test('all: every container, newest first', () => {
  assert.deepEqual(names({ all: true }), ['web-2', 'db', 'job-ok', 'job-fail', 'fresh', 'web-1']);
});

test('limit: the newest N, stopped ones included (docker ps -n)', () => {
  assert.deepEqual(names({ limit: 3 }), ['web-2', 'db', 'job-ok']);
  assert.deepEqual(names({ limit: 1, f: '{"label":["role=web"]}' }), ['web-2']);
  // 0 and negative mean no limit.
  assert.deepEqual(names({ limit: 0 }), ['web-2', 'db', 'web-1']);
  assert.deepEqual(names({ limit: -1 }), ['web-2', 'db', 'web-1']);
});

test('label filter in both wire shapes (documented list and the Go client map)', () => {
  assert.deepEqual(names({ all: true, f: '{"label":["role=web"]}' }), ['web-2', 'web-1']);
  assert.deepEqual(names({ all: true, f: '{"label":{"role=web":true}}' }), ['web-2', 'web-1']);
  assert.deepEqual(names({ all: true, f: '{"label":{"role":true}}' }), ['web-2', 'db', 'job-fail', 'web-1']);
  // Several values must all match.
  assert.deepEqual(names({ all: true, f: '{"label":["role=web","tier=front"]}' }), ['web-2']);
});

test('name filter: Docker regex on the name with its leading slash', () => {
  assert.deepEqual(names({ all: true, f: '{"name":["web"]}' }), ['web-2', 'web-1']);
  assert.deepEqual(names({ all: true, f: '{"name":["^/web-1$"]}' }), ['web-1']);
  assert.deepEqual(names({ all: true, f: '{"name":["/db"]}' }), ['db']);
  assert.deepEqual(names({ all: true, f: '{"name":["^/?job-ok$"]}' }), ['job-ok']);
  assert.deepEqual(names({ all: true, f: '{"name":{"db":true,"fresh":true}}' }), ['db', 'fresh']);
  // An invalid expression matches nothing instead of failing the request.
  assert.deepEqual(names({ all: true, f: '{"name":["web("]}' }), []);
});

test('id filter: prefix (a Docker regex on the ID)', () => {
  assert.deepEqual(names({ all: true, f: '{"id":["3333"]}' }), ['job-fail']);
  assert.deepEqual(names({ all: true, f: '{"id":["^1111","^2222"]}' }), ['fresh', 'web-1']);
  assert.deepEqual(names({ all: true, f: `{"id":["${ALL[1]!.id}"]}` }), ['db']);
});

test('status filter implies all; several values are alternatives', () => {
  assert.deepEqual(names({ f: '{"status":["exited"]}' }), ['job-ok', 'job-fail']);
  assert.deepEqual(names({ f: '{"status":["created","paused"]}' }), ['db', 'fresh']);
  assert.deepEqual(names({ f: '{"status":{"running":true}}' }), ['web-2', 'web-1']);
});

test('invalid status value: InvalidParameter with Docker\'s wording', () => {
  assert.throws(() => names({ f: '{"status":["sleeping"]}' }), invalidWith("invalid filter 'status=sleeping'"));
});

test('unknown filter key and malformed filters are InvalidParameter', () => {
  assert.throws(() => names({ f: '{"colour":["red"]}' }), invalidWith("invalid filter 'colour'"));
  assert.throws(() => names({ f: '{"label":' }), (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter');
});

test('exited filter: exit codes of exited containers; needs all, as in Docker', () => {
  assert.deepEqual(names({ all: true, f: '{"exited":["3"]}' }), ['job-fail']);
  assert.deepEqual(names({ all: true, f: '{"exited":["0"]}' }), ['job-ok']);
  assert.deepEqual(names({ all: true, f: '{"exited":["0","3"]}' }), ['job-ok', 'job-fail']);
  // Running containers have exit code 0 too, but are not exited.
  assert.deepEqual(names({ all: true, f: '{"exited":["0"],"label":["role=web"]}' }), []);
  assert.deepEqual(names({ f: '{"exited":["0"]}' }), []);
});

test('before and since: strictly older / newer than the named container', () => {
  assert.deepEqual(names({ all: true, f: '{"before":["job-fail"]}' }), ['fresh', 'web-1']);
  assert.deepEqual(names({ all: true, f: '{"since":["job-fail"]}' }), ['web-2', 'db', 'job-ok']);
  assert.deepEqual(names({ all: true, f: '{"since":["fresh"],"before":["db"]}' }), ['job-ok', 'job-fail']);
  // Without all, only running ones remain (current dockerd: before/since do not imply --all).
  assert.deepEqual(names({ f: '{"before":["web-2"]}' }), ['db', 'web-1']);
  // By ID prefix too.
  assert.deepEqual(names({ all: true, f: '{"since":["5555"]}' }), ['web-2']);
});

test('before/since naming a missing container is the lookup\'s NotFound', () => {
  assert.throws(() => names({ all: true, f: '{"before":["ghost"]}' }), (err: unknown) => err instanceof EngineError && err.kind === 'NotFound' && err.message === 'No such container: ghost');
});

test('ancestor and network filters', () => {
  assert.deepEqual(names({ all: true, f: '{"ancestor":["postgres"]}' }), ['db']);
  assert.deepEqual(names({ all: true, f: '{"ancestor":["busybox","postgres"]}' }).length, 6);
  assert.deepEqual(names({ all: true, f: '{"network":["host"]}' }), ['fresh', 'web-1']);
});

test('accepted but not applied keys do not fail', () => {
  assert.equal(names({ all: true, f: '{"is-task":["x"]}' }).length, 6);
});

test('volume= matches a volume name or a mount destination', () => {
  assert.deepEqual(names({ all: true, f: '{"volume":["x"]}' }), [], 'no volume data: nothing matches');
});

test('health: none without a health check; unknown values refused in dockerd words', () => {
  assert.equal(names({ all: true, f: '{"health":["none"]}' }).length, 6);
  assert.deepEqual(names({ all: true, f: '{"health":["healthy","starting","unhealthy"]}' }), []);
  assert.throws(() => names({ all: true, f: '{"health":["x"]}' }), /Unrecognised filter value for health: x/);
});

test('publish and expose match container ports; without port data nothing is published', () => {
  assert.deepEqual(names({ all: true, f: '{"publish":["80"]}' }), []);
  assert.deepEqual(names({ all: true, f: '{"expose":["9999/udp"]}' }), []);
});

test('the input list is not modified', () => {
  const before = ALL.map((c) => c.name);
  names({ all: true, f: '{"before":["db"]}' });
  assert.deepEqual(ALL.map((c) => c.name), before);
});
