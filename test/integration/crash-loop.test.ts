import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiCall, apiOk } from './api-client.ts';
import { checkContainers, checkHost, checkStore, readState } from './crash-checks.ts';
import { BUSYBOX_TAR, daemonFor, requireRoot, type TestDaemon } from './harness.ts';

/**
 * kill -9 of berthd at random moments of a mixed workload, round after round. Every round is
 * checked in full after the restart (crash-checks.ts) and `network create` must still work.
 * The randomness is seeded: BERTH_CRASH_SEED=<n> replays a run; the seed is printed first.
 */
const ROUNDS = Number(process.env['BERTH_CRASH_ROUNDS'] ?? 30);
const SEED = Number(process.env['BERTH_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exec command a non-detached session runs: it must not outlive the daemon that ran it. */
const ATTACHED_EXEC = ['sleep', '3123'];

interface Fixtures { keeper: string; cold: string; buildTar: Buffer; cpTar: Buffer; loadTar: Buffer }

type Op = (d: TestDaemon, f: Fixtures, n: number) => Promise<unknown>;

const create = (d: TestDaemon, body: object, name?: string) =>
  apiOk<{ Id: string }>(d.socket, 'POST', `/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', ...body }).then((r) => r.Id);
const start = (d: TestDaemon, id: string) => apiCall(d.socket, 'POST', `/containers/${id}/start`);

/** The operations a round mixes; each fires its requests and may be cut short by the kill. */
const OPS: Record<string, Op> = {
  create: (d) => create(d, { Cmd: ['true'] }),
  run: async (d, _f, n) => start(d, await create(d, { Cmd: ['sleep', '1000'], HostConfig: n % 2 ? { PortBindings: { '80/tcp': [{ HostPort: String(20000 + n) }] } } : {} })),
  runRm: async (d) => start(d, await create(d, { Cmd: ['true'], HostConfig: { AutoRemove: true } })),
  runRmLong: async (d) => start(d, await create(d, { Cmd: ['sleep', '1000'], HostConfig: { AutoRemove: true } })),
  runOnNet: async (d, _f, n) => {
    await apiCall(d.socket, 'POST', '/networks/create', { Name: `crashnet${n}` });
    await start(d, await create(d, { Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: `crashnet${n}` } }));
  },
  rm: async (d) => {
    const id = await create(d, { Cmd: ['sleep', '1000'] });
    await start(d, id);
    await apiCall(d.socket, 'DELETE', `/containers/${id}?force=1&v=1`);
  },
  restart: async (d) => {
    const id = await create(d, { Cmd: ['sleep', '1000'] });
    await start(d, id);
    await apiCall(d.socket, 'POST', `/containers/${id}/restart?t=0`);
  },
  stop: async (d) => {
    const id = await create(d, { Cmd: ['sleep', '1000'] });
    await start(d, id);
    await apiCall(d.socket, 'POST', `/containers/${id}/stop?t=1`);
  },
  exec: async (d, f) => {
    const { Id } = await apiOk<{ Id: string }>(d.socket, 'POST', `/containers/${f.keeper}/exec`, { Cmd: ATTACHED_EXEC, AttachStdout: true, AttachStderr: true });
    await apiCall(d.socket, 'POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
  },
  execTty: async (d, f) => {
    const { Id } = await apiOk<{ Id: string }>(d.socket, 'POST', `/containers/${f.keeper}/exec`, { Cmd: ATTACHED_EXEC, Tty: true, AttachStdout: true, AttachStdin: true });
    await apiCall(d.socket, 'POST', `/exec/${Id}/start`, { Detach: false, Tty: true });
  },
  execDetached: async (d, f) => {
    const { Id } = await apiOk<{ Id: string }>(d.socket, 'POST', `/containers/${f.keeper}/exec`, { Cmd: ['sleep', '1'] });
    await apiCall(d.socket, 'POST', `/exec/${Id}/start`, { Detach: true, Tty: false });
  },
  networkCreate: (d, _f, n) => apiCall(d.socket, 'POST', '/networks/create', { Name: `crashnet-${n}` }),
  networkRm: async (d) => {
    for (const net of await apiOk<{ Name: string }[]>(d.socket, 'GET', '/networks')) {
      if (net.Name.startsWith('crashnet')) await apiCall(d.socket, 'DELETE', `/networks/${net.Name}`);
    }
  },
  volumeCreate: (d, _f, n) => apiCall(d.socket, 'POST', '/volumes/create', { Name: `crashvol${n}` }),
  commit: (d, f, n) => apiCall(d.socket, 'POST', `/commit?container=${f.keeper}&repo=crash/commit&tag=${n}`, {}),
  cpStopped: (d, f) => apiCall(d.socket, 'PUT', `/containers/${f.cold}/archive?path=/`, f.cpTar, { contentType: 'application/x-tar' }),
  cpRunning: (d, f) => apiCall(d.socket, 'PUT', `/containers/${f.keeper}/archive?path=/tmp`, f.cpTar, { contentType: 'application/x-tar' }),
  load: (d, f) => apiCall(d.socket, 'POST', '/images/load?quiet=1', f.loadTar, { contentType: 'application/x-tar' }),
  build: (d, f, n) => apiCall(d.socket, 'POST', `/build?t=crash/build:${n}&rm=1&forcerm=1&buildargs=${encodeURIComponent(JSON.stringify({ N: String(n) }))}`, f.buildTar, { contentType: 'application/x-tar' }),
};

async function fixtures(d: TestDaemon): Promise<Fixtures> {
  const keeper = await create(d, { Cmd: ['sleep', '100000'] }, 'keeper');
  assert.equal((await start(d, keeper)).status, 204);
  const cold = await create(d, { Cmd: ['true'] }, 'cold');
  const dir = join(d.dir, 'fixtures');
  mkdirSync(join(dir, 'ctx'), { recursive: true });
  mkdirSync(join(dir, 'cp'), { recursive: true });
  writeFileSync(join(dir, 'ctx', 'Dockerfile'), 'FROM busybox\nARG N\nRUN echo "$N" > /n\nVOLUME /data\nRUN cat /n\n');
  // Big enough that a copy is often under way when the kill comes.
  writeFileSync(join(dir, 'cp', 'payload'), Buffer.alloc(8 * 1024 * 1024, 7));
  const tar = (cwd: string) => {
    const r = spawnSync('tar', ['-C', cwd, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0);
    return r.stdout;
  };
  return { keeper, cold, buildTar: tar(join(dir, 'ctx')), cpTar: tar(join(dir, 'cp')), loadTar: readFileSync(BUSYBOX_TAR) };
}

/** Between rounds: back to the keeper, the cold container and busybox, through the API. */
async function reset(d: TestDaemon, f: Fixtures): Promise<void> {
  for (const c of await apiOk<{ Id: string }[]>(d.socket, 'GET', '/containers/json?all=1')) {
    if (c.Id !== f.keeper && c.Id !== f.cold) await apiOk(d.socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`);
  }
  for (const n of await apiOk<{ Name: string }[]>(d.socket, 'GET', '/networks')) {
    if (n.Name.startsWith('crashnet')) await apiOk(d.socket, 'DELETE', `/networks/${n.Name}`);
  }
  await apiOk(d.socket, 'POST', '/volumes/prune?filters=' + encodeURIComponent('{"all":["true"]}'));
  for (const i of await apiOk<{ Id: string; RepoTags: string[] | null }[]>(d.socket, 'GET', '/images/json')) {
    if (!(i.RepoTags ?? []).includes('busybox:latest')) await apiCall(d.socket, 'DELETE', `/images/${i.Id}?force=1`);
  }
}

