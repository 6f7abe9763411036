import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { parseReference } from '../../lib/reference.ts';
import { applyChanges } from './changes.ts';
import { globToRegExp, listPredicate, listedReferences, matchesReference, parseTimeBound, prunePredicate, type FilterableImage } from './filters.ts';
import { familiarString } from '../../lib/reference.ts';

const img = (refs: string[], created = 100, labels: Record<string, string> = {}): FilterableImage =>
  ({ id: 'sha256:x', created, labels, refs: refs.map((r) => parseReference(r)) });

test('reference globs behave like Go path.Match on name:tag and name', () => {
  assert.ok(matchesReference('busybox', [parseReference('busybox:1')]));
  assert.ok(matchesReference('busy*', [parseReference('busybox')]));
  assert.ok(matchesReference('busybox:l?test', [parseReference('busybox')]));
  assert.ok(!matchesReference('*', [parseReference('foo/bar')]));
  assert.ok(matchesReference('*/*', [parseReference('foo/bar')]));
  assert.ok(matchesReference('localhost:5000/*', [parseReference('localhost:5000/app:v1')]));
  assert.ok(matchesReference('[a-c]usybox', [parseReference('busybox')]));
  assert.ok(!matchesReference('busybox.x', [parseReference('busyboxax')]));
  assert.throws(() => globToRegExp('[abc'), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
});

test('listed references: under a reference filter an image shows only the tags and digests that match', () => {
  const refs = ['busybox:1', 'busybox:latest', 'bb:x', 'localhost:5000/busybox:1', `busybox@sha256:${'a'.repeat(64)}`].map((r) => parseReference(r));
  const shown = (f: string) => listedReferences(parseFilters(f), refs).map(familiarString);
  assert.deepEqual(shown('{}'), refs.map(familiarString));
  assert.deepEqual(shown('{"reference":["busybox"]}'), ['busybox:1', 'busybox:latest', `busybox@sha256:${'a'.repeat(64)}`]);
  assert.deepEqual(shown('{"reference":["busybox:1"]}'), ['busybox:1']);
  assert.deepEqual(shown('{"reference":["b*"]}'), ['busybox:1', 'busybox:latest', 'bb:x', `busybox@sha256:${'a'.repeat(64)}`]);
  assert.deepEqual(shown('{"reference":["bb*"]}'), ['bb:x']);
  assert.deepEqual(shown('{"reference":["bb:x","*/busybox:1"]}'), ['bb:x', 'localhost:5000/busybox:1']);
  assert.deepEqual(shown('{"reference":["docker.io/library/busybox:latest"]}'), ['busybox:latest']);
});

test('time bounds: durations, unix seconds, RFC 3339', () => {
  assert.equal(parseTimeBound('1h30m', 10_000_000), 10_000 - 5400);
  assert.equal(parseTimeBound('1700000000.5'), 1700000000.5);
  assert.equal(parseTimeBound('2024-01-01T00:00:00Z'), 1704067200);
  assert.throws(() => parseTimeBound('yesterday'), (e: unknown) => e instanceof EngineError && e.message === "invalid filter 'until=yesterday'");
  assert.equal(parseTimeBound('2024-01-01T01:00:00+01:00'), 1704067200);
});

test('list predicate combines dangling, reference, label, before/since/until', () => {
  const p = (f: string) => listPredicate(parseFilters(f), (ref) => (ref === 'old' ? 50 : 150));
  assert.ok(p('{"dangling":["true"]}')(img([])));
  assert.ok(!p('{"dangling":["true"]}')(img(['a'])));
  assert.ok(p('{"dangling":["false"]}')(img(['a'])));
  assert.ok(p('{"reference":["a","b"]}')(img(['b:2'])));
  assert.ok(!p('{"reference":["a"]}')(img([])));
  assert.ok(p('{"label":["k"]}')(img([], 100, { k: 'v' })));
  assert.ok(!p('{"label":["k=w"]}')(img([], 100, { k: 'v' })));
  assert.ok(p('{"since":["old"]}')(img([])));
  assert.ok(!p('{"since":["new"]}')(img([])));
  assert.ok(p('{"before":["new"]}')(img([])));
  assert.ok(p('{"until":["150"]}')(img([])));
  assert.throws(() => p('{"label!":["x"]}'), (e: unknown) => e instanceof EngineError && e.message === "invalid filter 'label!'");
});

test('prune predicate: dangling only unless all or dangling=false; label!', () => {
  assert.ok(prunePredicate(new Map(), false)(img([])));
  assert.ok(!prunePredicate(new Map(), false)(img(['a'])));
  assert.ok(prunePredicate(new Map(), true)(img(['a'])));
  assert.ok(prunePredicate(parseFilters('{"dangling":["false"]}'), false)(img(['a'])));
  assert.ok(!prunePredicate(parseFilters('{"label!":["k=v"]}'), true)(img([], 1, { k: 'v' })));
  assert.ok(prunePredicate(parseFilters('{"label!":["k=v"]}'), true)(img([], 1, { k: 'w' })));
  assert.ok(!prunePredicate(parseFilters('{"until":["50"]}'), true)(img([], 100)));
  assert.throws(() => prunePredicate(parseFilters('{"reference":["x"]}'), true), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
});

test('prune predicate as dockerd: until takes what was created at or before it, label! spares, a digest alone is dangling', () => {
  const now = 1000_000;
  const p = (f: string, all = true) => prunePredicate(parseFilters(f), all, now);
  assert.ok(p('{"until":["10s"]}')(img([], 990)), 'created 10s ago');
  assert.ok(!p('{"until":["10s"]}')(img([], 995)), 'created 5s ago');
  assert.ok(!p('{"until":["10s"]}')(img([], 0)), 'unknown creation time is never old enough');
  assert.ok(!p('{"label!":["keep"]}')(img([], 1, { keep: '' })));
  assert.ok(p('{"label!":["keep","x=1"]}')(img([], 1, { keep: '' })), 'spared only when every label! value matches');
  assert.ok(p('{"label":["a=1"],"dangling":["true"]}', false)(img([`busybox@sha256:${'a'.repeat(64)}`], 1, { a: '1' })));
  assert.ok(!p('{"dangling":["true"]}', false)(img(['busybox:1'])));
  assert.throws(() => p('{"until":["1h","2h"]}'), (e: unknown) => e instanceof EngineError && e.message === 'more than one until filter specified');
  assert.throws(() => p('{"dangling":["true","false"]}'), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
});

test('import changes: exec and shell forms, env forms, volumes, onbuild, errors', () => {
  const c = applyChanges({ Env: ['A=1'] }, [
    'cmd echo hi', 'ENTRYPOINT ["/init"]', 'ENV A=2 B="two words"', 'ENV LEGACY some value', 'VOLUME /data /logs', 'VOLUME ["/x"]',
    'STOPSIGNAL SIGINT', 'ONBUILD RUN make', 'WORKDIR app', 'EXPOSE 8000-8001',
  ]);
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/init']);
  assert.deepEqual(c.Env, ['A=2', 'B=two words', 'LEGACY=some value']);
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {}, '/x': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN make']);
  assert.equal(c.WorkingDir, '/app');
  assert.deepEqual(c.ExposedPorts, { '8000/tcp': {}, '8001/tcp': {} });
  const bad = (line: string) => assert.throws(() => applyChanges({}, [line]), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter');
  bad('RUN make');
  bad('EXPOSE http');
  bad('LABEL =x');
  bad('USER');
  bad('ENV A="unterminated');
});

test('commit and import changes: HEALTHCHECK is one of dockerd\'s change commands; STOPSIGNAL and unknown instructions in its words', () => {
  const c = applyChanges({}, ['HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://x'], Interval: 5_000_000_000, Retries: 3 });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK CMD ["true"]']).Healthcheck, { Test: ['CMD', 'true'] });
  assert.deepEqual(applyChanges(c, ['healthcheck NONE']).Healthcheck, { Test: ['NONE'] });
  const refused = (line: string, msg: string) => assert.throws(() => applyChanges({}, [line]), (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter' && e.message === msg, line);
  refused('HEALTHCHECK --interval=x CMD true', 'dockerfile parse error on line 1: time: invalid duration "x"');
  refused('STOPSIGNAL FOO', 'invalid signal: FOO');
  refused('foo bar', 'foo is not a valid change command');
  refused('RUN make', 'RUN is not a valid change command');
});
