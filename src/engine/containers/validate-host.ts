import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { ContainerConfig, HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { ALL_CAPABILITIES } from '../../runtime/spec/index.ts';

// HostConfig values of the right type that dockerd still refuses when a container is created
// (InvalidParameter, 400, nothing stored), in dockerd's words and roughly its order: first what
// runconfig's decoder checks (validateNetMode, validateIsolation, validateQoS, validateResources),
// then daemon/container.go validateHostConfig and daemon_unix.go verifyPlatformContainerSettings.
// Resource ranges are in validate-resources.ts; log drivers and the restart/auto-remove pair in validate.ts.

const invalid = (msg: string) => new EngineError('InvalidParameter', msg);

/** Go's %q for the strings these messages quote (printable text; JSON's escaping is the same there). */
export const goQuote = (s: string): string => JSON.stringify(s);

/**
 * runconfig's checks of the network, UTS and isolation modes against the rest of the request
 * (api/server/router/container, decodeContainerConfig). `config` is the request's Config as sent
 * (before the image's is merged in): an image's EXPOSE does not conflict with container: networking.
 * @throws EngineError InvalidParameter
 */
export function checkModeConflicts(config: Pick<ContainerConfig, 'Hostname' | 'ExposedPorts'>, hc: HostConfig): void {
  const net = hc.NetworkMode ?? '';
  const [kind, ...rest] = net.split(':');
  const joinsContainer = kind === 'container';
  if (joinsContainer && (rest.length === 0 || rest[0] === '')) {
    throw invalid('Invalid network mode: invalid container format container:<name|id>');
  }
  if (joinsContainer) {
    if (config.Hostname) throw invalid('conflicting options: hostname and the network mode');
    if (hc.Links?.length) throw invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior");
    if (hc.Dns?.length) throw invalid('conflicting options: dns and the network mode');
    if (hc.ExtraHosts?.length) throw invalid('conflicting options: custom host-to-IP mapping and the network mode');
    if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw invalid('conflicting options: port publishing and the container type network mode');
    if (Object.keys(config.ExposedPorts ?? {}).length) throw invalid('conflicting options: port exposing and the container type network mode');
  }
  if (hc.UTSMode === 'host' && config.Hostname) throw invalid('conflicting options: hostname and the UTS mode');
  if (net === 'host' && hc.Links?.length) throw invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  const isolation = (hc.Isolation ?? '').toLowerCase();
  if (isolation !== '' && isolation !== 'default') throw invalid(`Invalid isolation: ${goQuote(hc.Isolation!)} - linux only supports 'default'`);
  if ((hc.IOMaximumBandwidth ?? 0) !== 0) throw invalid('Invalid QoS settings: linux does not support configuration of maximum bandwidth');
  if ((hc.IOMaximumIOps ?? 0) !== 0) throw invalid('Invalid QoS settings: linux does not support configuration of maximum IOPs');
}

/**
 * runconfig validateResources: real-time CPU settings need the kernel's RT group scheduler (never
 * there on cgroup v2), and the runtime may not exceed the period.
 * @throws EngineError InvalidParameter
 */
export function checkRealtime(hc: Pick<HostConfig, 'CpuRealtimePeriod' | 'CpuRealtimeRuntime'>, cpuRealtime: boolean): void {
  const period = hc.CpuRealtimePeriod ?? 0;
  const runtime = hc.CpuRealtimeRuntime ?? 0;
  if ((period !== 0 || runtime !== 0) && !cpuRealtime) throw invalid('Your kernel does not support CPU real-time scheduler');
  if (period !== 0 && runtime !== 0 && runtime > period) throw invalid('cpu real-time runtime cannot be higher than cpu real-time period');
}

/** A port number as nat.ParsePort reads it: empty is 0, else a decimal uint16. */
function portNumberOk(s: string): boolean {
  return s === '' || (/^\d+$/.test(s) && Number(s) <= 65535);
}

/** nat.ParsePortRange: "80" or "8000-8010", each a uint16, the end not below the start. */
function portRangeOk(s: string): boolean {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return false;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  return start <= 65535 && end <= 65535 && end >= start;
}

/** nat.SplitProtoPort: "80/udp" → ["udp", "80"], "80" and "80/" → ["tcp", "80"]. */
function splitProtoPort(raw: string): [proto: string, port: string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1 || parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

/**
 * The keys of ExposedPorts and PortBindings and each binding's HostPort, as dockerd's
 * validatePortBindings reads them (`invalid port specification: "abc"`). dockerd takes an unknown
 * protocol ("80/foo") at create and fails at start on a published port ("unknown protocol"); berth
 * refuses it at once, in the words of the docker CLI's port parser (`invalid proto: foo`).
 * @throws EngineError InvalidParameter
 */
export function checkPorts(exposed: Readonly<Record<string, unknown>> | null | undefined, bindings: HostConfig['PortBindings']): void {
  // dockerd does not look at ExposedPorts' keys at all: a range there ("8000-8010/tcp", as docker-py
  // passes one through) is left alone; nonsense is refused.
  const checkKey = (key: string, rangeOk: boolean) => {
    const [proto, port] = splitProtoPort(key);
    const ok = rangeOk && port.includes('-') ? portRangeOk(port) : portNumberOk(port);
    if (!ok || (port === '' && key !== '')) throw invalid(`invalid port specification: ${goQuote(port || key)}`);
    if (proto !== '' && !PROTOCOLS.includes(proto.toLowerCase())) throw invalid(`invalid proto: ${proto}`);
  };
  for (const key of Object.keys(exposed ?? {})) checkKey(key, true);
  for (const [key, list] of Object.entries(bindings ?? {})) {
    checkKey(key, false);
    for (const b of list ?? []) {
      if (!b.HostPort) continue;
      const [, hostPort] = splitProtoPort(b.HostPort);
      if (!portRangeOk(hostPort)) throw invalid(`invalid port specification: ${goQuote(b.HostPort)}`);
    }
  }
}

/**
 * `--add-host` entries as opts.ValidateExtraHost reads them: `name:ip` split at the first colon
 * (so `name:::1` is IPv6), the IP parsed or the special `host-gateway`. berth also takes `name=ip`
 * and a bracketed IPv6 address, as the docker CLI does before it sends them.
 * @throws EngineError InvalidParameter
 */
export function checkExtraHosts(hosts: readonly string[] | null | undefined): void {
  for (const h of hosts ?? []) {
    const sep = /[:=]/.exec(h);
    const name = sep ? h.slice(0, sep.index) : '';
    if (!sep || name === '') throw invalid(`bad format for add-host: ${goQuote(h)}`);
    const ip = h.slice(sep.index + 1);
    if (ip === 'host-gateway') continue;
    if (!isIP(ip.trim().replace(/^\[(.*)\]$/, '$1'))) throw invalid(`invalid IP address in add-host: ${goQuote(ip)}`);
  }
}

/**
 * api/types/container ValidateRestartPolicy, with dockerd's words. An empty name passes with any
 * retry count (what daemons before 25.0 stored); create names it "no" before checking, update does not.
 * @throws EngineError InvalidParameter
 */
export function checkRestartPolicy(p: HostConfig['RestartPolicy']): void {
  const name = p?.Name ?? '';
  const retries = p?.MaximumRetryCount ?? 0;
  switch (name) {
    case '':
      return;
    case 'no': case 'always': case 'unless-stopped':
      if (retries !== 0) {
        throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${retries < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (retries < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
      return;
    default:
      throw invalid(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/**
 * CapAdd and CapDrop name capabilities the kernel defines (caps.NormalizeLegacyCapabilities:
 * any case, CAP_ optional, or ALL).
 * @throws EngineError InvalidParameter `invalid CapAdd: unknown capability: "CAP_FOO"`
 */
export function checkCapabilities(hc: Pick<HostConfig, 'CapAdd' | 'CapDrop'>): void {
  for (const [field, list] of [['CapAdd', hc.CapAdd], ['CapDrop', hc.CapDrop]] as const) {
    for (const c of list ?? []) {
      const upper = c.toUpperCase();
      if (upper === 'ALL') continue;
      const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
      if (!ALL_CAPABILITIES.includes(full)) throw invalid(`invalid ${field}: unknown capability: ${goQuote(full)}`);
    }
  }
}

const containerRef = (mode: string): string | undefined => (mode.startsWith('container:') ? mode.slice('container:'.length) : undefined);

/**
 * The namespace modes dockerd knows (IpcMode, PidMode, UTSMode .Valid()), annotations' keys and
 * tmpfs destinations (verifyPlatformContainerSettings, validateHostConfig).
 * @throws EngineError InvalidParameter
 */
export function checkNamespacesAndPaths(hc: HostConfig): void {
  const ipc = hc.IpcMode ?? '';
  if (!['', 'none', 'private', 'host', 'shareable'].includes(ipc) && containerRef(ipc) === undefined) throw invalid(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !containerRef(pid)) throw invalid(`invalid PID mode: ${pid}`);
  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw invalid(`invalid UTS mode: ${uts}`);
  if (Object.hasOwn(hc.Annotations ?? {}, '')) throw invalid('invalid Annotations: the empty string is not permitted as an annotation key');
  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    const p = dest.replace(/\\/g, '/');
    if (posix.normalize(p) === '/') throw invalid("invalid specification: destination can't be '/'");
    if (!posix.isAbsolute(p)) throw invalid(`invalid mount path: '${p}' mount path must be absolute`);
  }
}

/**
 * `--storage-opt`: dockerd's overlay2 honours `size` only on xfs with project quotas, which berth's
 * snapshots do not use, and knows no other option; refused at create rather than ignored.
 * @throws EngineError InvalidParameter
 */
export function checkStorageOpt(opts: HostConfig['StorageOpt']): void {
  for (const key of Object.keys(opts ?? {})) {
    if (key.toLowerCase() === 'size') throw invalid("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
    throw invalid(`Unknown option ${key}`);
  }
}

/**
 * `container:<name>` in PidMode and IpcMode names a container that must exist when this one is
 * created (dockerd's adaptContainerSettings looks it up, then stores its ID so a rename keeps the link).
 * Returns the modes with IDs in place of names.
 * @throws EngineError InvalidParameter `No such container: <name>`
 */
export function resolveSharedNamespaces(hc: Pick<HostConfig, 'PidMode' | 'IpcMode'>, findId: (ref: string) => string | undefined): Pick<HostConfig, 'PidMode' | 'IpcMode'> {
  const out: Pick<HostConfig, 'PidMode' | 'IpcMode'> = {};
  for (const key of ['PidMode', 'IpcMode'] as const) {
    const ref = containerRef(hc[key] ?? '');
    if (ref === undefined || ref === '') continue;
    const id = findId(ref);
    if (!id) throw invalid(`No such container: ${ref}`);
    out[key] = `container:${id}`;
  }
  return out;
}

/** Go's %v of a [][]string: `[[gpu] [compute utility]]`, `[]` when empty. */
const goList = (caps: readonly (readonly string[])[] | null | undefined): string => `[${(caps ?? []).map((c) => `[${c.join(' ')}]`).join(' ')}]`;

/**
 * `--gpus` and other device requests need a device driver (dockerd registers one for NVIDIA when
 * its container toolkit is installed); berth has none, so a request fails at start as it does on
 * such a dockerd (daemon/devices.go handleDevice), instead of running the container without devices.
 * @throws EngineError InvalidParameter
 */
export function checkDeviceRequests(requests: HostConfig['DeviceRequests']): void {
  const req = requests?.[0];
  if (req) throw invalid(`could not select device driver ${goQuote(req.Driver ?? '')} with capabilities: ${goList(req.Capabilities)}`);
}

/**
 * Options of one mount type on a mount of another (dockerd's router): refused from API 1.42 on;
 * before it, VolumeOptions and TmpfsOptions were dropped in place (BindOptions are left for the
 * mount check to refuse).
 * @throws EngineError InvalidParameter `VolumeOptions must not be specified on mount type "bind"`
 */
export function checkMountOptionTypes(mounts: HostConfig['Mounts'], refuse: boolean): void {
  for (const m of mounts ?? []) {
    for (const [field, type] of [['VolumeOptions', 'volume'], ['BindOptions', 'bind'], ['TmpfsOptions', 'tmpfs']] as const) {
      if (m[field] == null || m.Type === type) continue;
      if (refuse) throw invalid(`${field} must not be specified on mount type ${goQuote(m.Type)}`);
      if (field !== 'BindOptions') delete m[field];
    }
  }
}
