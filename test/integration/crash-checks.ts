/**
 * What must hold after any restart of berthd, whatever it was doing when it was killed: every
 * object the API shows is whole, and every host object under the daemon's names belongs to one of
 * them (running containers hold mounts, namespaces, veths, cgroups, conmons, runtime state and
 * port chains; networks hold bridges, chains and map elements). Returns the violations found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { findOrphans } from '../../src/engine/system/gc.ts';
import { apiCall } from './api-client.ts';
import type { TestDaemon } from './harness.ts';

interface Summary { Id: string; Names: string[]; State: string }
interface Inspect { Id: string; State: { Status: string }; HostConfig: { AutoRemove?: boolean; PortBindings?: Record<string, unknown> | null } }
interface Net { Id: string; Name: string; Driver: string; Internal: boolean }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';

export interface CrashState {
  containers: Inspect[];
  running: Set<string>;
  networks: Net[];
}

/** The daemon's view, with every listed object inspected (a failing inspect is a violation). */
export async function readState(d: TestDaemon, problems: string[]): Promise<CrashState> {
  const list = await apiCall(d.socket, 'GET', '/containers/json?all=1');
  if (list.status !== 200) problems.push(`ps -a: ${list.status} ${list.text}`);
  const containers: Inspect[] = [];
  for (const s of list.status === 200 ? list.json<Summary[]>() : []) {
    const r = await apiCall(d.socket, 'GET', `/containers/${s.Id}/json`);
    if (r.status !== 200) { problems.push(`inspect ${s.Names[0]}: ${r.status} ${r.text.trim()}`); continue; }
    containers.push(r.json<Inspect>());
  }
  const nets = await apiCall(d.socket, 'GET', '/networks');
  if (nets.status !== 200) problems.push(`network ls: ${nets.status} ${nets.text}`);
  const networks = nets.status === 200 ? nets.json<Net[]>() : [];
  for (const n of networks) {
    const r = await apiCall(d.socket, 'GET', `/networks/${n.Id}`);
    if (r.status !== 200) problems.push(`network inspect ${n.Name}: ${r.status}`);
  }
  return { containers, running: new Set(containers.filter((c) => c.State.Status === 'running').map((c) => c.Id)), networks };
}

/** Every container in a state a client can act on; --rm ones gone unless running. */
export function checkContainers(s: CrashState, problems: string[]): void {
  for (const c of s.containers) {
    if (!['created', 'running', 'exited'].includes(c.State.Status)) problems.push(`container ${c.Id.slice(0, 12)} is ${c.State.Status}`);
    if (c.HostConfig.AutoRemove && c.State.Status !== 'running') problems.push(`--rm container ${c.Id.slice(0, 12)} left ${c.State.Status}`);
  }
}

