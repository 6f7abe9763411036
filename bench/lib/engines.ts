/**
 * The three engines under comparison, each isolated under one bench root so nothing touches the
 * host's own berthd/dockerd/podman state:
 *   berth  — dist/berthd.mjs with its own data/exec roots and socket
 *   docker — Debian's dockerd 20.10 (+ the containerd it manages) with its own roots, socket and
 *            a bridge of our own; no iptables, no ip_forward changes
 *   podman — Debian's podman 4.3 with its own --root/--runroot/--tmpdir and CONTAINERS_CONF
 * and the four CLI targets that drive them (berth CLI, docker CLI 28 → berthd, docker CLI 28 →
 * dockerd, podman). Only /usr/local/bin/docker (CLI 28) is used as the docker client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProcs, sleep, timed, type CmdResult, type ProcInfo } from './proc.ts';
import { interfacePrefixFor, objectPrefixFor } from '../../src/daemon/config.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const BUSYBOX_TAR = join(REPO, 'build/busybox.tar');
export const DOCKER_CLI = '/usr/local/bin/docker';
/** A bridge of our own for dockerd, so a foreign docker0 is never touched; deleted at the end. */
export const DOCKER_BRIDGE = 'bbench0';
const DOCKER_BRIDGE_CIDR = '10.213.213.1/24';
/** podman's default network (netavark bridge podman0); no traffic is ever sent on either. */
const PODMAN_SUBNET = '10.213.214.0/24';

/**
 * Copies the built berth (dist/*.mjs and the native helper) into the bench root, so that a
 * rebuild of dist/ by someone else in the middle of a run cannot mix two builds in one table.
 * node_modules is linked, so the bundles' bare imports still resolve.
 */
export function snapshotBuild(root: string): void {
  mkdirSync(join(root, 'dist'), { recursive: true });
  // The CLI: its launcher (.cjs, what /usr/local/bin/berth runs; .mjs for `node dist/berth.mjs`), the
  // bundle and the bundle's V8 code cache.
  for (const f of ['berth.cjs', 'berth.mjs', 'berth-cli.cjs', 'berth-cli.cjs.cache', 'berthd.mjs']) copyFileSync(join(REPO, 'dist', f), join(root, 'dist', f));
  mkdirSync(join(root, 'native/build'), { recursive: true });
  copyFileSync(join(REPO, 'native/build/berth-helper'), join(root, 'native/build/berth-helper'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
}

export type EngineId = 'berth' | 'docker' | 'podman';
export type TargetId = 'berth' | 'docker-berthd' | 'docker' | 'podman';

/** One way of driving an engine from the command line. */
export interface Target {
  id: TargetId;
  label: string;
  engine: Engine;
  /** The command line and environment for `args` (for asynchronous runs). */
  argv(args: string[]): { cmd: string; args: string[]; env: NodeJS.ProcessEnv };
  run(args: string[], timeoutMs?: number): CmdResult;
}

/** An engine under test: started, loaded and torn down by the bench. */
export interface Engine {
  id: EngineId;
  /** Marker that appears on the command line of every process the engine runs for us. */
  marker: string;
  /** Basenames of the per-container monitor processes (conmon, containerd-shim). */
  monitorNames: string[];
  start(): Promise<void>;
  /** The daemon's process tree minus the per-container monitors; empty for daemonless podman. */
  daemonProcs(): ProcInfo[];
  /** The CLI used for setup and cleanup of this engine. */
  cli(args: string[], timeoutMs?: number): CmdResult;
  stop(): Promise<void>;
}

function envWithout(keys: string[], extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of keys) delete env[k];
  return { ...env, ...extra };
}

/** Runs a command that must succeed (setup steps). */
export function must(r: CmdResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim()}${r.stdout.trim()}`);
  return r.stdout;
}

/** pid plus its descendants, read from /proc. */
function processTree(pid: number): ProcInfo[] {
  const all = findProcs([''], '');
  const out: ProcInfo[] = [];
  const want = new Set([pid]);
  // Parents come before children often enough; loop until no new member appears.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (want.has(p.ppid) && !want.has(p.pid)) { want.add(p.pid); grew = true; }
  }
  for (const p of all) if (want.has(p.pid)) out.push(p);
  return out;
}

async function waitUntil(ok: () => boolean, ms: number, what: string, proc?: ChildProcess, logFile?: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) break;
    if (ok()) return;
    await sleep(100);
  }
  const log = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
  throw new Error(`${what} did not come up${proc?.exitCode != null ? ` (exited ${proc.exitCode})` : ''}\n${log}`);
}

async function stopProcess(proc: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

export class BerthEngine implements Engine {
  readonly id = 'berth' as const;
  readonly monitorNames = ['conmon'];
  readonly dir: string;
  readonly socket: string;
  readonly marker: string;
  proc: ChildProcess | undefined;
  readonly logFile: string;

  /** The CLI launcher of this run, as /usr/local/bin/berth runs it (see snapshotBuild). */
  readonly cliPath: string;

  constructor(readonly root: string) {
    this.cliPath = join(root, 'dist/berth.cjs');
    this.dir = join(root, 'b');
    this.socket = join(this.dir, 'berth.sock');
    this.marker = join(this.dir, 'exec');
    this.logFile = join(this.dir, 'berthd.log');
  }

  get host(): string { return `unix://${this.socket}`; }
  // As the installed /usr/local/bin/berth wrapper runs it: without NODE_EXTRA_CA_CERTS (see scripts/setup.sh).
  cliEnv(): NodeJS.ProcessEnv { return envWithout(['DOCKER_HOST', 'NODE_EXTRA_CA_CERTS'], { BERTH_HOST: this.host }); }
  argv(args: string[]) { return { cmd: process.execPath, args: [this.cliPath, ...args], env: this.cliEnv() }; }
  cli(args: string[], timeoutMs?: number): CmdResult { const x = this.argv(args); return timed(x.cmd, x.args, x.env, timeoutMs); }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'daemon.json'), '{}');
    const out = openSync(this.logFile, 'a');
    this.proc = spawn(process.execPath, [join(this.root, 'dist/berthd.mjs'), '--data-root', join(this.dir, 'data'),
      '--exec-root', this.marker, '-H', this.host, '--config-file', join(this.dir, 'daemon.json'),
      '--pidfile', join(this.dir, 'berthd.pid')], { stdio: ['ignore', out, out], detached: true });
    await waitUntil(() => existsSync(this.socket) && this.cli(['version']).code === 0, 20_000, 'berthd', this.proc, this.logFile);
    must(this.cli(['load', '-i', BUSYBOX_TAR], 120_000), 'berth load');
  }

  daemonProcs(): ProcInfo[] {
    return this.proc?.pid ? processTree(this.proc.pid).filter((p) => !this.monitorNames.some((n) => p.argv[0]!.endsWith(n))) : [];
  }

  /**
   * Stops berthd, then removes the networking it leaves in place on purpose (published ports
   * keep working while berthd is down): its nft table and default bridge, named after the exec root.
   */
  async stop(): Promise<void> {
    await stopProcess(this.proc, 15_000);
    timed('nft', ['delete', 'table', 'ip', objectPrefixFor(this.marker)], process.env, 10_000);
    timed('ip', ['link', 'del', `${interfacePrefixFor(this.marker)}0`], process.env, 10_000);
  }
}

