import { readFileSync } from 'node:fs';
import type * as api from '../../../api/types/index.ts';
import { FlagError, type FlagSpec } from '../../args/spec.ts';
import { ExitError, type Flags, bool, int, list, str } from '../../context.ts';
import { parseBytes, parseDurationNs } from '../../../lib/units.ts';
import { FlagValueError, RESOURCE_FLAGS, resourceHostConfig } from './run-resources.ts';
import { CREATE_FLAG_CHECKS, parseUlimit } from './run-flag-checks.ts';
import { type NetworkAttachment, buildEndpointsConfig, parseNetworkOpt, parsePorts, validateLink } from './run-network.ts';
import { parseMountFlag, splitVolumeFlags } from './run-volumes.ts';
import { PLATFORM_FLAGS, platformHostConfig } from './run-platform.ts';

/** The flags `run` and `create` share, as docker spells them (values checked as run-flag-checks.ts says). */
const FLAGS: FlagSpec[] = [
  { name: 'add-host', kind: 'string[]', description: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', kind: 'string[]', description: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'cap-add', kind: 'string[]', description: 'Add Linux capabilities' },
  { name: 'cap-drop', kind: 'string[]', description: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', kind: 'string', description: 'Optional parent cgroup for the container' },
  { name: 'cidfile', kind: 'string', description: 'Write the container ID to the file' },
  { name: 'cpu-period', kind: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', kind: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-shares', short: 'c', kind: 'int', description: 'CPU shares (relative weight)' },
  { name: 'cpus', kind: 'string', description: 'Number of CPUs' },
  { name: 'cpuset-cpus', kind: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', kind: 'string', description: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'detach', short: 'd', kind: 'bool', description: 'Run container in background and print container ID' },
  { name: 'detach-keys', kind: 'string', description: 'Override the key sequence for detaching a container' },
  { name: 'device', kind: 'string[]', description: 'Add a host device to the container' },
  { name: 'dns', kind: 'string[]', description: 'Set custom DNS servers' },
  { name: 'dns-option', kind: 'string[]', description: 'Set DNS options', aliases: ['dns-opt'] },
  { name: 'dns-search', kind: 'string[]', description: 'Set custom DNS search domains' },
  { name: 'domainname', kind: 'string', description: 'Container NIS domain name' },
  { name: 'entrypoint', kind: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', kind: 'string[]', description: 'Set environment variables' },
  { name: 'env-file', kind: 'string[]', description: 'Read in a file of environment variables' },
  { name: 'expose', kind: 'string[]', description: 'Expose a port or a range of ports' },
  { name: 'group-add', kind: 'string[]', description: 'Add additional groups to join' },
  { name: 'health-cmd', kind: 'string', description: 'Command to run to check health' },
  { name: 'health-interval', kind: 'string', description: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', kind: 'int', description: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', kind: 'string', description: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', kind: 'string', description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', kind: 'string', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'hostname', short: 'h', kind: 'string', description: 'Container host name' },
  { name: 'init', kind: 'bool', description: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', kind: 'bool', description: 'Keep STDIN open even if not attached' },
  { name: 'ip', kind: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', kind: 'string', description: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', kind: 'string', description: 'IPC mode to use' },
  { name: 'label', short: 'l', kind: 'string[]', description: 'Set meta data on a container' },
  { name: 'label-file', kind: 'string[]', description: 'Read in a line delimited file of labels' },
  { name: 'link', kind: 'string[]', description: 'Add link to another container' },
  { name: 'link-local-ip', kind: 'string[]', description: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'log-driver', kind: 'string', description: 'Logging driver for the container' },
  { name: 'log-opt', kind: 'string[]', description: 'Log driver options' },
  { name: 'mac-address', kind: 'string', description: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'memory', short: 'm', kind: 'string', description: 'Memory limit' },
  { name: 'memory-reservation', kind: 'string', description: 'Memory soft limit' },
  { name: 'memory-swap', kind: 'string', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'memory-swappiness', kind: 'int', description: 'Tune container memory swappiness (0 to 100)' },
  { name: 'mount', kind: 'string[]', description: 'Attach a filesystem mount to the container' },
  { name: 'name', kind: 'string', description: 'Assign a name to the container' },
  { name: 'network', kind: 'string[]', description: 'Connect a container to a network', aliases: ['net'], valueName: 'network' },
  { name: 'network-alias', kind: 'string[]', description: 'Add network-scoped alias for the container', aliases: ['net-alias'] },
  { name: 'no-healthcheck', kind: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', kind: 'bool', description: 'Disable OOM Killer' },
  { name: 'oom-score-adj', kind: 'int', description: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pid', kind: 'string', description: 'PID namespace to use' },
  { name: 'pids-limit', kind: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'platform', kind: 'string', description: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', kind: 'bool', description: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', kind: 'string[]', description: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', kind: 'bool', description: 'Publish all exposed ports to random ports' },
  { name: 'pull', kind: 'string', description: 'Pull image before running ("always", "missing", "never")', default: 'missing' },
  { name: 'quiet', short: 'q', kind: 'bool', description: 'Suppress the pull output' },
  { name: 'read-only', kind: 'bool', description: "Mount the container's root filesystem as read only" },
  { name: 'restart', kind: 'string', description: 'Restart policy to apply when a container exits', default: 'no' },
  { name: 'rm', kind: 'bool', description: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', kind: 'string', description: 'Runtime to use for this container' },
  { name: 'security-opt', kind: 'string[]', description: 'Security Options' },
  { name: 'shm-size', kind: 'string', description: 'Size of /dev/shm' },
  { name: 'sig-proxy', kind: 'bool', description: 'Proxy received signals to the process', default: true },
  { name: 'stop-signal', kind: 'string', description: 'Signal to stop the container' },
  { name: 'stop-timeout', kind: 'int', description: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', kind: 'string[]', description: 'Sysctl options' },
  { name: 'tmpfs', kind: 'string[]', description: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', kind: 'bool', description: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', kind: 'string[]', description: 'Ulimit options' },
  { name: 'user', short: 'u', kind: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', kind: 'string', description: 'User namespace to use' },
  { name: 'uts', kind: 'string', description: 'UTS namespace to use' },
  { name: 'volume', short: 'v', kind: 'string[]', description: 'Bind mount a volume' },
  { name: 'volumes-from', kind: 'string[]', description: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', kind: 'string', description: 'Working directory inside the container' },
  ...RESOURCE_FLAGS,
  ...PLATFORM_FLAGS,
];
FLAGS.sort((a, b) => a.name.localeCompare(b.name));

export const CREATE_FLAGS: FlagSpec[] = FLAGS.map((f) => (CREATE_FLAG_CHECKS[f.name] ? { ...f, check: CREATE_FLAG_CHECKS[f.name] } : f));


function readEnvFile(path: string): string[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) { throw new FlagError(`open ${path}: no such file or directory`, { cause: err }); }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => (l.includes('=') ? l : resolveEnv(l))).filter((l): l is string => l !== null);
}

/** `-e NAME` takes NAME from the caller's environment; unset names are dropped, as docker does. */
function resolveEnv(e: string): string | null {
  if (e.includes('=')) return e;
  const v = process.env[e];
  return v === undefined ? null : `${e}=${v}`;
}

function ulimit(u: string): api.Ulimit {
  try { return parseUlimit(u); } catch (err) { throw new FlagError(`invalid argument "${u}" for "--ulimit" flag: ${(err as Error).message}`); }
}

function bytes(f: Flags, k: string): number | undefined {
  const v = str(f, k);
  if (v === undefined) return undefined;
  if (v === '-1') return -1;
  try { return parseBytes(v); } catch (err) { throw new FlagError(`invalid argument "${v}" for "--${k}" flag: ${(err as Error).message}`); }
}

function parseRestart(v: string): api.RestartPolicy {
  const [name = 'no', count] = v.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new FlagError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  return { Name: name as api.RestartPolicy['Name'], MaximumRetryCount: count ? Number(count) : 0 };
}

/**
 * An error docker CLI 28's parse() returns after flag parsing: printed as
 * "docker: MSG\n\nRun 'docker run --help' for more information", exit 125.
 */
function parseError(command: string, message: string): ExitError {
  return new ExitError(125, `berth: ${message}\n\nRun 'berth ${command} --help' for more information`);
}

/** Flag-time validation (pflag's "invalid argument" form), reported by main with "See ... --help". */
function flagValues(f: Flags, name: string, check: (v: string) => unknown): string[] {
  const values = list(f, name);
  for (const v of values) {
    try { check(v); } catch (err) { throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--${name}" flag: ${(err as Error).message}`); }
  }
  return values;
}

/** A duration flag as pflag's DurationVar reads it, in nanoseconds. */
function durationFlag(f: Flags, name: string): number {
  const v = str(f, name);
  if (v === undefined || v === '') return 0;
  try { return parseDurationNs(v); } catch (err) { throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--${name}" flag: ${(err as Error).message}`); }
}

/** Config.Healthcheck from the --health-* flags, as docker 28's CLI builds it (undefined: the image's). */
function healthcheck(f: Flags, command: string): api.HealthConfig | undefined {
  const cmd = str(f, 'health-cmd') ?? '';
  const h = {
    Interval: durationFlag(f, 'health-interval'), Timeout: durationFlag(f, 'health-timeout'),
    StartPeriod: durationFlag(f, 'health-start-period'), StartInterval: durationFlag(f, 'health-start-interval'),
    Retries: int(f, 'health-retries') ?? 0,
  };
  const any = cmd !== '' || Object.values(h).some((v) => v !== 0);
  if (bool(f, 'no-healthcheck')) {
    if (any) throw parseError(command, '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  for (const [k, flag] of [['Interval', 'interval'], ['Timeout', 'timeout'], ['Retries', 'retries'], ['StartPeriod', 'start-period'], ['StartInterval', 'start-interval']] as const) {
    if (h[k] < 0) throw parseError(command, `--health-${flag} cannot be negative`);
  }
  return { ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}), ...h };
}

/** The networking part of the create body: ports, NetworkMode, links and EndpointsConfig. */
function networkParts(f: Flags, command: string) {
  const networks: NetworkAttachment[] = [];
  for (const v of list(f, 'network')) {
    try { networks.push(parseNetworkOpt(v)); } catch (err) {
      throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--network" flag: ${(err as Error).message}`);
    }
  }
  const links = flagValues(f, 'link', validateLink);
  try {
    const ports = parsePorts(list(f, 'publish'), list(f, 'expose'));
    const endpoints = buildEndpointsConfig(networks, {
      aliases: list(f, 'network-alias'), links, ipv4: str(f, 'ip') ?? '', ipv6: str(f, 'ip6') ?? '',
      linkLocalIps: list(f, 'link-local-ip'), mac: str(f, 'mac-address') ?? '',
    });
    return { ...ports, links, networkMode: networks[0]?.target ?? 'default', endpoints };
  } catch (err) {
    if (err instanceof FlagError || err instanceof ExitError) throw err;
    throw parseError(command, (err as Error).message);
  }
}

/** The resource flags (run-resources.ts), their errors worded as docker's flag parsing or parse() words them. */
function resourcesOf(f: Flags, command: 'run' | 'create'): Partial<api.HostConfig> {
  try {
    return { ...resourceHostConfig(f), ...platformHostConfig(f) };
  } catch (err) {
    if (err instanceof FlagValueError) throw new FlagError(`invalid argument ${JSON.stringify(err.value)} for "--${err.flag}" flag: ${err.message}`);
    throw parseError(command, (err as Error).message);
  }
}

/** --label-file lines (blank lines and comments skipped), then --label: `key=value` or `key` (empty value). */
function labelsOf(f: Flags): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of [...list(f, 'label-file').flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((x) => x.trim() && !x.startsWith('#'))), ...list(f, 'label')]) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return labels;
}

/** --tmpfs (`path[:options]`), --sysctl and --log-opt (`key=value`, refused in docker's words without `=`). */
function optionMaps(f: Flags): { tmpfs: Record<string, string>; sysctls: Record<string, string>; logOpts: Record<string, string> } {
  const tmpfs: Record<string, string> = {};
  for (const t of list(f, 'tmpfs')) { const i = t.indexOf(':'); tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  const sysctls: Record<string, string> = {};
  for (const s of list(f, 'sysctl')) { const i = s.indexOf('='); if (i < 0) throw new FlagError(`invalid argument "${s}" for "--sysctl" flag: sysctl '${s}' is not allowed`); sysctls[s.slice(0, i)] = s.slice(i + 1); }
  const logOpts: Record<string, string> = {};
  for (const o of list(f, 'log-opt')) { const i = o.indexOf('='); if (i < 0) throw new FlagError(`invalid argument "${o}" for "--log-opt" flag: invalid log opt format`); logOpts[o.slice(0, i)] = o.slice(i + 1); }
  return { tmpfs, sysctls, logOpts };
}

/** --security-opt as sent: a seccomp profile file is read and sent as its content, like docker does. */
function securityOptsOf(f: Flags): string[] {
  return list(f, 'security-opt').map((o) => {
    const m = /^seccomp[=:](.+)$/.exec(o);
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin') return o;
    try { return `seccomp=${JSON.stringify(JSON.parse(readFileSync(m[1]!, 'utf8')))}`; } catch (err) {
      throw new FlagError(`opening seccomp profile (${m[1]}) failed: ${(err as Error).message}`);
    }
  });
}

/** Memory, pids and CPU limits of the HostConfig: only the flags that were given. */
function limitsOf(f: Flags, cpus: string | undefined): Partial<api.HostConfig> {
  return {
    ...(bytes(f, 'shm-size') !== undefined ? { ShmSize: bytes(f, 'shm-size')! } : {}),
    ...(bytes(f, 'memory') !== undefined ? { Memory: bytes(f, 'memory')! } : {}),
    ...(bytes(f, 'memory-swap') !== undefined ? { MemorySwap: bytes(f, 'memory-swap')! } : {}),
    ...(bytes(f, 'memory-reservation') !== undefined ? { MemoryReservation: bytes(f, 'memory-reservation')! } : {}),
    ...(int(f, 'memory-swappiness') !== undefined ? { MemorySwappiness: int(f, 'memory-swappiness')! } : {}),
    ...(bool(f, 'oom-kill-disable') ? { OomKillDisable: true } : {}),
    ...(int(f, 'oom-score-adj') !== undefined ? { OomScoreAdj: int(f, 'oom-score-adj')! } : {}),
    ...(int(f, 'pids-limit') !== undefined ? { PidsLimit: int(f, 'pids-limit')! } : {}),
    ...(int(f, 'cpu-shares') !== undefined ? { CpuShares: int(f, 'cpu-shares')! } : {}),
    ...(int(f, 'cpu-period') !== undefined ? { CpuPeriod: int(f, 'cpu-period')! } : {}),
    ...(int(f, 'cpu-quota') !== undefined ? { CpuQuota: int(f, 'cpu-quota')! } : {}),
    ...(cpus !== undefined ? { NanoCpus: Math.round(Number(cpus) * 1e9) } : {}),
    ...(str(f, 'cpuset-cpus') ? { CpusetCpus: str(f, 'cpuset-cpus')! } : {}),
    ...(str(f, 'cpuset-mems') ? { CpusetMems: str(f, 'cpuset-mems')! } : {}),
    ...(str(f, 'cgroup-parent') ? { CgroupParent: str(f, 'cgroup-parent')! } : {}),
  };
}

/**
 * Builds the POST /containers/create body from run/create flags. `command` names the command in
 * parse errors; by default it is inferred ('sig-proxy' has a default only in run's spec).
 * @throws FlagError (flag-time validation) or ExitError 125 (docker's parse() errors)
 */
export function createBody(f: Flags, image: string, cmd: string[], command: 'run' | 'create' = 'sig-proxy' in f ? 'run' : 'create'): api.ContainerCreateBody {
  const attach = list(f, 'attach').map((s) => s.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new FlagError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  const detach = bool(f, 'detach');
  const interactive = bool(f, 'interactive');
  const env = [...list(f, 'env-file').flatMap(readEnvFile), ...list(f, 'env').map(resolveEnv).filter((e): e is string => e !== null)];
  const labels = labelsOf(f);
  const net = networkParts(f, command);
  const mounts = flagValues(f, 'mount', parseMountFlag).map(parseMountFlag);
  let vols: ReturnType<typeof splitVolumeFlags>;
  try { vols = splitVolumeFlags(list(f, 'volume')); } catch (err) { throw parseError(command, (err as Error).message); }
  const { tmpfs, sysctls, logOpts } = optionMaps(f);
  const securityOpt = securityOptsOf(f);
  const cpus = str(f, 'cpus');
  const entrypoint = str(f, 'entrypoint');
  const health = healthcheck(f, command);
  const restart = parseRestart(str(f, 'restart') ?? 'no');
  if (bool(f, 'rm') && restart.Name !== 'no' && restart.Name !== '') throw parseError(command, 'conflicting options: cannot specify both --restart and --rm');
  const hostConfig: api.HostConfig = {
    AutoRemove: bool(f, 'rm'), Privileged: bool(f, 'privileged'), ReadonlyRootfs: bool(f, 'read-only'),
    NetworkMode: net.networkMode, PortBindings: net.bindings, PublishAllPorts: bool(f, 'publish-all'),
    // Sent as typed ("name" or "name:alias"), as docker does; the daemon normalises them.
    ...(net.links.length ? { Links: net.links } : {}),
    RestartPolicy: restart, CapAdd: list(f, 'cap-add'), CapDrop: list(f, 'cap-drop'),
    SecurityOpt: securityOpt, Tmpfs: tmpfs, Ulimits: list(f, 'ulimit').map(ulimit), Dns: list(f, 'dns'),
    DnsSearch: list(f, 'dns-search'), DnsOptions: list(f, 'dns-option'), ExtraHosts: list(f, 'add-host'),
    GroupAdd: list(f, 'group-add'), Sysctls: sysctls, Binds: vols.binds, VolumesFrom: list(f, 'volumes-from'),
    ...(mounts.length ? { Mounts: mounts } : {}),
    LogConfig: { Type: str(f, 'log-driver') ?? '', Config: logOpts },
    ...(bool(f, 'init') ? { Init: true } : {}),
    ...(str(f, 'runtime') ? { Runtime: str(f, 'runtime')! } : {}),
    ...(str(f, 'pid') ? { PidMode: str(f, 'pid')! } : {}), ...(str(f, 'ipc') ? { IpcMode: str(f, 'ipc')! } : {}),
    ...(str(f, 'uts') ? { UTSMode: str(f, 'uts')! } : {}), ...(str(f, 'userns') ? { UsernsMode: str(f, 'userns')! } : {}),
    ...limitsOf(f, cpus),
    ...resourcesOf(f, command),
  };
  if (cpus !== undefined && !(Number(cpus) > 0)) throw new FlagError(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
  const stdinAttached = attach.length ? attach.includes('stdin') : interactive;
  return {
    Image: image,
    Cmd: cmd.length ? cmd : null,
    ...(entrypoint !== undefined ? { Entrypoint: entrypoint === '' ? [''] : [entrypoint] } : {}),
    Env: env, Labels: labels, ExposedPorts: net.exposed,
    ...(Object.keys(vols.volumes).length ? { Volumes: vols.volumes } : {}),
    Tty: bool(f, 'tty'), OpenStdin: interactive, StdinOnce: interactive && !detach,
    AttachStdin: !detach && stdinAttached,
    AttachStdout: !detach && (attach.length ? attach.includes('stdout') : true),
    AttachStderr: !detach && (attach.length ? attach.includes('stderr') : true),
    ...(str(f, 'workdir') ? { WorkingDir: str(f, 'workdir')! } : {}),
    ...(str(f, 'user') ? { User: str(f, 'user')! } : {}),
    ...(str(f, 'hostname') ? { Hostname: str(f, 'hostname')! } : {}),
    ...(str(f, 'domainname') ? { Domainname: str(f, 'domainname')! } : {}),
    ...(str(f, 'mac-address') ? { MacAddress: str(f, 'mac-address')! } : {}),
    ...(str(f, 'stop-signal') ? { StopSignal: str(f, 'stop-signal')! } : {}),
    ...(int(f, 'stop-timeout') !== undefined ? { StopTimeout: int(f, 'stop-timeout')! } : {}),
    ...(health ? { Healthcheck: health } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: net.endpoints },
  };
}