/** Images, volumes and the data root: everything listed inspects, nothing on disk lacks an owner. */
export async function checkStore(d: TestDaemon, s: CrashState, problems: string[]): Promise<void> {
  const images = await apiCall(d.socket, 'GET', '/images/json?all=1');
  if (images.status !== 200) problems.push(`images: ${images.status}`);
  for (const i of images.status === 200 ? images.json<{ Id: string }[]>() : []) {
    const r = await apiCall(d.socket, 'GET', `/images/${i.Id}/json`);
    if (r.status !== 200) problems.push(`image inspect ${i.Id.slice(7, 19)}: ${r.status}`);
  }
  const vols = await apiCall(d.socket, 'GET', '/volumes');
  const names = new Set(vols.status === 200 ? (vols.json<{ Volumes: { Name: string }[] | null }>().Volumes ?? []).map((v) => v.Name) : []);
  // The workload makes anonymous volumes only in builds (RUN after VOLUME): none may outlive its RUN container.
  const dangling = await apiCall(d.socket, 'GET', `/volumes?filters=${encodeURIComponent('{"dangling":["true"],"label":["com.docker.volume.anonymous"]}')}`);
  for (const v of dangling.status === 200 ? dangling.json<{ Volumes: { Name: string }[] | null }>().Volumes ?? [] : []) problems.push(`anonymous volume ${v.Name.slice(0, 12)} without a container`);
  for (const v of ls(join(d.dataRoot, 'volumes'))) if (!names.has(v)) problems.push(`volume directory without a volume: ${v.slice(0, 20)}`);
  const ids = new Set(s.containers.map((c) => c.Id));
  for (const dir of [join(d.dataRoot, 'overlay', 'containers'), join(d.dataRoot, 'containers'), join(d.execRoot, 'containers')]) {
    for (const e of ls(dir)) if (!ids.has(e)) problems.push(`${dir.slice(d.dir.length)}/${e.slice(0, 12)} without a container`);
  }
  for (const e of ls(join(d.dataRoot, 'tmp'))) problems.push(`leftover tmp/${e}`);
  for (const e of ls(join(d.dataRoot, 'overlay', 'layers'))) if (e.startsWith('.')) problems.push(`leftover overlay/layers/${e}`);
  for (const e of ls(join(d.dataRoot, 'blobs', 'sha256'))) if (!/^[0-9a-f]{64}$/.test(e)) problems.push(`leftover blobs/sha256/${e}`);
  // Whatever system gc would find (blobs, layers, directories without rows), however young: the
  // daemon is idle now, so nothing on disk may lack a record.
  const db = new Database(join(d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
  try {
    const orphans = await findOrphans({ db, dataRoot: d.dataRoot, execRoot: d.execRoot, removeSnapshot: async () => undefined, graceMs: -Infinity });
    for (const o of orphans) problems.push(`orphan ${o.kind} ${o.path.slice(d.dir.length)}`);
  } finally {
    db.close();
  }
}

/** Host objects: each belongs to a running container or an existing network. */
export async function checkHost(d: TestDaemon, s: CrashState, problems: string[]): Promise<void> {
  const run = s.running;
  const short = new Set([...run].map((id) => id.slice(0, 12)));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mnt = line.split(' ')[4];
    if (!mnt?.startsWith(d.dir)) continue;
    const merged = /\/overlay\/containers\/([0-9a-f]{64})\/merged$/.exec(mnt);
    const netns = /\/netns\/([0-9a-f]{64})$/.exec(mnt);
    const id = merged?.[1] ?? netns?.[1];
    if (!id || !run.has(id)) problems.push(`mount ${mnt.slice(d.dir.length)}`);
  }
  for (const ctrl of ls('/sys/fs/cgroup')) {
    for (const e of ls(join('/sys/fs/cgroup', ctrl, d.prefix))) {
      if (/^[0-9a-f]{64}$/.test(e) && !run.has(e)) problems.push(`cgroup ${ctrl}/${e.slice(0, 12)}`);
    }
  }
  for (const rt of ['crun', 'runc']) for (const e of ls(join(d.execRoot, 'runtime', rt))) if (!run.has(e)) problems.push(`${rt} state ${e.slice(0, 12)}`);
  for (const e of ls(join(d.execRoot, 'netns'))) if (!run.has(e)) problems.push(`netns ${e.slice(0, 12)}`);
  const conmons = out('pgrep', ['-af', 'conmon']).split('\n').filter((l) => l.includes(d.execRoot));
  const monitored = new Set<string>();
  for (const l of conmons) {
    const id = / -c ([0-9a-f]{64})/.exec(l)?.[1] ?? '?';
    if (!run.has(id)) problems.push(`conmon of ${id.slice(0, 12)}`);
    monitored.add(id);
  }
  for (const id of run) if (!monitored.has(id)) problems.push(`running ${id.slice(0, 12)} has no conmon`);
  // No other process of this daemon's (an exec's runtime or pty helper, a runtime create) outlived it.
  const strays = () => out('pgrep', ['-af', d.execRoot]).split('\n')
    .filter((l) => l.trim() !== '' && !/^\d+ \S*conmon /.test(l) && Number(l.split(' ')[0]) !== d.proc?.pid && !l.includes('pgrep'));
  // An exec's runtime process ends just after the process it waits for: give it a moment.
  const until = Date.now() + 3000;
  while (strays().length && Date.now() < until) await sleep(100);
  for (const l of strays()) problems.push(`process left: ${l.slice(0, 100)}`);
  await checkNetwork(d, s, short, problems);
}

async function checkNetwork(d: TestDaemon, s: CrashState, runShort: Set<string>, problems: string[]): Promise<void> {
  const bridges = s.networks.filter((n) => n.Driver === 'bridge');
  const netShort = new Set(bridges.map((n) => n.Id.slice(0, 12)));
  const table = out('nft', ['list', 'table', 'ip', d.prefix]);
  for (const m of table.matchAll(/chain n-([0-9a-f]{12})-[a-z]+ \{/g)) if (!netShort.has(m[1]!)) problems.push(`nft chain n-${m[1]} without a network`);
  for (const m of table.matchAll(/chain c-([0-9a-f]{12}) \{/g)) if (!runShort.has(m[1]!)) problems.push(`nft chain c-${m[1]} without a running container`);
  const masq = /map masq \{[^}]*elements = \{([^}]*)\}/.exec(table)?.[1] ?? '';
  const masqCount = masq.split(',').filter((e) => e.includes('jump')).length;
  const expected = bridges.filter((n) => !n.Internal).length;
  if (masqCount !== expected) problems.push(`nft masq has ${masqCount} elements for ${expected} networks`);
  const links = () => out('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter((n) => n.startsWith(d.ifPrefix));
  // Bridges: the default one and one per user network (named <prefix>-<id8> unless chosen).
  const userBridges = new Set(bridges.map((n) => `${d.ifPrefix}-${n.Id.slice(0, 8)}`));
  for (const l of links()) if (l.includes('-') && !userBridges.has(l)) problems.push(`bridge ${l} without a network`);
  // A veth goes with its namespace, which the kernel frees asynchronously: give it a moment.
  const veths = () => links().filter((l) => l.startsWith(`${d.ifPrefix}v`));
  const deadline = Date.now() + 5000;
  while (veths().length > s.running.size && Date.now() < deadline) await sleep(100);
  if (veths().length > s.running.size) problems.push(`${veths().length} veths for ${s.running.size} running containers`);
}
