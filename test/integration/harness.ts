import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { interfacePrefixFor, objectPrefixFor } from '../../src/daemon/config.ts';

export const REPO = resolve(import.meta.dirname, '../..');
const BERTHD = join(REPO, 'dist/berthd.mjs');
const BERTH = join(REPO, 'dist/berth.mjs');
export const BUSYBOX_TAR = join(REPO, 'build/busybox.tar');

import { recordTestObjects } from '../../src/lib/test-support.ts';

export { requireRoot, waitFor } from '../../src/lib/test-support.ts';

export interface RunResult { code: number; stdout: string; stderr: string }

/** An isolated berthd: its own data root, exec root, socket and object prefix. */
export class TestDaemon {
  readonly dir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly host: string;
  readonly prefix: string;
  /** Start of the daemon's interface names (its default bridge is `${ifPrefix}0`). */
  readonly ifPrefix: string;
  proc: ChildProcess | undefined;
  log = '';

  constructor(readonly opts: { runtime?: 'crun' | 'runc'; extraArgs?: string[]; daemonJson?: object } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-it-'));
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.socket = join(this.dir, 'berth.sock');
    this.host = `unix://${this.socket}`;
    this.prefix = objectPrefixFor(this.execRoot);
    this.ifPrefix = interfacePrefixFor(this.execRoot);
    writeFileSync(join(this.dir, 'daemon.json'), JSON.stringify(opts.daemonJson ?? {}));
    recordTestObjects({ linkPrefixes: [this.ifPrefix], tables: [this.prefix], dirs: [this.dir] });
  }

  async start(): Promise<void> {
    const args = [BERTHD, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', this.host,
      '--config-file', join(this.dir, 'daemon.json'), '--log-level', 'debug',
      ...(this.opts.runtime ? ['--default-runtime', this.opts.runtime] : []), ...(this.opts.extraArgs ?? [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (b: Buffer) => { this.log += b.toString(); });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited ${proc.exitCode}: ${this.log}`);
      // A ping, not a CLI run: the killed daemon's stale socket file answers nothing for a while.
      if (existsSync(this.socket) && await ping(this.socket)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not come up: ${this.log}`);
  }

  /** SIGTERM (or SIGKILL) and wait for the process to go. Containers keep running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  }

  berth(args: string[], input?: string): RunResult {
    // The docker CLI's config dir too: login writes credentials there, not in the user's own.
    const env = { ...process.env, BERTH_HOST: this.host, DOCKER_CONFIG: join(this.dir, 'docker-config') };
    const r = spawnSync(process.execPath, [BERTH, ...args], { env, input, encoding: 'utf8', timeout: 60000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  docker(args: string[], input?: string): RunResult {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: join(this.dir, 'docker-config') };
    delete env['BERTH_HOST'];
    const r = spawnSync('docker', args, { env, input, encoding: 'utf8', timeout: 60000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Runs a CLI command that must succeed; returns trimmed stdout. */
  ok(args: string[], input?: string): string {
    const r = this.berth(args, input);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  }

  async loadBusybox(): Promise<void> {
    if (!existsSync(BUSYBOX_TAR)) {
      // Written aside and renamed: a concurrent run never loads a half-written archive.
      mkdirSync(dirname(BUSYBOX_TAR), { recursive: true });
      const tmp = `${BUSYBOX_TAR}.${process.pid}.tmp`;
      const r = spawnSync(process.execPath, [join(REPO, 'scripts/make-busybox-image.mjs'), tmp], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`make busybox image: ${r.stderr}`);
      renameSync(tmp, BUSYBOX_TAR);
    }
    this.ok(['load', '-i', BUSYBOX_TAR]);
  }

  /**
   * Removes every container, stops the daemon and fails if anything it made is still on the host:
   * mounts under its roots, cgroups with its prefix, conmon processes for its bundles.
   */
  async stopAndCheckLeaks(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const ids = this.berth(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.berth(['rm', '-f', ...ids]);
      this.berth(['network', 'prune', '-f']);
      this.berth(['volume', 'prune', '-af']);
    }
    await this.stop();
    const leaks = [...await findNetworkLeaks(this), ...findLeaks(this)];
    uninstallNetwork(this);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    if (leaks.length) throw new Error(`leaked: ${leaks.join('; ')}\n--- daemon log ---\n${this.log.slice(-4000)}`);
  }
}

export function findLeaks(d: { dir: string; prefix: string; execRoot: string }): string[] {
  const leaks: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mnt = line.split(' ')[4];
    if (mnt && mnt.startsWith(d.dir)) leaks.push(`mount ${mnt}`);
  }
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', ctrl, d.prefix);
    // The daemon removes its cgroup parent at shutdown once its containers are gone.
    if (existsSync(p)) leaks.push(`cgroup ${p}`);
  }
  // With every container removed, no runtime record, bundle, rootfs or container directory may remain.
  for (const dir of [join(d.execRoot, 'runtime', 'crun'), join(d.execRoot, 'runtime', 'runc'), join(d.execRoot, 'containers'),
    join(d.dir, 'data', 'containers'), join(d.dir, 'data', 'overlay', 'containers'), join(d.dir, 'data', 'volumes')]) {
    if (existsSync(dir)) for (const e of readdirSync(dir)) leaks.push(`${dir}/${e}`);
  }
  const ps = spawnSync('pgrep', ['-af', 'conmon'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of ps.split('\n')) if (line.includes(d.execRoot)) leaks.push(`process ${line.slice(0, 100)}`);
  return leaks;
}

