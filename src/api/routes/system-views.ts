import { isIP } from 'node:net';
import type * as api from '../types/index.ts';
import type { EngineEvent, EngineInfo, EngineVersion } from '../../engine/index.ts';

/** GET /version's body (the API version fields are the router's). */
export function toApiVersion(v: EngineVersion): Omit<api.VersionResponse, 'ApiVersion' | 'MinAPIVersion'> {
  const engine = {
    Name: 'Engine', Version: v.version,
    Details: { ApiVersion: '1.47', MinAPIVersion: '1.24', Os: v.os, Arch: v.arch, KernelVersion: v.kernel, GitCommit: '', GoVersion: v.runtime, BuildTime: '', Experimental: 'false' },
  };
  return {
    Platform: { Name: 'Berth Engine' },
    Components: [engine, ...v.components.map((c) => ({ Name: c.name, Version: c.version, Details: { GitCommit: c.commit } }))],
    Version: v.version, GitCommit: '', GoVersion: v.runtime, Os: v.os, Arch: v.arch, KernelVersion: v.kernel, BuildTime: '',
  };
}

/** GET /info, shaped as dockerd's (the fields the docker CLI prints and tools read). */
export function toApiInfo(i: EngineInfo): Record<string, unknown> {
  return {
    ID: i.hostname, Containers: i.containers.total, ContainersRunning: i.containers.running, ContainersPaused: i.containers.paused,
    ContainersStopped: i.containers.stopped, Images: i.images, Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', i.backingFilesystem], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    // json-file (the default, and local) are berth's names for conmon's CRI log files, which podman
    // calls k8s-file; clients decide on the name (docker-compose 1.29 shows logs only for json-file
    // and journald), so the Docker name is the one reported, as podman's compat API does.
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'k8s-file', 'local', 'none'] },
    MemoryLimit: true, SwapLimit: true, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true,
    CPUShares: true, CPUSet: true, PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
    Debug: false, NFd: 0, OomKillDisable: i.cgroupVersion === '1', NGoroutines: 0, SystemTime: new Date().toISOString(),
    LoggingDriver: i.logDriver, CgroupDriver: 'cgroupfs', CgroupVersion: i.cgroupVersion, NEventsListener: 0,
    KernelVersion: i.kernel, OperatingSystem: i.operatingSystem, OSVersion: '', OSType: 'linux', Architecture: i.architecture,
    IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: registryConfig(i.registryMirrors, i.insecureRegistries),
    NCPU: i.cpus, MemTotal: i.memTotal, GenericResources: null, DockerRootDir: i.dataRoot, HttpProxy: '', HttpsProxy: '', NoProxy: '',
    Name: i.hostname, Labels: [], ExperimentalBuild: false, ServerVersion: i.version,
    Runtimes: Object.fromEntries(Object.entries(i.runtimes).map(([k, v]) => [k, { path: v }])), DefaultRuntime: i.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: 'tini', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: [...(i.seccomp ? ['name=seccomp,profile=builtin'] : []), 'name=cgroupns'],
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

/**
 * One event as GET /events sends it. dockerd fills the deprecated fields (status, id, from) for
 * containers and images only, and sends them first (its events.Message field order), so a client
 * printing the JSON as it came sees docker's.
 */
export function toApiEvent(ev: EngineEvent): api.EventMessage {
  const { type, action, actor } = ev;
  const legacy = type === 'container' || type === 'image'
    ? { status: action, id: actor.id, ...(type === 'container' && actor.attributes['image'] ? { from: actor.attributes['image'] } : {}) }
    : {};
  return {
    ...legacy, Type: type, Action: action, Actor: { ID: actor.id, Attributes: actor.attributes }, scope: ev.scope,
    time: Math.floor(ev.timeNano / 1e9), timeNano: ev.timeNano,
  };
}
