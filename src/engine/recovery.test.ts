import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRecord } from './containers/record.ts';
import { recoverEngine } from './recovery.ts';

test('recoverEngine: services recover in dependency order; running containers go to volumes and networking; a failed orphan sweep does not stop start-up', async () => {
  const calls: string[] = [];
  const step = (name: string) => async () => { calls.push(name); };
  const live = { id: 'a' } as ContainerRecord;
  const dead = { id: 'b' } as ContainerRecord;
  await recoverEngine({
    snapshots: { recover: step('snapshots') }, images: { recover: step('images') }, networks: { init: step('networks') },
    containers: { recover: step('containers'), list: () => [live, dead], isRunning: (id) => id === 'a', applyRestartPolicies: step('restart policies') },
    execs: { recover: step('execs') }, builds: { recover: step('builds') },
    volumes: { recover: async (running) => { calls.push(`volumes ${running.join(',')}`); } },
    attachments: { recover: async (running) => { calls.push(`attachments ${running.map((c) => c.id).join(',')}`); } },
    collectOrphans: async () => { calls.push('orphans'); throw new Error('disk gone'); },
    log: { warn: () => calls.push('warned') },
  });
  assert.deepEqual(calls, ['snapshots', 'images', 'networks', 'containers', 'execs', 'builds', 'volumes a', 'attachments a', 'orphans', 'warned', 'restart policies']);
});
