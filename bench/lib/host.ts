/**
 * Host hygiene for a bench run: remember the host state the engines may change (ip_forward,
 * netavark's iptables chains, podman0), and put it back at the end, after killing whatever
 * process of ours is left and unmounting everything under the bench root.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { procsMentioning, sleep } from './proc.ts';

export interface HostSnapshot {
  ipForward: string;
  hadPodman0: boolean;
  /** iptables tables that had netavark chains before we ran (we leave those alone). */
  netavarkBefore: Set<string>;
  /** iptables tables that had DOCKER chains before we ran (we leave those alone). */
  dockerBefore: Set<string>;
  /** net.bridge.bridge-nf-call-* values (dockerd with iptables may turn them on). */
  bridgeNf: Map<string, string>;
  /** nft tables present before we ran, as "family name". */
  nftTables: Set<string>;
  /** Cgroup parents the engines create (docker/, libpod_parent/) that were already there, with their children then. */
  cgroupParents: Map<string, Set<string>>;
}

/** What dockerd and podman (cgroupfs manager) create as their cgroup parents in each hierarchy. */
const ENGINE_CGROUP_PARENTS = ['docker', 'libpod_parent'];

function cgroupDirs(name: string): string[] {
  let ctrls: string[] = [];
  try { ctrls = readdirSync('/sys/fs/cgroup'); } catch { return []; }
  return [...ctrls.map((c) => join('/sys/fs/cgroup', c, name)), join('/sys/fs/cgroup', name)].filter((d) => existsSync(d));
}

function childCgroups(dir: string): string[] {
  try { return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { return []; }
}

/**
 * Removes a cgroup tree made during this run, leaves first. A process still in it is a container
 * whose monitor died mid-cleanup (e.g. Ctrl-C during `rm -f`): it is ours, so it is killed.
 */
async function removeCgroupTree(dir: string, forced: string[]): Promise<void> {
  for (const c of childCgroups(dir)) await removeCgroupTree(join(dir, c), forced);
  let pids: number[] = [];
  try { pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number); } catch { /* gone */ }
  for (const pid of pids) {
    forced.push(`SIGKILL ${pid} left in ${dir}`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (pids.length) await sleep(300);
  try { rmdirSync(dir); } catch (err) { forced.push(`cgroup ${dir} not removed: ${String(err)}`); }
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function nftTables(): Set<string> {
  return new Set(sh('nft list tables 2>/dev/null').out.split('\n').map((l) => l.replace(/^table /, '').trim()).filter(Boolean));
}

function chainTables(prefix: string): Set<string> {
  const s = new Set<string>();
  for (const t of ['nat', 'filter']) if (sh(`iptables -t ${t} -S 2>/dev/null`).out.includes(prefix)) s.add(t);
  return s;
}

const BRIDGE_NF = ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables'].map((n) => `/proc/sys/net/bridge/${n}`);

function bridgeNf(): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of BRIDGE_NF) try { m.set(f, readFileSync(f, 'utf8').trim()); } catch { /* no br_netfilter */ }
  return m;
}

export function snapshotHost(): HostSnapshot {
  return {
    ipForward: readFileSync(IP_FORWARD, 'utf8').trim(),
    hadPodman0: existsSync('/sys/class/net/podman0'),
    netavarkBefore: chainTables('NETAVARK'),
    dockerBefore: chainTables('DOCKER'),
    bridgeNf: bridgeNf(),
    nftTables: nftTables(),
    cgroupParents: new Map(ENGINE_CGROUP_PARENTS.filter((n) => cgroupDirs(n).length > 0)
      .map((n) => [n, new Set(cgroupDirs(n).flatMap(childCgroups))])),
  };
}

/**
 * Removes the jump rules and chains named `prefix`* (netavark's, dockerd's) from one iptables table,
 * and rules in other chains that mention `alsoRulesWith` (dockerd's FORWARD rules for its bridge).
 */
function removeChains(table: string, prefix: string, alsoRulesWith?: string): void {
  const rules = sh(`iptables -t ${table} -S`).out.split('\n');
  for (const r of rules) {
    const chain = r.split(' ')[1] ?? '';
    const mentions = r.includes(prefix) || (alsoRulesWith !== undefined && new RegExp(`\\s${alsoRulesWith}(\\s|$)`).test(r));
    if (r.startsWith('-A ') && mentions && !chain.startsWith(prefix)) sh(`iptables -t ${table} ${r.replace(/^-A/, '-D')}`);
  }
  const chains = rules.filter((r) => r.startsWith(`-N ${prefix}`)).map((r) => r.split(' ')[1]!);
  for (const c of chains) sh(`iptables -t ${table} -F ${c}`);
  for (const c of chains) sh(`iptables -t ${table} -X ${c}`);
}

/** Our mounts, deepest first. */
function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === root || m.startsWith(`${root}/`)).sort((a, b) => b.length - a.length);
}