test('kill -9 of berthd at random moments of a mixed workload leaves nothing half-made or leaked, round after round', async (t) => {
  if (!requireRoot(t)) return;
  t.diagnostic(`crash loop seed ${SEED} (replay with BERTH_CRASH_SEED=${SEED}), ${ROUNDS} rounds`);
  process.stderr.write(`crash loop seed ${SEED}\n`);
  const rand = prng(SEED);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const d = await daemonFor(t);
  const f = await fixtures(d);
  const names = Object.keys(OPS);
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ops = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => pick(names));
    const delayMs = Math.floor(rand() * 700);
    const running = ops.map((name, i) => OPS[name]!(d, f, round * 10 + i).catch(() => undefined));
    await new Promise((r) => setTimeout(r, delayMs));
    await d.stop('SIGKILL');
    await Promise.all(running);
    await d.start();
    const problems: string[] = [];
    const state = await readState(d, problems);
    checkContainers(state, problems);
    const keeper = state.containers.find((c) => c.Id === f.keeper);
    if (keeper?.State.Status !== 'running') problems.push(`keeper is ${keeper?.State.Status ?? 'gone'}`);
    await checkStore(d, state, problems);
    await checkHost(d, state, problems);
    const top = await apiCall(d.socket, 'GET', `/containers/${f.keeper}/top`);
    if (top.text.includes(ATTACHED_EXEC.join(' '))) problems.push('an attached exec outlived the daemon that ran it');
    const ps = d.berth(['ps', '-a']);
    if (ps.code !== 0) problems.push(`berth ps -a: ${ps.stderr}`);
    const net = await apiCall(d.socket, 'POST', '/networks/create', { Name: `fresh${round}` });
    if (net.status !== 201) problems.push(`network create: ${net.status} ${net.text.trim()}`);
    else await apiCall(d.socket, 'DELETE', `/networks/fresh${round}`);
    if (problems.length) failures.push(`round ${round} (${ops.join(', ')} killed after ${delayMs} ms):\n  ${problems.join('\n  ')}`);
    await reset(d, f);
  }
  assert.deepEqual(failures, [], `seed ${SEED}:\n${failures.join('\n')}\n--- daemon log ---\n${d.log.slice(-3000)}`);
});
