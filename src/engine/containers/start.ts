import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bestEffort } from '../../lib/best-effort.ts';
import { EngineError, messageOf } from '../../lib/errors.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import { parseBytes } from '../../lib/units.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import { RuntimeCreateError, createFailedMessage, isInvalidStartConfig, startFailureExitCode } from '../../runtime/runtime-errors.ts';
import type { ContainerContext } from './context.ts';
import { writeEtcFiles } from './create.ts';
import type { SandboxInfo } from './deps.ts';
import { moveTo, type LifecycleEvent } from './lifecycle-table.ts';
import type { ContainerPaths } from './paths.ts';
import type { ContainerRecord } from './record.ts';
import { START_INTENT, type StartIntent } from './recovery.ts';
import { checkDeviceRequests } from './validate-host.ts';

/** What a start holds on the host before its monitor is launched. */
interface HostSetup { rootfs: string; sandbox: SandboxInfo | undefined }

/**
 * Errors of the network's setup: dockerd reports them as they are ("driver failed programming
 * external connectivity on endpoint ...: Bind for 0.0.0.0:80 failed: port is already allocated"),
 * not as a runtime's failure.
 */
class NetworkSetupFailed extends Error {
  constructor(readonly reason: unknown) { super(messageOf(reason), { cause: reason }); }
}

/**
 * One start of a container, its lock held: the `start` intent, bundle and files, rootfs and
 * network (in parallel), volumes and spec, conmon (which runs `<runtime> create`), attaches waiting
 * for this start, then `<runtime> start`. `event` is `start` (a user's) or `policy-restart`; the
 * caller checked it. Whatever fails is undone (failStart) and reported in dockerd's words.
 */
export async function startLocked(ctx: ContainerContext, c: ContainerRecord, event: LifecycleEvent = 'start'): Promise<void> {
  const paths = ctx.paths(c.id);
  const runtime = ctx.runtimeFor(c.runtime);
  await prepareBundle(ctx, c, runtime, paths);
  try {
    const host = await setUpHost(ctx, c);
    const log = await launchMonitor(ctx, c, runtime, paths, host, event);
    if (host.sandbox?.ready) await host.sandbox.ready.catch((err: unknown) => { throw new NetworkSetupFailed(err); });
    await runtime.start(c.id);
    ctx.intents.clear(START_INTENT, c.id);
    ctx.deps.health?.begin(c);
    if (log) ctx.rotator.watch(c.id, { logPath: log, ctlFifo: paths.ctlFifo, ...logLimits(ctx, c) });
  } catch (err) {
    throw await failStart(ctx, c, runtime, err);
  }
  ctx.publish('start', c);
}

/** Intent first, then the bundle: mounts, network, cgroups and conmon follow; recovery undoes a start cut short. */
async function prepareBundle(ctx: ContainerContext, c: ContainerRecord, runtime: OciRuntime, paths: ContainerPaths): Promise<void> {
  // dockerd refuses these while it builds the spec, before any runtime is involved.
  checkDeviceRequests(c.hostConfig.DeviceRequests);
  ctx.intents.record(START_INTENT, c.id, { prev: { ...c.state } } satisfies StartIntent);
  await mkdir(paths.bundleDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.persistDir, { recursive: true, mode: 0o700 });
  await rm(join(paths.persistDir, 'exit'), { force: true });
  await rm(join(paths.persistDir, 'oom'), { force: true });
  await rm(join(ctx.exitDir, c.id), { force: true });
  // A stale runtime record (a crash between create and start) would make create fail.
  if (runtime.hasState(c.id)) await runtime.delete(c.id, true);
}

/** The rootfs mount and the network, in parallel; both settle before a failure is reported, so the undo finds them. */
async function setUpHost(ctx: ContainerContext, c: ContainerRecord): Promise<HostSetup> {
  const setUpNetwork = async () => ctx.deps.network?.setUp(c);
  const [mounted, networked] = await Promise.allSettled([ctx.deps.rootfs.mount(c.id), setUpNetwork()]);
  if (networked.status === 'rejected') throw new NetworkSetupFailed(networked.reason);
  if (mounted.status === 'rejected') throw mounted.reason;
  return { rootfs: mounted.value, sandbox: networked.value };
}