export class DockerEngine implements Engine {
  readonly id = 'docker' as const;
  readonly monitorNames = ['containerd-shim'];
  readonly dir: string;
  readonly socket: string;
  readonly marker: string;
  readonly logFile: string;
  proc: ChildProcess | undefined;
  createdBridge = false;

  constructor(readonly root: string) {
    this.dir = join(root, 'd');
    this.socket = join(this.dir, 'docker.sock');
    this.marker = this.dir;
    this.logFile = join(this.dir, 'dockerd.log');
  }

  get host(): string { return `unix://${this.socket}`; }
  cli(args: string[], timeoutMs?: number): CmdResult { return dockerCli(this.root, this.host, args, timeoutMs); }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'daemon.json'), '{}');
    if (!existsSync(`/sys/class/net/${DOCKER_BRIDGE}`)) {
      for (const a of [['link', 'add', DOCKER_BRIDGE, 'type', 'bridge'], ['addr', 'add', DOCKER_BRIDGE_CIDR, 'dev', DOCKER_BRIDGE], ['link', 'set', DOCKER_BRIDGE, 'up']]) {
        must(timed('ip', a, process.env), `ip ${a.join(' ')}`);
      }
      this.createdBridge = true;
    }
    await this.#spawn(false);
    must(this.cli(['load', '-i', BUSYBOX_TAR], 120_000), 'docker load');
  }

  /** Whether the running dockerd manages iptables (published ports as DNAT rules). */
  iptables = false;

  async #spawn(iptables: boolean): Promise<void> {
    const out = openSync(this.logFile, 'a');
    // Own process group (detached) for both daemons: Ctrl-C reaches only the bench, which then
    // removes the containers and stops the daemons in order.
    // By default no iptables, no ip_forward, no masquerade: those benchmarks send no traffic and
    // leave the host's firewall alone. Containers still get a veth on our bridge (the default
    // network). The network benchmarks restart it with iptables on (see useIptables); the chains
    // it adds are deleted at the end by restoreHost.
    this.proc = spawn('dockerd', ['--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'),
      '-H', this.host, '--pidfile', join(this.dir, 'dockerd.pid'), '--config-file', join(this.dir, 'daemon.json'),
      `--iptables=${iptables}`, '--ip-forward=false', '--ip-masq=false', '-b', DOCKER_BRIDGE], { stdio: ['ignore', out, out], detached: true });
    this.iptables = iptables;
    await waitUntil(() => existsSync(this.socket) && this.cli(['version']).code === 0, 60_000, 'dockerd', this.proc, this.logFile);
  }

  /**
   * Restarts dockerd with iptables on: docker's default way of publishing ports (DNAT rules in
   * nat/DOCKER, docker-proxy for 127.0.0.1) and the iptables rules of its embedded DNS. Still no
   * ip_forward change and no masquerade. Images stay (same data root).
   */
  async useIptables(): Promise<void> {
    if (this.iptables) return;
    await stopProcess(this.proc, 30_000);
    await this.#spawn(true);
  }

  daemonProcs(): ProcInfo[] {
    return this.proc?.pid ? processTree(this.proc.pid).filter((p) => !p.argv[0]!.includes('containerd-shim')) : [];
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc, 30_000);
    if (this.createdBridge) timed('ip', ['link', 'del', DOCKER_BRIDGE], process.env);
  }
}

