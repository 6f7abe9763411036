import { mkdir, rm, readFile, writeFile, unlink } from 'node:fs/promises';
import { existsSync, watch, type FSWatcher, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerCreateBody, ContainerWaitResponse, EndpointSettings } from '../../api/types/index.ts';
import { EngineError, messageOf } from '../../lib/errors.ts';
import { isValidContainerName, newId } from '../../lib/ids.ts';
import { KeyedMutex } from '../../lib/keyed-mutex.ts';
import { generateName } from '../../lib/names.ts';
import { RuntimeCreateError, createFailedMessage, isInvalidStartConfig, startFailureExitCode, withRuntimeCause } from '../../runtime/runtime-errors.ts';
import { IntentLog } from '../../store/intents.ts';
import type { OciRuntime } from '../../runtime/oci-runtime.ts';
import { mergeConfig, normalizeHostConfig } from './config-merge.ts';
import type { ContainerServiceDeps, SandboxInfo } from './deps.ts';
import { hostnameFile, hostsFile, readHostFile, resolvConfFile, type EtcInput } from './etc-files.ts';
import { containerPaths, type ContainerPaths } from './paths.ts';
import { ContainerRepo, initialState, type ContainerRecord } from './record.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import { parseBytes } from '../../lib/units.ts';
import { validateCreate } from './validate.ts';
import { checkDeviceRequests, resolveSharedNamespaces } from './validate-host.ts';
import { normalizeSignal, signalNumberOf } from './signals.ts';
import { LogRotator } from './log-rotator.ts';
import { RestartManager, policyWantsRestart } from './restart.ts';
import { containerPrunePredicate } from './prune.ts';
import { PAUSE_INTENT, REMOVE_INTENT, START_INTENT, type RemoveIntent, type StartIntent } from './recovery.ts';
import { recoverContainers } from './recover-containers.ts';
import type { Filters } from '../../lib/filters.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Waiter { cond: WaitCondition; resolve: (r: ContainerWaitResponse) => void }

/**
 * The container lifecycle: create → start → (pause/unpause) → exit → start again … → remove.
 * Containers run under conmon, never as children of berthd, so a daemon restart leaves them running;
 * exits arrive as files conmon writes to the exit directory (inotify, no polling). Every multi-step
 * operation records its intent first ('creating' and 'removing' rows, the journal's start, remove
 * and pause intents: recovery.ts) so start-up recovery can finish or undo it.
 * Lifecycle operations on one container are serialized; different containers run in parallel.
 */
export class ContainerService {
  readonly repo: ContainerRepo;
  readonly #lock = new KeyedMutex();
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Resolves when the current run of a running container ends. */
  readonly #runs = new Map<string, { exited: Promise<void>; done: () => void }>();
  /** Work to do between conmon's start and the process's start (attach before start). */
  readonly #beforeStart = new Map<string, ((attachSocket: string | null) => Promise<void>)[]>();
  /** Containers whose monitor is up: an attach connects now rather than at the next start. */
  readonly #attachable = new Set<string>();
  #exitWatcher: FSWatcher | undefined;
  readonly #exitDir: string;
  readonly #rotator: LogRotator;
  readonly #restarts: RestartManager;
  readonly #intents: IntentLog;