/** Files, volumes, spec, then conmon: the container exists, its process waits; attaches connect now. Returns the log path. */
async function launchMonitor(ctx: ContainerContext, c: ContainerRecord, runtime: OciRuntime, paths: ContainerPaths, host: HostSetup, event: LifecycleEvent): Promise<string | null> {
  const { sandbox, rootfs } = host;
  // Written per start: the address is leased now, and the host's resolvers may have changed.
  if (sandbox) await writeEtcFiles(ctx, c, paths, sandbox);
  const mounts = ctx.deps.volumes ? await ctx.deps.volumes.setUp(c, rootfs) : [];
  await ctx.deps.writeSpec(c, { rootfs, paths, mounts, ...(sandbox?.netnsPath ? { netnsPath: sandbox.netnsPath } : {}), ...(sandbox?.linkEnv?.length ? { linkEnv: sandbox.linkEnv } : {}) });
  const log = c.hostConfig.LogConfig?.Type === 'none' ? null : paths.logPath;
  const { maxSize, maxFile } = logLimits(ctx, c);
  ctx.runs.begin(c.id);
  const { pid, conmonPid } = await ctx.deps.monitor.launch(runtime, {
    id: c.id, name: c.name, bundleDir: paths.bundleDir,
    logPath: log, logSizeMax: conmonLogCap(maxSize, maxFile), tty: !!c.config.Tty, stdin: !!c.config.OpenStdin,
    // StdinOnce closes stdin when the first attach goes, but never for a tty (docker: detach, then attach again).
    leaveStdinOpen: !c.config.StdinOnce || !!c.config.Tty, pidFile: paths.pidFile, conmonPidFile: paths.conmonPidFile,
    exitDir: ctx.exitDir, persistDir: paths.persistDir,
  });
  moveTo(c, event, 'running');
  c.state = { ...c.state, pid, conmonPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), stoppedByUser: false };
  ctx.repo.saveState(c.id, c.state);
  await ctx.runs.monitorUp(c.id);
  return log;
}

/**
 * Undoes a start that failed and returns the error to throw: the run ends, attaches waiting for it
 * end, what it holds on the host goes, the container is `created` (never ran) or `exited` with
 * dockerd's message and exit code, and an --rm container is removed as dockerd does.
 */
async function failStart(ctx: ContainerContext, c: ContainerRecord, runtime: OciRuntime, err: unknown): Promise<EngineError> {
  ctx.runs.end(c.id);
  ctx.runs.cancelAttaches(c.id);
  await releaseRun(ctx, c);
  const cause = err instanceof NetworkSetupFailed ? err.reason : err;
  // The runtime's own words never reach the user: dockerd's (containerd's runc shim's) do.
  const msg = cause instanceof RuntimeCreateError
    ? createFailedMessage(runtime.name, cause.runtimeMessage, processArgv0(c))
    : `failed to create task for container: OCI runtime create failed: ${messageOf(cause)}: unknown`;
  moveTo(c, 'start-failed', c.state.startedAt === ZERO_TIME ? 'created' : 'exited');
  c.state = { ...c.state, pid: 0, conmonPid: 0, exitCode: startFailureExitCode(msg), error: msg };
  ctx.repo.saveState(c.id, c.state);
  ctx.intents.clear(START_INTENT, c.id);
  // Docker removes an --rm container whose start failed; `docker run --rm` waits for that.
  if (c.hostConfig.AutoRemove) setImmediate(() => void bestEffort(ctx.deps.log, 'remove an --rm container whose start failed', c.id, () => ctx.remove(c.id, { force: true, volumes: true })));
  if (err instanceof NetworkSetupFailed && cause instanceof EngineError) return cause;
  // dockerd answers a command that cannot be run as the client's fault (startInvalidConfigError).
  const kind = cause instanceof RuntimeCreateError ? (isInvalidStartConfig(msg) ? 'InvalidParameter' : 'Internal')
    : cause instanceof EngineError ? cause.kind : 'Internal';
  return new EngineError(kind, msg, { cause });
}

/** Everything one run holds on the host, released (a failed, undone or ended start). Idempotent; failures are logged. */
export async function releaseRun(ctx: ContainerContext, c: ContainerRecord): Promise<void> {
  const { deps } = ctx;
  const runtime = deps.runtimes.get(c.runtime);
  await bestEffort(deps.log, 'runtime delete', c.id, () => runtime?.delete(c.id, true));
  await bestEffort(deps.log, 'unmount rootfs', c.id, () => deps.rootfs.unmount(c.id));
  await bestEffort(deps.log, 'release network', c.id, () => deps.network?.tearDown(c));
  await bestEffort(deps.log, 'release volumes', c.id, () => deps.volumes?.release(c));
  await bestEffort(deps.log, 'release cgroup', c.id, () => deps.releaseCgroup?.(c.id));
}

/** max-size and max-file for the container's log, with berth's default cap. */
export function logLimits(ctx: ContainerContext, c: ContainerRecord): { maxSize: number; maxFile: number } {
  const cfg = c.hostConfig.LogConfig?.Config ?? {};
  const maxSize = cfg['max-size'] ? parseBytes(cfg['max-size']) : ctx.deps.config.defaultLogMaxSize;
  const maxFile = cfg['max-file'] ? Number(cfg['max-file']) : ctx.deps.config.defaultLogMaxFile;
  return { maxSize, maxFile };
}

/**
 * conmon's own truncation cap: only a guard for while berthd is down (berthd rotates). conmon counts
 * bytes since its last truncation, not since our reopen, so a tight cap would cut a live file
 * between our rotations and lose lines: keep it at 10x the rotation budget, 100 MB at least.
 */
export function conmonLogCap(maxSize: number, maxFile: number): number {
  return maxSize > 0 ? Math.max(maxSize * Math.max(1, maxFile) * 10, 100 * 1024 * 1024) : 0;
}

/** The program a container's process runs (its entrypoint's or command's first word). */
function processArgv0(c: ContainerRecord): string {
  return c.config.Entrypoint?.[0] ?? c.config.Cmd?.[0] ?? '';
}