/**
 * With every container and user network gone, only the default bridge and the table's base
 * chains may remain: no veth, namespace file, port chain or user-network chain. A veth goes with
 * its namespace, which the kernel frees asynchronously, so links get a moment to disappear.
 */
export async function findNetworkLeaks(d: { prefix: string; ifPrefix: string; execRoot: string }): Promise<string[]> {
  const ours = () => (spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '').split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter((n) => n.startsWith(d.ifPrefix) && n !== `${d.ifPrefix}0`);
  // A deadline for a loaded machine (the kernel's cleanup work queue lags then), not a pace.
  const deadline = Date.now() + 15_000;
  while (ours().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const leaks = ours().map((n) => `link ${n}`);
  const netnsDir = join(d.execRoot, 'netns');
  if (existsSync(netnsDir)) for (const e of readdirSync(netnsDir)) leaks.push(`netns ${netnsDir}/${e}`);
  const table = spawnSync('nft', ['list', 'table', 'ip', d.prefix], { encoding: 'utf8' }).stdout ?? '';
  for (const m of table.matchAll(/chain (c-\S+|n-\S+) \{/g)) leaks.push(`nft chain ${m[1]}`);
  // The default bridge's chains are expected: exactly one network's worth (out, masq, hair).
  const netChains = leaks.filter((l) => l.startsWith('nft chain n-'));
  const bridgeIds = new Set(netChains.map((l) => l.split('-')[1]));
  const v4 = bridgeIds.size <= 1 ? leaks.filter((l) => !l.startsWith('nft chain n-')) : leaks;
  // The IPv6 side of dual-stack networks: only the default bridge's (with --ipv6) may remain.
  const table6 = spawnSync('nft', ['list', 'table', 'ip6', d.prefix], { encoding: 'utf8' }).stdout ?? '';
  const leaks6 = [...table6.matchAll(/chain (c-\S+|n-\S+) \{/g)].map((m) => m[1]!)
    .filter((c) => !(bridgeIds.size <= 1 && c.startsWith('n-') && bridgeIds.has(c.split('-')[1])));
  return [...v4, ...leaks6.map((c) => `nft ip6 chain ${c}`)];
}

/** What an administrator removing berth would delete: the daemon's tables and default bridge. */
export function uninstallNetwork(d: { prefix: string; ifPrefix: string }): void {
  spawnSync('nft', ['delete', 'table', 'ip', d.prefix]);
  spawnSync('nft', ['delete', 'table', 'ip6', d.prefix]);
  spawnSync('ip', ['link', 'del', `${d.ifPrefix}0`]);
}

/** Starts a daemon with busybox loaded and registers its cleanup. */
export async function daemonFor(t: TestContext, opts: ConstructorParameters<typeof TestDaemon>[0] = {}): Promise<TestDaemon> {
  const d = new TestDaemon(opts);
  t.after(() => d.stopAndCheckLeaks());
  await d.start();
  await d.loadBusybox();
  return d;
}

/** True once a daemon answers GET /_ping on the socket. */
function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', headers: { Host: 'berth' }, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