/**
 * Kills leftover processes that mention the bench root (monitors, shims, stray engines), unmounts
 * everything under it, removes cgroups made during the run (`ownCgroupParents` whole, and new
 * children of docker/ and libpod_parent/), deletes the root, and restores the host state from `snap`. Returns a list of
 * what had to be cleaned by force, so the caller can report it (an empty list is the goal).
 */
export async function restoreHost(root: string, snap: HostSnapshot, ownCgroupParents: string[] = [], opts: { dockerBridge?: string; berth?: { table: string; ifPrefix: string } } = {}): Promise<string[]> {
  const forced: string[] = [];
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const left = procsMentioning(root);
    if (left.length === 0) break;
    for (const p of left) {
      forced.push(`${sig} ${p.pid} ${p.argv.join(' ').slice(0, 80)}`);
      try { process.kill(p.pid, sig); } catch { /* gone */ }
    }
    await sleep(1000);
  }
  for (const m of mountsUnder(root)) {
    if (sh(`umount '${m}'`).code !== 0) sh(`umount -l '${m}'`);
    forced.push(`umount ${m}`);
  }
  if (!snap.hadPodman0 && existsSync('/sys/class/net/podman0')) { sh('ip link del podman0'); forced.push('ip link del podman0'); }
  for (const t of ['nat', 'filter']) {
    if (!snap.dockerBefore.has(t)) removeChains(t, 'DOCKER', opts.dockerBridge);
    if (snap.netavarkBefore.has(t)) continue;
    removeChains(t, 'NETAVARK');
    // Delete the iptables-nft table itself if we caused it and it is now rule-free.
    if (!snap.nftTables.has(`ip ${t}`) && nftTables().has(`ip ${t}`) && !/(jump|goto|accept|drop|counter)/.test(sh(`nft list table ip ${t}`).out.replace(/policy accept/g, ''))) {
      sh(`nft delete table ip ${t}`);
    }
  }
  // berthd leaves its nft table and bridges behind on stop (as dockerd leaves docker0): both
  // carry names unique to this run's exec root, so they go whole, as an uninstall would.
  if (opts.berth) {
    if (nftTables().has(`ip ${opts.berth.table}`)) sh(`nft delete table ip ${opts.berth.table}`);
    for (const l of readdirSync('/sys/class/net')) if (l.startsWith(opts.berth.ifPrefix)) sh(`ip link del ${l}`);
  }
  // Parents unique to this run (berthd's prefix) go whole; berthd removes them itself when empty.
  for (const n of ownCgroupParents) for (const d of cgroupDirs(n)) await removeCgroupTree(d, forced);
  for (const n of ENGINE_CGROUP_PARENTS) {
    const before = snap.cgroupParents.get(n);
    for (const d of cgroupDirs(n)) {
      if (!before) await removeCgroupTree(d, forced);
      else for (const c of childCgroups(d)) if (!before.has(c)) await removeCgroupTree(join(d, c), forced);
    }
  }
  if (readFileSync(IP_FORWARD, 'utf8').trim() !== snap.ipForward) writeFileSync(IP_FORWARD, snap.ipForward);
  for (const [f, v] of snap.bridgeNf) try { if (readFileSync(f, 'utf8').trim() !== v) writeFileSync(f, v); } catch { /* gone */ }
  try {
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    forced.push(`could not remove ${root}: ${String(err)}`);
  }
  return forced;
}
