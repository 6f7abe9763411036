import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CATALOG } from './index.ts';
import { parseGpus } from './container/run-platform.ts';

const DOCKER = '/usr/local/bin/docker';

/**
 * docker 28 flags berth does not take, each with the reason. Anything else docker lists for a
 * command berth has is a gap this test reports.
 */
const NOT_TAKEN: Record<string, Record<string, string>> = {
  run: { 'use-api-socket': 'mounts the client\'s socket and credentials into the container: not built yet' },
  create: { 'use-api-socket': 'as run' },
  start: { checkpoint: 'experimental CRIU checkpoints', 'checkpoint-dir': 'experimental CRIU checkpoints' },
  'image inspect': { platform: 'API 1.49 multi-platform stores; berthd serves 1.47' },
  rmi: { platform: 'as image inspect' }, load: { platform: 'as image inspect' }, history: { platform: 'as image inspect' },
  images: { tree: 'experimental, for the containerd image store' },
  'volume ls': { cluster: 'swarm cluster volumes (CSI)' },
  'volume create': Object.fromEntries(['availability', 'group', 'limit-bytes', 'required-bytes', 'scope', 'secret', 'sharing', 'topology-preferred', 'topology-required', 'type'].map((f) => [f, 'swarm cluster volumes (CSI)'])),
};

/** The long flag names `docker PATH --help` lists (null: docker has no such command). */
function dockerFlags(path: string): Set<string> | null {
  let out: string;
  try {
    out = execFileSync(DOCKER, [...path.split(' '), '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', DOCKER_HOST: 'unix:///nonexistent.sock' } });
  } catch { return null; }
  if (!out.includes(`Usage:  docker ${path} `)) return null;
  return new Set([...out.matchAll(/^\s+(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]!).filter((f) => f !== 'help'));
}

test('every flag docker 28 lists for a command berth has is taken by berth (or its absence is explained)', { skip: !existsSync(DOCKER) && 'no docker CLI' }, async () => {
  const gaps: string[] = [];
  for (const entry of CATALOG) {
    const path = entry.paths[0]!;
    const theirs = dockerFlags(path);
    if (!theirs) continue;
    const ours = new Set((await entry.load()).spec.flags.flatMap((f) => [f.name, ...(f.aliases ?? []).map((a) => (typeof a === 'string' ? a : a.name))]));
    for (const flag of theirs) if (!ours.has(flag) && !NOT_TAKEN[path]?.[flag]) gaps.push(`${path} --${flag}`);
  }
  assert.deepEqual(gaps, []);
});

test('--gpus is parsed as docker\'s GpuOpts', () => {
  assert.deepEqual(parseGpus('all'), { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} });
  assert.equal(parseGpus('2').Count, 2);
  assert.deepEqual(parseGpus('driver=nvidia,capabilities=compute').Capabilities, [['compute']]);
  assert.throws(() => parseGpus('colour=red'), /unexpected key 'colour'/);
  assert.throws(() => parseGpus('many'), /invalid syntax/);
});
