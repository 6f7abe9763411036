import { cpus, release, totalmem, hostname, arch } from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ContainerRecord } from '../engine/containers/record.ts';
import { detectCgroups } from '../runtime/cgroups/host.ts';

export const BERTH_VERSION = '0.1.0';

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch { return 'Linux'; }
}

export interface InfoInput {
  containers: readonly ContainerRecord[];
  images: number;
  dataRoot: string;
  defaultRuntime: string;
  runtimes: Record<string, string>;
  logDriver: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  seccompEnabled: boolean;
}

/** GET /info, shaped as dockerd's (the fields the docker CLI prints and tools read). */
export function buildInfo(i: InfoInput): Record<string, unknown> {
  const count = (pred: (c: ContainerRecord) => boolean) => i.containers.filter(pred).length;
  const running = count((c) => c.state.status === 'running' || c.state.status === 'restarting');
  const paused = count((c) => c.state.status === 'paused');
  let cgroupVersion = '1';
  try {
    const layout = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
    cgroupVersion = layout.version === 2 ? '2' : '1';
  } catch { /* keep 1 */ }
  let backing = 'extfs';
  try { backing = statfsSync(i.dataRoot).type === 0x58465342 ? 'xfs' : 'extfs'; } catch { /* default */ }
  return {
    ID: hostname(), Containers: i.containers.length, ContainersRunning: running, ContainersPaused: paused,
    ContainersStopped: i.containers.length - running - paused, Images: i.images, Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', backing], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    // json-file (the default, and local) are berth's names for conmon's CRI log files, which podman
    // calls k8s-file; clients decide on the name (docker-compose 1.29 shows logs only for json-file
    // and journald), so the Docker name is the one reported, as podman's compat API does.
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'k8s-file', 'local', 'none'] },
    MemoryLimit: true, SwapLimit: true, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true,
    CPUShares: true, CPUSet: true, PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
    Debug: false, NFd: 0, OomKillDisable: cgroupVersion === '1', NGoroutines: 0, SystemTime: new Date().toISOString(),
    LoggingDriver: i.logDriver, CgroupDriver: 'cgroupfs', CgroupVersion: cgroupVersion, NEventsListener: 0,
    KernelVersion: release(), OperatingSystem: osName(), OSVersion: '', OSType: 'linux', Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: registryConfig(i.registryMirrors, i.insecureRegistries),
    NCPU: cpus().length, MemTotal: totalmem(), GenericResources: null, DockerRootDir: i.dataRoot, HttpProxy: '', HttpsProxy: '', NoProxy: '',
    Name: hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: BERTH_VERSION,
    Runtimes: Object.fromEntries(Object.entries(i.runtimes).map(([k, v]) => [k, { path: v }])), DefaultRuntime: i.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: 'tini', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: [...(i.seccompEnabled ? ['name=seccomp,profile=builtin'] : []), 'name=cgroupns'],
    Warnings: [],
  };
}

/** An index (registry) as /info's RegistryConfig.IndexConfigs shows it. */
interface IndexInfo { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }

/**
 * /info's RegistryConfig as dockerd builds it (registry/config.go): mirrors deduplicated as
 * "scheme://host/", insecure registries split into CIDRs (localhost's two always last) and
 * host[:port] entries (IndexConfigs with Secure false), docker.io with the mirrors.
 */
export function registryConfig(mirrors: readonly string[], insecure: readonly string[]): Record<string, unknown> {
  const uniqueMirrors = [...new Set(mirrors.map((m) => m.replace(/\/+$/, '') + '/'))];
  const cidrs: string[] = [];
  const indexConfigs: Record<string, IndexInfo> = {};
  for (const raw of [...insecure, '::1/128', '127.0.0.0/8']) {
    const r = raw.replace(/^https?:\/\//i, '');
    if (isCidr(r)) { if (!cidrs.includes(r)) cidrs.push(r); } else indexConfigs[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  indexConfigs['docker.io'] = { Name: 'docker.io', Mirrors: uniqueMirrors, Secure: true, Official: true };
  return {
    AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
    InsecureRegistryCIDRs: cidrs, IndexConfigs: indexConfigs, Mirrors: uniqueMirrors,
  };
}

const isCidr = (s: string): boolean => {
  const [ip, bits, extra] = s.split('/');
  if (bits === undefined || extra !== undefined || !/^\d+$/.test(bits)) return false;
  return isIP(ip!) === 4 ? Number(bits) <= 32 : isIP(ip!) === 6 && Number(bits) <= 128;
};