  constructor(readonly deps: ContainerServiceDeps) {
    this.repo = new ContainerRepo(deps.db);
    this.#intents = new IntentLog(deps.db);
    this.#exitDir = join(deps.config.execRoot, 'exits');
    this.#rotator = new LogRotator({ reopenLog: (fifo) => deps.monitor.reopenLog(fifo), log: deps.log });
    this.#restarts = new RestartManager({
      restart: (id) => this.#policyRestart(id),
      onError: (id, err) => deps.log.warn({ err, id }, 'restart policy'),
    });
  }

  paths(id: string): ContainerPaths {
    return containerPaths(this.deps.config.dataRoot, this.deps.config.execRoot, id);
  }

  runtimeFor(name: string): OciRuntime {
    const r = this.deps.runtimes.get(name);
    if (!r) throw new EngineError('InvalidParameter', `unknown or invalid runtime name: ${name}`);
    return r;
  }

  // ---- create ------------------------------------------------------------------------------

  async create(body: ContainerCreateBody, requestedName?: string): Promise<{ id: string; warnings: string[] }> {
    if (!body.Image) throw new EngineError('InvalidParameter', 'config cannot be empty in order to create a container');
    let name = requestedName?.replace(/^\//, '');
    if (name !== undefined && name !== '' && !isValidContainerName(name)) {
      throw new EngineError('InvalidParameter', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const hostConfig = normalizeHostConfig(body.HostConfig, this.deps.config.defaultRuntime, this.deps.config.defaultLogConfig);
    const warnings = validateCreate(body, hostConfig, body.HostConfig);
    this.runtimeFor(hostConfig.Runtime!);
    Object.assign(hostConfig, resolveSharedNamespaces(hostConfig, (ref) => this.#tryResolve(ref)?.id));
    const image = await this.deps.images.resolve(body.Image);
    const id = newId();
    let config = mergeConfig(body, image.config.config, id, body.Image);
    const joins = (hostConfig.NetworkMode ?? '').startsWith('container:') ? this.#tryResolve(hostConfig.NetworkMode!.slice('container:'.length)) : undefined;
    // A container in another's network namespace takes its names (dockerd: initializeNetworking).
    if (joins && !body.Hostname) config = { ...config, Hostname: joins.config.Hostname, Domainname: joins.config.Domainname };
    if (!name) name = generateName((n) => this.repo.nameTaken(n));
    const record: ContainerRecord = {
      id, name, imageId: image.id, imageRef: body.Image, createdAt: new Date().toISOString(), config, hostConfig,
      runtime: hostConfig.Runtime!, restartCount: 0, state: initialState(),
    };
    // Intent first: a 'creating' row is invisible to clients and removed by recovery if we die here.
    this.repo.insert(record);
    const paths = this.paths(id);
    try {
      // The network checks see the requested hostname, not the default (-h with container: is refused).
      if (this.deps.network) warnings.push(...this.deps.network.plan({ ...record, config: { ...config, Hostname: body.Hostname ?? '' } }, body.NetworkingConfig));
      await this.deps.volumes?.plan(record);
      await mkdir(paths.persistDir, { recursive: true, mode: 0o700 });
      await this.deps.rootfs.prepare(id, image.chainIds);
      await this.#writeEtcFiles(record, paths);
    } catch (err) {
      await this.#discard(record).catch(() => undefined);
      throw err;
    }
    record.state.status = 'created';
    this.repo.saveState(id, record.state);
    this.deps.events.publish('container', 'create', id, this.#attrs(record));
    return { id, warnings };
  }

  async #writeEtcFiles(c: ContainerRecord, paths: ContainerPaths, sandbox?: SandboxInfo): Promise<void> {
    const hc = c.hostConfig;
    const hostGateway = this.deps.network?.hostGateway();
    const input: EtcInput = {
      hostname: c.config.Hostname ?? c.id.slice(0, 12), domainname: c.config.Domainname ?? '',
      networkMode: hc.NetworkMode ?? 'none', ...(sandbox?.ip ? { ip: sandbox.ip } : {}), ...(sandbox?.ip6 ? { ip6: sandbox.ip6 } : {}), links: sandbox?.links ?? [],
      embeddedDns: sandbox?.embeddedDns ?? false, ...(hostGateway ? { hostGateway } : {}), extraHosts: hc.ExtraHosts ?? [], dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [],
      dnsOptions: hc.DnsOptions ?? [], hostResolvConf: readHostFile('/etc/resolv.conf'), hostHosts: readHostFile('/etc/hosts'),
    };
    await writeFile(paths.hostnamePath, hostnameFile(input));
    await writeFile(paths.hostsPath, hostsFile(input));
    await writeFile(paths.resolvConfPath, resolvConfFile(input));
  }

  /** Removes every trace of a container that never became visible, or is being removed (with its anonymous volumes if asked). */
  async #discard(c: ContainerRecord, removeVolumes = c.state.status === 'creating'): Promise<void> {
    const paths = this.paths(c.id);
    const runtime = this.deps.runtimes.get(c.runtime);
    if (runtime?.hasState(c.id)) await runtime.delete(c.id, true).catch(() => undefined);
    await this.deps.rootfs.unmount(c.id).catch(() => undefined);
    await this.deps.releaseCgroup?.(c.id).catch(() => undefined);
    await this.deps.rootfs.remove(c.id);
    await rm(paths.bundleDir, { recursive: true, force: true });
    await rm(paths.dataDir, { recursive: true, force: true });
    await unlink(join(this.#exitDir, c.id)).catch(() => undefined);
    await this.deps.network?.tearDown(c).catch((err) => this.deps.log.warn({ err, id: c.id }, 'release network'));
    await this.deps.volumes?.forget(c, { anonymous: removeVolumes }).catch((err) => this.deps.log.warn({ err, id: c.id }, 'release volumes'));
    this.repo.delete(c.id);
  }

  // ---- start -------------------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    await this.#lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      switch (c.state.status) {
        case 'running': case 'restarting': throw new EngineError('NotModified', 'container already started');
        case 'paused': throw new EngineError('Conflict', 'cannot start a paused container, try unpause instead');
        case 'removing': case 'dead': throw new EngineError('Conflict', `container is marked for removal and cannot be started`);
        default:
          // A user start begins the restart policy afresh (dockerd: ResetRestartManager(true)).
          this.#restarts.reset(c.id);
          if (c.restartCount !== 0) { c.restartCount = 0; this.repo.saveState(c.id, c.state, 0); }
          await this.#startLocked(c);
      }
    });
  }

  async #startLocked(c: ContainerRecord): Promise<void> {
    const paths = this.paths(c.id);
    const runtime = this.runtimeFor(c.runtime);
    // dockerd refuses these while it builds the spec, before any runtime is involved.
    checkDeviceRequests(c.hostConfig.DeviceRequests);
    // Intent first: mounts, network, cgroups and conmon follow; recovery undoes a start cut short.
    this.#intents.record(START_INTENT, c.id, { prev: { ...c.state } } satisfies StartIntent);
    await mkdir(paths.bundleDir, { recursive: true, mode: 0o700 });
    await mkdir(paths.persistDir, { recursive: true, mode: 0o700 });
    await rm(join(paths.persistDir, 'exit'), { force: true });
    await rm(join(paths.persistDir, 'oom'), { force: true });
    await rm(join(this.#exitDir, c.id), { force: true });
    // A stale runtime record (a crash between create and start) would make create fail.
    if (runtime.hasState(c.id)) await runtime.delete(c.id, true);
    // dockerd reports a network failure as is ("driver failed programming external connectivity
    // on endpoint ...: Bind for 0.0.0.0:80 failed: port is already allocated"), not as a runtime one.
    let networkErr: unknown;
    try {
      // Both settle before the catch below undoes them: a mount still under way would be left behind.
      const [mounted, networked] = await Promise.allSettled([this.deps.rootfs.mount(c.id), this.#setUpNetwork(c)]);
      if (networked.status === 'rejected') throw (networkErr = networked.reason);
      if (mounted.status === 'rejected') throw mounted.reason;
      const [rootfs, sandbox] = [mounted.value, networked.value];
      // Written per start: the address is leased now, and the host's resolvers may have changed.
      if (sandbox) await this.#writeEtcFiles(c, paths, sandbox);
      const mounts = this.deps.volumes ? await this.deps.volumes.setUp(c, rootfs) : [];
      await this.deps.writeSpec(c, { rootfs, paths, mounts, ...(sandbox?.netnsPath ? { netnsPath: sandbox.netnsPath } : {}), ...(sandbox?.linkEnv?.length ? { linkEnv: sandbox.linkEnv } : {}) });
      const log = c.hostConfig.LogConfig?.Type === 'none' ? null : paths.logPath;
      const { maxSize, maxFile } = this.logLimits(c);
      this.#runs.set(c.id, newRun());
      const { pid, conmonPid } = await this.deps.monitor.launch(runtime, {
        id: c.id, name: c.name, bundleDir: paths.bundleDir,
        logPath: log, logSizeMax: conmonLogCap(maxSize, maxFile), tty: !!c.config.Tty, stdin: !!c.config.OpenStdin,
        // StdinOnce closes stdin when the first attach goes, but never for a tty (docker: detach, then attach again).
        leaveStdinOpen: !c.config.StdinOnce || !!c.config.Tty, pidFile: paths.pidFile, conmonPidFile: paths.conmonPidFile,
        exitDir: this.#exitDir, persistDir: paths.persistDir,
      });
      c.state = { ...c.state, status: 'running', pid, conmonPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), stoppedByUser: false };
      this.repo.saveState(c.id, c.state);
      const hooks = this.#beforeStart.get(c.id) ?? [];
      this.#beforeStart.delete(c.id);
      this.#attachable.add(c.id);
      await Promise.all(hooks.map((h) => h(paths.attachSocket).catch((err) => this.deps.log.warn({ err, id: c.id }, 'attach before start'))));
      if (sandbox?.ready) await sandbox.ready.catch((err: unknown) => { throw (networkErr = err); });
      await runtime.start(c.id);
      this.#intents.clear(START_INTENT, c.id);
      this.deps.health?.begin(c);
      if (log) this.#rotator.watch(c.id, { logPath: log, ctlFifo: paths.ctlFifo, ...this.logLimits(c) });
    } catch (err) {
      this.#runs.get(c.id)?.done();
      this.#runs.delete(c.id);
      this.#attachable.delete(c.id);
      // Attaches waiting for this start end now; they would otherwise hang.
      const hooks = this.#beforeStart.get(c.id) ?? [];
      this.#beforeStart.delete(c.id);
      for (const h of hooks) void h(null).catch(() => undefined);
      await this.#releaseRun(c);
      // The runtime's own words never reach the user: dockerd's (containerd's runc shim's) do.
      const msg = err instanceof RuntimeCreateError
        ? createFailedMessage(runtime.name, err.runtimeMessage, processArgv0(c))
        : `failed to create task for container: OCI runtime create failed: ${messageOf(err)}: unknown`;
      const code = startFailureExitCode(msg);
      c.state = { ...c.state, status: c.state.startedAt === ZERO_TIME ? 'created' : 'exited', pid: 0, conmonPid: 0, exitCode: code, error: msg };
      this.repo.saveState(c.id, c.state);
      this.#intents.clear(START_INTENT, c.id);
      // Docker removes an --rm container whose start failed; `docker run --rm` waits for that.
      if (c.hostConfig.AutoRemove) setImmediate(() => void this.remove(c.id, { force: true, volumes: true }).catch(() => undefined));
      if (err === networkErr && err instanceof EngineError) throw err;
      // dockerd answers a command that cannot be run as the client's fault (startInvalidConfigError).
      const kind = err instanceof RuntimeCreateError ? (isInvalidStartConfig(msg) ? 'InvalidParameter' : 'Internal')
        : err instanceof EngineError ? err.kind : 'Internal';
      throw new EngineError(kind, msg, { cause: err });
    }
    this.deps.events.publish('container', 'start', c.id, this.#attrs(c));
  }

  /** Everything one run holds on the host, released (a failed or undone start). Idempotent. */
  async #releaseRun(c: ContainerRecord): Promise<void> {
    const warn = (what: string) => (err: unknown) => this.deps.log.warn({ err, id: c.id }, what);
    await this.deps.runtimes.get(c.runtime)?.delete(c.id, true).catch(warn('runtime delete'));
    await this.deps.rootfs.unmount(c.id).catch(warn('unmount rootfs'));
    await this.deps.network?.tearDown(c).catch(warn('release network'));
    await this.deps.volumes?.release(c).catch(warn('release volumes'));
    await this.deps.releaseCgroup?.(c.id).catch(warn('release cgroup'));
  }

  /** The network for a start; a mount failure in parallel must not leave it behind. */
  async #setUpNetwork(c: ContainerRecord): Promise<SandboxInfo | undefined> {
    if (!this.deps.network) return undefined;
    return this.deps.network.setUp(c);
  }

  /** max-size and max-file for the container's log, with berth's default cap. */
  logLimits(c: ContainerRecord): { maxSize: number; maxFile: number } {
    const cfg = c.hostConfig.LogConfig?.Config ?? {};
    const maxSize = cfg['max-size'] ? parseBytes(cfg['max-size']) : this.deps.config.defaultLogMaxSize;
    const maxFile = cfg['max-file'] ? Number(cfg['max-file']) : this.deps.config.defaultLogMaxFile;
    return { maxSize, maxFile };
  }

  // ---- exit handling -----------------------------------------------------------------------

  /** Start-up: watches conmon's exit files, then recovers every container (recover-containers.ts). */
  async recover(): Promise<void> {
    mkdirSync(this.#exitDir, { recursive: true });
    this.#exitWatcher = watch(this.#exitDir, (_ev, file) => { if (file) void this.#onExitFile(String(file)); });
    await recoverContainers({
      repo: this.repo, intents: this.#intents, deps: this.deps, exitDir: this.#exitDir,
      paths: (id) => this.paths(id), isRunning: (id) => this.isRunning(id), locked: (id, fn) => this.#lock.run(id, fn),
      onExitFile: (name) => this.#onExitFile(name), discard: (c, volumes) => this.#discard(c, volumes), releaseRun: (c) => this.#releaseRun(c),
      settleExit: (c, code) => this.#settleExit(c, code), autoRemove: (c) => this.#removeLocked(c, true),
      scheduleRestart: (id) => this.#restarts.schedule(id, 0),
      adopt: (c) => {
        this.#runs.set(c.id, newRun());
        this.#attachable.add(c.id);
        if (c.hostConfig.LogConfig?.Type !== 'none') {
          const paths = this.paths(c.id);
          this.#rotator.watch(c.id, { logPath: paths.logPath, ctlFifo: paths.ctlFifo, ...this.logLimits(c) });
        }
      },
    });
  }

  async #onExitFile(id: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(id)) return;
    const file = join(this.#exitDir, id);
    let text: string;
    try { text = await readFile(file, 'utf8'); } catch { return; }
    if (text.trim() === '') return; // conmon writes then renames; a partial read comes again
    await this.#lock.run(id, async () => {
      const c = this.repo.get(id);
      // A restarting container has no process: an exit file then is the settled run's leftover.
      if (!c || (c.state.status !== 'running' && c.state.status !== 'paused')) {
        await unlink(file).catch(() => undefined);
        return;
      }
      await this.#settleExit(c, Number(text.trim()));
      await unlink(file).catch(() => undefined);
    });
  }

  /** Records an exit: runtime state and rootfs released, waiters told, --rm honoured. Holds the lock. */
  async #settleExit(c: ContainerRecord, exitCode: number): Promise<void> {
    this.deps.health?.end(c.id);
    const paths = this.paths(c.id);
    const oom = existsSync(join(paths.persistDir, 'oom'));
    const code = Number.isFinite(exitCode) ? exitCode : 255;
    const backoff = c.hostConfig.AutoRemove ? undefined : this.#restarts.plan(c.id, {
      policy: c.hostConfig.RestartPolicy, exitCode: code, stoppedByUser: !!c.state.stoppedByUser, restartCount: c.restartCount,
      ranMs: Date.now() - Date.parse(c.state.startedAt),
    });
    // The exit is recorded and told first; the cleanup below still holds the lock, so nothing can
    // start or remove this container until it is done. A policy restart shows `restarting` meanwhile.
    c.state = { ...c.state, status: backoff === undefined ? 'exited' : 'restarting', pid: 0, conmonPid: 0, exitCode: code, oomKilled: oom, finishedAt: new Date().toISOString() };
    if (backoff !== undefined) c.restartCount++;
    this.repo.saveState(c.id, c.state, backoff === undefined ? undefined : c.restartCount);
    if (oom) this.deps.events.publish('container', 'oom', c.id, this.#attrs(c));
    const execDuration = String(Math.max(0, Math.floor((Date.now() - Date.parse(c.state.startedAt)) / 1000) || 0));
    this.deps.events.publish('container', 'die', c.id, { ...this.#attrs(c), exitCode: String(c.state.exitCode), execDuration });
    const run = this.#runs.get(c.id);
    this.#runs.delete(c.id);
    this.#attachable.delete(c.id);
    this.#rotator.unwatch(c.id);
    run?.done();
    this.#notify(c.id, ['not-running', 'next-exit'], { StatusCode: c.state.exitCode, Error: null });
    const runtime = this.deps.runtimes.get(c.runtime);
    // Independent: the runtime record and cgroup, and our overlay mount in the host namespace.
    await Promise.all([
      runtime?.delete(c.id, true).catch((err) => this.deps.log.warn({ err, id: c.id }, 'runtime delete')),
      this.deps.rootfs.unmount(c.id).catch((err) => this.deps.log.warn({ err, id: c.id }, 'unmount rootfs')),
      this.deps.network?.tearDown(c).catch((err) => this.deps.log.warn({ err, id: c.id }, 'release network')),
      this.deps.volumes?.release(c).catch((err) => this.deps.log.warn({ err, id: c.id }, 'release volumes')),
    ]);
    // Policy restarts emit die, then start (no `restart` event: that is `docker restart`'s).
    if (backoff !== undefined) this.#restarts.schedule(c.id, backoff);
    // --rm: removed right here, under the same lock, so `wait --condition removed` returns soonest.
    else if (c.hostConfig.AutoRemove) await this.#removeLocked(c, true).catch((err) => this.deps.log.warn({ err, id: c.id }, 'auto-remove'));
  }

  /** A restart policy's wait is over: start again, unless a stop, kill or rm came meanwhile. */
  async #policyRestart(id: string): Promise<void> {
    await this.#lock.run(id, async () => {
      const c = this.repo.get(id);
      if (c?.state.status !== 'restarting') return;
      // A failed start leaves it exited, and dockerd tries no more.
      await this.#startLocked(c);
    });
  }

  /**
   * The first half of a user's stop, kill or rm -f, under the lock so that no exit is being settled
   * and no policy restart is starting meanwhile. A container waiting out its back-off is left
   * exited (`cancelled`: nothing more to do). A running one is marked stopped by the user (when
   * `markStopped`) before any signal is sent, so its exit cannot schedule a restart, however soon
   * it comes (`running`: the caller signals it, outside the lock, as the exit needs the lock).
   * Deciding on a snapshot taken outside the lock raced a restart that came in between: the stop
   * found nothing running and the restart loop went on.
   */
  async #beginUserStop(id: string, opts: { markStopped: boolean }): Promise<{ outcome: 'cancelled' | 'running' | 'not-running'; record: ContainerRecord }> {
    return this.#lock.run(id, async () => {
      const cur = this.repo.get(id);
      if (!cur) throw new EngineError('NotFound', `No such container: ${id}`);
      if (cur.state.status === 'restarting') {
        this.#restarts.cancel(id);
        cur.state = { ...cur.state, status: 'exited', stoppedByUser: true };
        this.repo.saveState(id, cur.state);
        return { outcome: 'cancelled', record: cur };
      }
      if (!this.isRunning(id)) return { outcome: 'not-running', record: cur };
      if (opts.markStopped) this.repo.markStoppedByUser(id);
      return { outcome: 'running', record: cur };
    });
  }

  /**
   * Daemon start-up, after recovery and networking: containers whose policy wants them running
   * again start now (dockerd's restore: started before, not stopped by the user), with a fresh
   * count; then restart waits may fire.
   */
  async applyRestartPolicies(): Promise<void> {
    for (const c of this.list()) {
      if (c.state.status !== 'exited' || c.state.startedAt === ZERO_TIME) continue;
      const wants = policyWantsRestart({ policy: c.hostConfig.RestartPolicy, exitCode: c.state.exitCode, stoppedByUser: !!c.state.stoppedByUser, restartCount: c.restartCount });
      if (!wants) continue;
      await this.start(c.id).catch((err: unknown) => this.deps.log.warn({ err, id: c.id }, 'restart policy at start-up'));
    }
    this.#restarts.ready();
  }

  /** Resolves when the container's current run ends (immediately if it is not running). */
  exited(id: string): Promise<void> {
    return this.#runs.get(id)?.exited ?? Promise.resolve();
  }

  /**
   * Runs `fn` with conmon's attach socket: now if the container's monitor is up, else when the
   * container next starts, before its process runs (dockerd's attach to a created or stopped
   * container waits for the start). `fn` gets null if that start fails. A start already under way
   * but whose monitor is not up yet still counts as the next start.
   */
  whenAttachable(id: string, fn: (attachSocket: string | null) => Promise<void>): void {
    if (this.#attachable.has(id)) {
      void fn(this.paths(id).attachSocket).catch((err) => this.deps.log.warn({ err, id }, 'attach'));
      return;
    }
    const list = this.#beforeStart.get(id) ?? [];
    list.push(fn);
    this.#beforeStart.set(id, list);
  }

  /** Runs `fn` holding the container's lifecycle lock (no start, stop or exit interleaves). */
  runLocked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(id, fn);
  }

  isRunning(id: string): boolean {
    return this.#runs.has(id);
  }

  // ---- wait --------------------------------------------------------------------------------

  /**
   * Waits for a condition; the promise settles with the exit status. Registered synchronously, so
   * a `wait` sent before `start` (as `docker run` does) cannot miss the exit.
   */
  wait(ref: string, cond: WaitCondition, signal?: AbortSignal): Promise<ContainerWaitResponse> {
    const c = this.resolve(ref);
    const running = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting';
    if (cond === 'not-running' && !running) return Promise.resolve({ StatusCode: c.state.exitCode, Error: null });
    return new Promise((resolve, reject) => {
      const set = this.#waiters.get(c.id) ?? new Set<Waiter>();
      this.#waiters.set(c.id, set);
      const w: Waiter = { cond, resolve: (r) => { set.delete(w); resolve(r); } };
      set.add(w);
      signal?.addEventListener('abort', () => { set.delete(w); reject(new EngineError('Canceled', 'wait canceled')); });
    });
  }

  #notify(id: string, conds: WaitCondition[], r: ContainerWaitResponse): void {
    for (const w of [...(this.#waiters.get(id) ?? [])]) if (conds.includes(w.cond)) w.resolve(r);
  }

  // ---- stop / kill / restart / pause -------------------------------------------------------

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const { outcome, record: c } = await this.#beginUserStop(this.resolve(ref).id, { markStopped: true });
    if (outcome === 'cancelled') {
      this.deps.events.publish('container', 'stop', c.id, this.#attrs(c));
      return;
    }
    if (outcome === 'not-running') throw new EngineError('NotModified', 'container already stopped');
    await this.#stopRunning(c, opts);
  }

  async #stopRunning(c: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    const runtime = this.runtimeFor(c.runtime);
    // The caller marked it stopped by the user under the lock (#beginUserStop).
    const exited = this.exited(c.id);
    const sig = normalizeSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
    if (c.state.status === 'paused') {
      // A frozen process cannot handle a signal; Docker kills it outright.
      await runtime.kill(c.id, 'SIGKILL', true).catch(() => undefined);
      await runtime.resume(c.id).catch(() => undefined);
    } else if (timeout !== 0) {
      await runtime.kill(c.id, sig).catch(() => undefined);
    }
    const inTime = timeout < 0 ? await exited.then(() => true) : await within(exited, timeout * 1000);
    if (!inTime) {
      await runtime.kill(c.id, 'SIGKILL', true).catch(() => undefined);
      await exited;
    }
    this.deps.events.publish('container', 'stop', c.id, this.#attrs(c));
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const sig = normalizeSignal(signal);
    const markStopped = sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT';
    const { outcome, record: c } = await this.#beginUserStop(this.resolve(ref).id, { markStopped });
    // dockerd: a kill between runs sends nothing; it only ends the restart policy's wait.
    if (outcome === 'cancelled') {
      this.deps.events.publish('container', 'kill', c.id, { ...this.#attrs(c), signal: String(signalNumberOf(sig)) });
      return;
    }
    if (outcome === 'not-running') throw new EngineError('Conflict', `Cannot kill container: ${ref}: Container ${c.id} is not running`);
    const runtime = this.runtimeFor(c.runtime);
    const exited = this.exited(c.id);
    // A process that ended before its exit was recorded is no error (dockerd: no such process).
    const gone = await runtime.kill(c.id, sig).then(() => false, async (err: unknown) => {
      if (await this.#runtimeStopped(c)) return true;
      throw withRuntimeCause(err, `Cannot kill container ${c.id}`);
    });
    // A frozen process acts on no signal: dockerd thaws it after SIGKILL or the stop signal.
    const stopSignal = normalizeSignal(c.config.StopSignal || 'SIGTERM');
    if (!gone && c.state.status === 'paused' && (sig === 'SIGKILL' || sig === stopSignal)) await runtime.resume(c.id).catch(() => undefined);
    this.deps.events.publish('container', 'kill', c.id, { ...this.#attrs(c), signal: String(signalNumberOf(sig)) });
    // dockerd answers a SIGKILL once the exit is recorded (10s, then a kill of every process, 2s more),
    // so an inspect or rm right after sees the container stopped.
    if (sig !== 'SIGKILL') return;
    if (await within(exited, 10_000)) return;
    await runtime.kill(c.id, 'SIGKILL', true).catch(() => undefined);
    if (!await within(exited, 2_000)) throw new EngineError('Internal', 'tried to kill container, but did not receive an exit event');
  }

  /** True when the runtime no longer has the container's process (its exit may not be recorded yet). */
  async #runtimeStopped(c: ContainerRecord): Promise<boolean> {
    const st = await this.runtimeFor(c.runtime).state(c.id).catch(() => null);
    return st === null || st.status === 'stopped';
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const { outcome, record: c } = await this.#beginUserStop(this.resolve(ref).id, { markStopped: true });
    if (outcome === 'running') await this.#stopRunning(c, opts);
    await this.start(c.id);
    this.deps.events.publish('container', 'restart', c.id, this.#attrs(c));
  }

  /**
   * Freezes the container. `transient`: berth pauses it for its own work (commit) and will unpause
   * it; the intent is recorded, so that a crash in between does not leave it paused for good.
   */
  async pause(ref: string, opts: { transient?: boolean } = {}): Promise<void> {
    const c0 = this.resolve(ref);
    await this.#lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      if (c.state.status === 'paused') throw new EngineError('Conflict', `Container ${c.id} is already paused`);
      if (c.state.status !== 'running') throw new EngineError('Conflict', `Container ${c.id} is not running`);
      this.deps.health?.end(c.id);
      if (opts.transient) this.#intents.record(PAUSE_INTENT, c.id);
      await this.runtimeFor(c.runtime).pause(c.id).catch(async (err: unknown) => {
        this.#intents.clear(PAUSE_INTENT, c.id);
        // It ended and its exit is on the way: not running, as dockerd says, not the runtime's error.
        if (await this.#runtimeStopped(c)) throw new EngineError('Conflict', `Container ${c.id} is not running`, { cause: err });
        this.deps.health?.begin(c, { reset: false });
        throw withRuntimeCause(err, `cannot pause container ${c.id}`);
      });
      c.state.status = 'paused';
      this.repo.saveState(c.id, c.state);
      this.deps.events.publish('container', 'pause', c.id, this.#attrs(c));
    });
  }

  async unpause(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    await this.#lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      if (c.state.status !== 'paused') throw new EngineError('Conflict', `Container ${c.id} is not paused`);
      await this.runtimeFor(c.runtime).resume(c.id).catch(async (err: unknown) => {
        if (await this.#runtimeStopped(c)) throw new EngineError('Conflict', `Container ${c.id} is not paused`, { cause: err });
        throw withRuntimeCause(err, `Cannot unpause container ${c.id}`);
      });
      c.state.status = 'running';
      this.repo.saveState(c.id, c.state);
      this.#intents.clear(PAUSE_INTENT, c.id);
      this.deps.health?.begin(c, { reset: false });
      this.deps.events.publish('container', 'unpause', c.id, this.#attrs(c));
    });
  }

  // ---- remove / rename ---------------------------------------------------------------------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c0 = this.resolve(ref);
    if (c0.state.status === 'removing') throw new EngineError('Conflict', `removal of container ${c0.id} is already in progress`);
    if (!opts.force) this.#refuseRemovalIfActive(c0);
    // -f: the restart policy's wait ends, or the process is marked stopped before it is killed,
    // so that no restart can come between this and the removal.
    const { outcome, record: c } = opts.force ? await this.#beginUserStop(c0.id, { markStopped: true }) : { outcome: 'not-running' as const, record: c0 };
    if (outcome === 'running') {
      const exited = this.exited(c.id);
      await this.runtimeFor(c.runtime).kill(c.id, 'SIGKILL', true).catch(() => undefined);
      if (c.state.status === 'paused') await this.runtimeFor(c.runtime).resume(c.id).catch(() => undefined);
      await within(exited, 15_000);
    }
    await this.#lock.run(c.id, async () => {
      const cur = this.repo.get(c.id);
      if (!cur) return;
      // Checked again under the lock: a start may have come since the first look.
      if (!opts.force) this.#refuseRemovalIfActive(cur);
      await this.#removeLocked(cur, !!opts.volumes);
    });
  }

  /** Without -f, a running, paused or restarting container stays (dockerd's wording). */
  #refuseRemovalIfActive(c: ContainerRecord): void {
    if (c.state.status !== 'restarting' && !this.isRunning(c.id)) return;
    throw removeConflict(c, c.state.status === 'restarting' ? 'restarting' : c.state.status === 'paused' ? 'paused' : 'running');
  }

  /**
   * POST /containers/prune: removes every container the filters select (prune.ts); one that cannot
   * go (a start raced the prune) is skipped, as dockerd does. InvalidParameter for bad filters.
   * @returns the IDs removed and the bytes their writable layers held
   */
  async prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }> {
    const selected = containerPrunePredicate(filters);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.list().filter(selected)) {
      const size = await this.deps.writableLayerSize?.(c.id).catch(() => 0) ?? 0;
      try {
        await this.remove(c.id);
      } catch (err) {
        this.deps.log.warn({ err, id: c.id }, 'prune container');
        continue;
      }
      deleted.push(c.id);
      reclaimed += size;
    }
    this.deps.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /** Removal proper, the container's lock held: intent recorded, every trace gone, waiters told. */
  async #removeLocked(cur: ContainerRecord, volumes = false): Promise<void> {
    // Intent first: recovery finishes the removal, with the volumes if they were asked for.
    this.#intents.record(REMOVE_INTENT, cur.id, { volumes } satisfies RemoveIntent);
    cur.state.status = 'removing';
    this.repo.saveState(cur.id, cur.state);
    this.deps.health?.end(cur.id);
    await this.#discard(cur, volumes);
    this.#intents.clear(REMOVE_INTENT, cur.id);
    this.#restarts.reset(cur.id);
    this.deps.events.publish('container', 'destroy', cur.id, this.#attrs(cur));
    this.#notify(cur.id, ['removed', 'not-running', 'next-exit'], { StatusCode: cur.state.exitCode, Error: null });
    this.#waiters.delete(cur.id);
    // Attaches waiting for a start that can no longer come end now.
    for (const h of this.#beforeStart.get(cur.id) ?? []) void h(null).catch(() => undefined);
    this.#beforeStart.delete(cur.id);
    this.deps.afterRemove?.(cur.id);
  }

  // ---- networks ----------------------------------------------------------------------------

  /** network connect, under the container's lock (a start or exit cannot interleave). */
  async connectNetwork(ref: string, network: string, cfg: EndpointSettings): Promise<void> {
    const c0 = this.resolve(ref);
    const net = this.#networkHooks();
    await this.#lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      if (c.state.status === 'paused') throw new EngineError('Conflict', `Container ${c.id} is paused`);
      await net.connect(c, this.isRunning(c.id), network, cfg);
    });
  }

  async disconnectNetwork(ref: string, network: string): Promise<void> {
    const c0 = this.resolve(ref);
    const net = this.#networkHooks();
    await this.#lock.run(c0.id, async () => {
      const c = this.repo.get(c0.id)!;
      await net.disconnect(c, this.isRunning(c.id), network);
    });
  }

  #networkHooks(): NonNullable<ContainerServiceDeps['network']> {
    if (!this.deps.network) throw new EngineError('NotImplemented', 'networking is not enabled in this daemon');
    return this.deps.network;
  }

  rename(ref: string, newName: string): void {
    const c = this.resolve(ref);
    const name = newName.replace(/^\//, '');
    if (!isValidContainerName(name)) throw new EngineError('InvalidParameter', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === c.name) throw new EngineError('InvalidParameter', `Renaming a container with the same name as its current name`);
    this.repo.rename(c.id, name);
    if (this.isRunning(c.id)) this.deps.network?.refreshDns({ ...c, name });
    this.deps.events.publish('container', 'rename', c.id, { ...this.#attrs({ ...c, name }), oldName: `/${c.name}` });
  }

  // ---- lookups -----------------------------------------------------------------------------

  /** A visible container by ID, prefix or name; half-created ones do not exist for clients. */
  #tryResolve(ref: string): ContainerRecord | undefined {
    try { return this.resolve(ref); } catch { return undefined; }
  }

  resolve(ref: string): ContainerRecord {
    const c = this.repo.resolve(ref);
    if (c.state.status === 'creating') throw new EngineError('NotFound', `No such container: ${ref}`);
    return c;
  }

  list(): ContainerRecord[] {
    return this.repo.all().filter((c) => c.state.status !== 'creating');
  }

  #attrs(c: ContainerRecord): Record<string, string> {
    return { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name };
  }

  close(): void {
    this.#restarts.close();
    this.#exitWatcher?.close();
    this.#rotator.close();
  }
}

