import { cpus, release, totalmem, hostname, arch } from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import { detectCgroups } from '../../runtime/cgroups/host.ts';
import type { EngineInfo } from '../contracts/system.ts';
import type { ContainerRecord } from '../containers/record.ts';
import { BERTH_VERSION } from './versions.ts';

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch { return 'Linux'; }
}

/** What `info` is assembled from besides the host. */
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

/** The engine's and the host's facts for GET /info (api/routes/system-views.ts renders them). */
export function engineInfo(i: InfoInput): EngineInfo {
  const count = (pred: (c: ContainerRecord) => boolean) => i.containers.filter(pred).length;
  const running = count((c) => c.state.status === 'running' || c.state.status === 'restarting');
  const paused = count((c) => c.state.status === 'paused');
  let cgroupVersion: '1' | '2' = '1';
  try {
    const layout = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
    cgroupVersion = layout.version === 2 ? '2' : '1';
  } catch { /* keep 1 */ }
  let backing = 'extfs';
  try { backing = statfsSync(i.dataRoot).type === 0x58465342 ? 'xfs' : 'extfs'; } catch { /* default */ }
  return {
    version: BERTH_VERSION, hostname: hostname(),
    containers: { total: i.containers.length, running, paused, stopped: i.containers.length - running - paused },
    images: i.images, dataRoot: i.dataRoot, backingFilesystem: backing, cgroupVersion,
    kernel: release(), operatingSystem: osName(), architecture: arch() === 'x64' ? 'x86_64' : arch(),
    cpus: cpus().length, memTotal: totalmem(),
    defaultRuntime: i.defaultRuntime, runtimes: { ...i.runtimes }, logDriver: i.logDriver,
    registryMirrors: [...i.registryMirrors], insecureRegistries: [...i.insecureRegistries], seccomp: i.seccompEnabled,
  };
}