/** The real docker CLI 28 against any socket, with a private config dir (no contexts, no creds). */
export function dockerArgv(root: string, host: string, args: string[]) {
  return { cmd: DOCKER_CLI, args, env: envWithout(['BERTH_HOST', 'DOCKER_CONTEXT'], { DOCKER_HOST: host, DOCKER_CONFIG: join(root, 'docker-config') }) };
}

export function dockerCli(root: string, host: string, args: string[], timeoutMs?: number): CmdResult {
  const x = dockerArgv(root, host, args);
  return timed(x.cmd, x.args, x.env, timeoutMs);
}

function hardLimit(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const v = line?.slice(26).trim().split(/\s+/)[1];
  return v && /^\d+$/.test(v) ? Number(v) : 1024;
}

export class PodmanEngine implements Engine {
  readonly id = 'podman' as const;
  readonly monitorNames = ['conmon'];
  readonly dir: string;
  readonly marker: string;
  readonly conf: string;

  constructor(root: string) {
    this.dir = join(root, 'p');
    this.marker = this.dir;
    this.conf = join(this.dir, 'containers.conf');
  }

  argv(args: string[]) {
    return {
      cmd: 'podman', args: ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp'), ...args],
      env: envWithout(['DOCKER_HOST', 'BERTH_HOST'], { CONTAINERS_CONF: this.conf }),
    };
  }
  cli(args: string[], timeoutMs?: number): CmdResult { const x = this.argv(args); return timed(x.cmd, x.args, x.env, timeoutMs); }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // Rootful podman raises RLIMIT_NOFILE/NPROC to 1048576/4194304, which needs CAP_SYS_RESOURCE;
    // this sandbox has no such capability, so pin both to what we may set (as docker inherits).
    const nofile = hardLimit('Max open files');
    const nproc = Math.min(hardLimit('Max processes'), 20000);
    writeFileSync(this.conf, [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      'log_driver = "k8s-file"',
      '[network]',
      `default_subnet = "${PODMAN_SUBNET}"`,
      // Networks made by the bench (network benchmarks) stay in the private store, not /etc/containers/networks.
      `network_config_dir = "${join(this.dir, 'networks')}"`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(this.dir, 'events.log')}"`,
      '',
    ].join('\n'));
    must(this.cli(['load', '-q', '-i', BUSYBOX_TAR], 120_000), 'podman load');
  }

  daemonProcs(): ProcInfo[] { return []; }
  async stop(): Promise<void> { /* daemonless */ }
}

/** The four CLI targets; ratios use `berth` (the product as a user runs it). */
export function targetsFor(root: string, b: BerthEngine, d: DockerEngine, p: PodmanEngine): Target[] {
  const mk = (id: TargetId, label: string, engine: Engine, argv: Target['argv']): Target => ({
    id, label, engine, argv,
    run: (a, t) => { const x = argv(a); return timed(x.cmd, x.args, x.env, t); },
  });
  return [
    mk('berth', 'berth', b, (a) => b.argv(a)),
    mk('docker-berthd', 'docker CLI→berthd', b, (a) => dockerArgv(root, b.host, a)),
    mk('docker', 'docker', d, (a) => dockerArgv(root, d.host, a)),
    mk('podman', 'podman', p, (a) => p.argv(a)),
  ];
}

/** Force-removes every container of an engine (all states). Returns how many were removed. */
export function removeAllContainers(e: Engine): number {
  const ids = e.cli(['ps', '-aq']).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  // podman's rm -f sends SIGTERM and waits 10 s first (busybox as PID 1 ignores it); -t 0 kills at once, as docker's does.
  for (let i = 0; i < ids.length; i += 50) e.cli(['rm', '-f', ...(e.id === 'podman' ? ['-t', '0'] : []), ...ids.slice(i, i + 50)], 180_000);
  return ids.length;
}

