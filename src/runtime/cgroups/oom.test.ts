import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CgroupLayout } from './host.ts';
import { parseMemoryEvents, parseOomControl, readOomKilled } from './oom.ts';

test('v1 memory.oom_control', () => {
  assert.deepEqual(parseOomControl('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), { oomKills: 2, underOom: false });
  assert.deepEqual(parseOomControl('oom_kill_disable 1\nunder_oom 1\n'), { oomKills: 0, underOom: true });
});

test('v2 memory.events', () => {
  assert.deepEqual(parseMemoryEvents('low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n'), { oomKills: 1, underOom: false });
});

test('readOomKilled reads v1 first, then v2; a missing cgroup is false', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-oomtest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'memory/berth/c1'), { recursive: true });
  await writeFile(join(dir, 'memory/berth/c1/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  await mkdir(join(dir, 'unified/berth/c2'), { recursive: true });
  await writeFile(join(dir, 'unified/berth/c2/memory.events'), 'oom 0\noom_kill 0\n');
  const v1: CgroupLayout = { version: 'hybrid', v1Controllers: new Map([['memory', join(dir, 'memory')]]), unifiedMount: join(dir, 'unified'), hugetlbOnV1: false };
  const v2: CgroupLayout = { version: 2, v1Controllers: new Map(), unifiedMount: join(dir, 'unified'), hugetlbOnV1: false };
  assert.equal(await readOomKilled('/berth/c1', v1), true);
  assert.equal(await readOomKilled('/berth/gone', v1), false);
  assert.equal(await readOomKilled('/berth/c2', v2), false);
});
