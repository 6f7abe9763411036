import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSpec, DEFAULT_SHM_SIZE, type NamespaceMode, type SpecInput } from '../../runtime/spec/build-spec.ts';
import { specToJson } from '../../runtime/spec/types.ts';
import { addSeccompBpf, type SeccompBpfCache } from '../../runtime/spec/seccomp-bpf.ts';
import { parseSecurityOpts } from '../../runtime/spec/security-opts.ts';
import { resolveUser } from '../../runtime/spec/user.ts';
import { listHostDevices, readHostCapabilities, readHostRlimits } from '../../runtime/spec/host-info.ts';
import { EngineError } from '../../lib/errors.ts';
import { processArgs } from './config-merge.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerPaths } from './paths.ts';
import type { SpecWriter } from './deps.ts';
import type { MountInput } from '../../runtime/spec/mounts.ts';
import { cgroupPathOf, resolveBlkio, resolveDevices } from './resource-devices.ts';

export interface SpecWriterDeps {
  /** cgroup parent for every container of this daemon, e.g. "/berth". */
  cgroupParent: string;
  tiniPath: string;
  /** Finds a running container's PID for `container:<id>` namespace modes. */
  pidOf(ref: string): number;
  /** Precompiled seccomp programs for crun (see runtime/spec/seccomp-bpf.ts); absent: crun compiles. */
  bpfCache?: SeccompBpfCache;
  /** Whether the named runtime (ContainerRecord.runtime) is crun, which understands the annotation. */
  usesCrun?(runtimeName: string): boolean;
}

/**
 * Turns a container record into config.json. Host facts (capability bounding set, rlimits, device
 * nodes) are read once and cached: they do not change while berthd runs.
 */
export function makeSpecWriter(deps: SpecWriterDeps): SpecWriter {
  let host: Promise<{ caps: string[]; rlimits: Awaited<ReturnType<typeof readHostRlimits>> }> | undefined;
  return async (c: ContainerRecord, ctx: { rootfs: string; paths: ContainerPaths; netnsPath?: string; mounts?: MountInput[]; linkEnv?: string[] }) => {
    host ??= Promise.all([readHostCapabilities(), readHostRlimits()]).then(([caps, rlimits]) => ({ caps, rlimits }));
    const { caps, rlimits } = await host;
    const input = await specInputFor(c, ctx.rootfs, ctx.paths, deps, caps, rlimits, ctx.netnsPath);
    if (ctx.mounts?.length) input.mounts = ctx.mounts;
    // dockerd: PATH, HOSTNAME, TERM, then the links' variables, then Config.Env replacing any of them.
    if (ctx.linkEnv?.length) input.env = [...ctx.linkEnv, ...input.env];
    const spec = buildSpec(input);
    // Saves crun its libseccomp compile on every create; runc would ignore the annotation.
    if (deps.bpfCache && deps.usesCrun?.(c.runtime)) await addSeccompBpf(spec, deps.bpfCache);
    await writeFile(ctx.paths.configPath, specToJson(spec));
    return spec;
  };
}

async function specInputFor(
  c: ContainerRecord, rootfs: string, paths: ContainerPaths, deps: SpecWriterDeps,
  hostCapabilities: string[], hostRlimits: Awaited<ReturnType<typeof readHostRlimits>>, netnsPath: string | undefined,
): Promise<SpecInput> {
  const hc = c.hostConfig;
  const cfg = c.config;
  const sec = parseSecurityOpts(hc.SecurityOpt ?? []);
  const [passwd, group] = await Promise.all([
    readFile(join(rootfs, 'etc/passwd'), 'utf8').catch(() => ''),
    readFile(join(rootfs, 'etc/group'), 'utf8').catch(() => ''),
  ]);
  const user = resolveUser(cfg.User || '0', passwd, group, hc.GroupAdd ?? []);
  const ns = (mode: string | undefined): NamespaceMode => {
    if (!mode || mode === 'private' || mode === '' || mode === 'none' || mode === 'default' || mode === 'shareable') return 'private';
    if (mode === 'host') return 'host';
    if (mode.startsWith('container:')) return { path: `/proc/${deps.pidOf(mode.slice(10))}/ns/` };
    throw new EngineError('InvalidParameter', `invalid mode: ${mode}`);
  };
  const nsPath = (mode: string | undefined, kind: string): NamespaceMode => {
    const m = ns(mode);
    return typeof m === 'object' ? { path: `${m.path}${kind}` } : m;
  };
  const privileged = !!hc.Privileged;
  return {
    rootfs, readonlyRootfs: !!hc.ReadonlyRootfs, args: processArgs(cfg), env: cfg.Env ?? [], cwd: cfg.WorkingDir || '/',
    user, terminal: !!cfg.Tty,
    // dockerd: the client's terminal size at create (docker 28 sends it), so the first screen fits.
    ...(cfg.Tty && hc.ConsoleSize && (hc.ConsoleSize[0] > 0 || hc.ConsoleSize[1] > 0) ? { consoleSize: { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } } : {}),
    hostname: hc.NetworkMode === 'host' ? (await readFile('/etc/hostname', 'utf8').catch(() => 'localhost')).trim() : cfg.Hostname ?? c.id.slice(0, 12),
    domainname: cfg.Domainname ?? '', capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [], privileged, hostCapabilities,
    noNewPrivileges: sec.noNewPrivileges ?? false, ...(sec.seccomp ? { seccomp: sec.seccomp } : {}),
    unconfinedSystemPaths: sec.unconfinedSystemPaths ?? false,
    ...(hc.MaskedPaths ? { maskedPaths: hc.MaskedPaths } : {}), ...(hc.ReadonlyPaths ? { readonlyPaths: hc.ReadonlyPaths } : {}),
    shmSize: hc.ShmSize ?? DEFAULT_SHM_SIZE,
    hostnamePath: paths.hostnamePath, hostsPath: paths.hostsPath, resolvConfPath: paths.resolvConfPath,
    tmpfs: hc.Tmpfs ?? {},
    ...(hc.Init ? { init: { path: deps.tiniPath } } : {}),
    namespaces: {
      // A bridge network's namespace was made by the network setup; host and container: are joined.
      network: netnsPath ? { path: netnsPath } : hc.NetworkMode === 'host' || hc.NetworkMode?.startsWith('container:') ? nsPath(hc.NetworkMode, 'net') : 'private',
      pid: nsPath(hc.PidMode, 'pid'), ipc: nsPath(hc.IpcMode, 'ipc'), uts: nsPath(hc.UTSMode, 'uts'),
      cgroup: hc.CgroupnsMode === 'host' ? 'host' : 'private',
    },
    ...(privileged ? { hostDevices: await listHostDevices() } : {}),
    ulimits: (hc.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
    hostRlimits,
    resources: hc,
    devices: await resolveDevices(hc.Devices ?? []), deviceCgroupRules: hc.DeviceCgroupRules ?? [], blkio: await resolveBlkio(hc),
    cgroupsPath: cgroupPathOf(hc, c.id, deps.cgroupParent),
    sysctls: hc.Sysctls ?? {},
    ...(hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
  };
}