/** The handle of one run of a container: `exited` settles when `done` is called. */
function newRun(): { exited: Promise<void>; done: () => void } {
  let done!: () => void;
  const exited = new Promise<void>((r) => { done = r; });
  return { exited, done };
}

/**
 * conmon's own truncation cap: only a guard for while berthd is down (berthd rotates). conmon counts
 * bytes since its last truncation, not since our reopen, so a tight cap would cut a live file
 * between our rotations and lose lines: keep it at 10x the rotation budget, 100 MB at least.
 */
export function conmonLogCap(maxSize: number, maxFile: number): number {
  return maxSize > 0 ? Math.max(maxSize * Math.max(1, maxFile) * 10, 100 * 1024 * 1024) : 0;
}

/**
 * A refused rm in dockerd 25's words (API 1.44 on); clients of older APIs get dockerd 24's, which
 * docker-py and scripts match on ("You cannot remove a running container ...").
 */
function removeConflict(c: ContainerRecord, state: 'running' | 'paused' | 'restarting'): EngineError {
  const message = state === 'paused'
    ? `cannot remove container "/${c.name}": container is paused and must be unpaused first`
    : `cannot remove container "/${c.name}": container is ${state}: stop the container before removing or force remove`;
  const legacy = state === 'paused'
    ? `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`
    : `You cannot remove a ${state} container ${c.id}. Stop the container before attempting removal or force remove`;
  return new EngineError('Conflict', message, { legacy: { until: '1.44', message: legacy } });
}

/** True when `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}


/** The program a container's process runs (its entrypoint's or command's first word). */
function processArgv0(c: ContainerRecord): string {
  return c.config.Entrypoint?.[0] ?? c.config.Cmd?.[0] ?? '';
}
