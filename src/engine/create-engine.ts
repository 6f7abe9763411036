import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { totalmem } from 'node:os';
import { EngineError, messageOf } from '../lib/errors.ts';
import { execFile } from '../lib/exec.ts';
import { NativeHelper, defaultHelperPath } from '../lib/native-helper.ts';
import { openDb, type Db } from '../store/db.ts';
import { FsBlobStore } from '../store/blob-store.ts';
import { OverlaySnapshotter } from '../snapshot/index.ts';
import { OciRuntimeCli } from '../runtime/oci-runtime.ts';
import { ConmonMonitor } from '../runtime/conmon.ts';
import type { Monitor } from '../runtime/monitor.ts';
import { cgroupChildren, cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup, type CgroupLayout } from '../runtime/cgroups/host.ts';
import { SeccompBpfCache } from '../runtime/spec/seccomp-bpf.ts';
import { RegistryClient } from '../registry/client/index.ts';
import { BridgeDriver } from '../network/index.ts';
import type { Engine, EngineConfig, EngineLog } from './contracts/engine.ts';
import { EventBus } from './events.ts';
import { ContainerService } from './containers/service.ts';
import { ExecService } from './containers/exec.ts';
import { HealthMonitor } from './containers/health.ts';
import { makeSpecWriter } from './containers/spec-writer.ts';
import { ContainerStatsReader } from './containers/stats.ts';
import { updateContainer } from './containers/update.ts';
import { cgroupPathOf } from './containers/resource-devices.ts';
import { ContainerFiles } from './containers/archive.ts';
import { commitContainer } from './containers/commit.ts';
import { SharedRootfs } from './containers/rootfs-users.ts';
import { ContainerEngineImpl } from './containers/container-engine.ts';
import { ImageService } from './images/index.ts';
import { BuildCache } from './builds/build-cache.ts';
import { BuildService } from './builds/build-service.ts';
import { DnsHub } from './networks/dns-hub.ts';
import { NetworkService } from './networks/service.ts';
import { ContainerNetworks } from './networks/container-networks.ts';
import { NetworkEngineImpl } from './networks/network-engine.ts';
import { VolumeService } from './volumes/service.ts';
import { collectOrphans, collectOrphansAtStart, findOrphans, type GcDeps } from './system/gc.ts';
import { containerLogUsage, imageLayerUsage } from './system/disk-usage.ts';
import { SystemEngineImpl } from './system/system-engine.ts';
import { engineInfo } from './system/info.ts';
import { readComponentVersions } from './system/versions.ts';
import { recoverEngine } from './recovery.ts';

const SILENT: EngineLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The stores and host edges every service shares. */
interface Base {
  cfg: Required<Pick<EngineConfig, 'conmonPath' | 'tiniPath'>> & EngineConfig;
  log: EngineLog;
  helper: NativeHelper;
  cgroupLayout: CgroupLayout;
  cgroupParent: string;
  db: Db;
  events: EventBus;
  snapshots: OverlaySnapshotter;
  rootfs: SharedRootfs;
  driver: BridgeDriver;
  /** conmon: launches, attaches to and resizes containers. */
  monitor: Monitor;
}

/**
 * The engine's composition root: constructs the concrete services in dependency order, runs
 * start-up recovery (engine/recovery.ts), and returns the public interfaces. The caller holds the
 * data root (berthd's lock file) and closes the engine when done. Throws what recovery cannot get past.
 */
export async function createEngine(config: EngineConfig, deps: { log?: EngineLog } = {}): Promise<Engine> {
  const log = deps.log ?? SILENT;
  const cfg = { conmonPath: '/usr/bin/conmon', tiniPath: '/usr/bin/tini-static', ...config };
  for (const dir of [cfg.dataRoot, cfg.execRoot]) mkdirSync(dir, { recursive: true, mode: 0o711 });
  await ensureRuntimeCanRun(execFile).catch((err) => log.warn({ err: messageOf(err) }, 'cgroup setup for crun'));
  // After ensureRuntimeCanRun: it may have given a controller its own v1 hierarchy.
  const cgroupLayout = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
  mkdirSync(join(cfg.execRoot, 'netns'), { recursive: true, mode: 0o700 });
  const snapshots = new OverlaySnapshotter({ root: join(cfg.dataRoot, 'overlay'), exec: execFile });
  const helper = new NativeHelper({ path: defaultHelperPath() });
  const base: Base = {
    cfg, log, cgroupLayout, cgroupParent: `/${cfg.objectPrefix}`,
    helper,
    db: openDb(join(cfg.dataRoot, 'berth.db')),
    events: new EventBus(),
    snapshots,
    // cp/export/commit hold a container's rootfs mounted while they work; exits wait for them.
    rootfs: new SharedRootfs(snapshots),
    monitor: new ConmonMonitor({ path: cfg.conmonPath, exec: execFile, connectAttach: (path, o) => helper.attach(path, o) }),
    driver: new BridgeDriver({ exec: execFile, table: cfg.objectPrefix, ifPrefix: cfg.ifPrefix, netnsDir: join(cfg.execRoot, 'netns'), log }),
  };
  // Asked once, while the rest starts: `version` shows them.
  const components = readComponentVersions(execFile, [
    { name: 'conmon', path: cfg.conmonPath },
    { name: cfg.defaultRuntime, path: cfg.runtimes[cfg.defaultRuntime] ?? cfg.defaultRuntime },
    { name: 'tini', path: cfg.tiniPath },
  ]);
  const s = wireServices(base);
  const gcDeps: GcDeps = { db: base.db, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, removeSnapshot: (id: string) => snapshots.remove(id) };
  const engine = publicEngine(base, s, gcDeps, components);
  try {
    await recoverEngine({
      snapshots, images: s.images, networks: s.networks, containers: s.containers, execs: s.execs, builds: s.builds,
      volumes: s.volumes, attachments: s.attachments, log, collectOrphans: () => collectOrphansAtStart(gcDeps, log),
    });
  } catch (err) {
    // An embedder (not only berthd, which exits) gets the database and timers back.
    await engine.close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'close after failed recovery'));
    throw err;
  }
  return engine;
}

type Services = ReturnType<typeof wireServices>;

/** The services, wired to each other through closures (some refer to ones made after them). */
function wireServices(b: Base) {
  const { cfg, log, db, events, snapshots, helper, driver } = b;
  let containers!: ContainerService;
  const buildCache = new BuildCache(db);
  const images = new ImageService({
    isIntermediate: (id) => buildCache.isIntermediate(id),
    db, blobs: new FsBlobStore(cfg.dataRoot), snapshotter: snapshots, dataRoot: cfg.dataRoot,
    makeWhiteouts: (root, entries) => helper.makeWhiteouts(root, entries),
    containersUsingImage: (id) => containers.repo.usingImage(id).map((cid) => ({ id: cid, running: containers.isRunning(cid) })),
    events: (action, id, attrs) => events.publish('image', action, id, attrs),
    registry: new RegistryClient({ insecureRegistries: cfg.insecureRegistries, mirrors: cfg.registryMirrors }, log),
    maxConcurrentDownloads: cfg.maxConcurrentDownloads,
    maxConcurrentUploads: cfg.maxConcurrentUploads,
  });
  const dns = new DnsHub({ hostResolvConf: cfg.hostResolvConf, log });
  const networks = new NetworkService({
    db, driver, dns, events, log, isRunning: (id) => containers.isRunning(id),
    config: {
      defaultBridge: `${cfg.ifPrefix}0`, ifPrefix: cfg.ifPrefix,
      ...(cfg.bip ? { bip: cfg.bip } : {}), ...(cfg.defaultAddressPools ? { defaultAddressPools: cfg.defaultAddressPools } : {}),
      // dockerd: --fixed-cidr-v6 without --ipv6 gives the default bridge no IPv6.
      ...(cfg.ipv6 && cfg.fixedCidrV6 ? { fixedCidrV6: cfg.fixedCidrV6 } : {}),
    },
  });
  const attachments = new ContainerNetworks({
    networks, driver, dns, events, log, ifPrefix: cfg.ifPrefix,
    container: (ref) => {
      const c = containers.resolve(ref);
      return { ...c, running: containers.isRunning(c.id) };
    },
  });
  const volumes = new VolumeService({
    db, events, log, root: join(cfg.dataRoot, 'volumes'), exec: execFile,
    resolveInRoot: (root, path) => helper.resolveInRoot(root, path),
    resolveContainer: (ref) => containers.resolve(ref).id,
  });
  const c = wireContainers(b, { images, networks, attachments, volumes });
  containers = c.containers;
  const builds = new BuildService({
    images, containers, snapshots, helper, cache: buildCache, dataRoot: cfg.dataRoot, warn: (msg) => log.warn(msg),
    leftovers: () => containers.list().map((r) => ({ id: r.id, labels: r.config.Labels ?? {} })),
    snapshotDir: join(cfg.dataRoot, 'overlay', 'containers'),
  });
  return { images, networks, attachments, volumes, builds, ...c };
}

/** The container service and what runs beside it (execs, health checks, the image GC timer). */
function wireContainers(b: Base, s: Pick<Services, 'images' | 'networks' | 'attachments' | 'volumes'>) {
  const { cfg, log, db, events, snapshots, helper, rootfs, cgroupLayout, cgroupParent } = b;
  const { images, networks, attachments, volumes } = s;
  // Layers freed by removed containers are collected once things are quiet, not on the rm path.
  const gc = { timer: undefined as NodeJS.Timeout | undefined };
  const scheduleImageGc = () => {
    gc.timer ??= setTimeout(() => {
      gc.timer = undefined;
      void images.gc().catch((err) => log.warn({ err }, 'image gc'));
    }, 1000).unref();
  };
  const runtimes = new Map(Object.entries(cfg.runtimes).map(([name, path]) =>
    [name, new OciRuntimeCli({ name, path, root: join(cfg.execRoot, 'runtime', name), exec: execFile })]));
  const containers: ContainerService = new ContainerService({
    db, images, rootfs, runtimes, events, log, volumes, monitor: b.monitor,
    network: {
      plan: (c, nc) => attachments.plan(c, nc),
      setUp: (c) => attachments.setUp(c),
      tearDown: (c) => attachments.tearDown(c),
      refreshDns: (c) => attachments.refreshDns(c),
      connect: (c, running, net, epCfg) => attachments.connect(c, running, net, epCfg),
      disconnect: (c, running, net) => attachments.disconnect(c, running, net),
      removeLink: (c, alias) => attachments.removeLink(c, alias),
      hostGateway: () => networks.repo.byName('bridge')?.gateway,
    },
    cgroupIds: () => cgroupChildren(cgroupParent, cgroupLayout),
    releaseCgroup: (id) => removeCgroup(cgroupPathsFor(cgroupPathOf(containers.repo.get(id)?.hostConfig ?? {}, id, cgroupParent), cgroupLayout), { retries: 5 }),
    afterRemove: (id) => { execs.forgetContainer(id); scheduleImageGc(); },
    writableLayerSize: (id) => snapshots.upperSize(id),
    health: { begin: (c, o) => health.begin(c, o), end: (id) => health.end(id) },
    writeSpec: makeSpecWriter({
      cgroupParent, tiniPath: cfg.tiniPath,
      pidOf: (ref) => {
        const c = containers.resolve(ref);
        if (!containers.isRunning(c.id)) throw new EngineError('Conflict', `cannot join namespaces of container ${ref}: it is not running`);
        return c.state.pid;
      },
      // crun loads a program compiled once per profile instead of compiling it on every create.
      bpfCache: new SeccompBpfCache({ compile: (input) => helper.compileSeccomp(input), cacheDir: join(cfg.execRoot, 'seccomp-bpf') }),
      usesCrun: (name) => /(^|\/)crun$/.test(cfg.runtimes[name] ?? ''),
    }),
    config: {
      dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, defaultRuntime: cfg.defaultRuntime,
      defaultLogMaxSize: 20 * 1024 * 1024, defaultLogMaxFile: 5, defaultLogConfig: { Type: cfg.logDriver, Config: { ...cfg.logOpts } },
    },
  });
  const execs = new ExecService({ containers, helper });
  const health = new HealthMonitor({
    probe: (id, cmd, o) => execs.runProbe(id, cmd, o), log,
    save: (id, h) => containers.repo.saveHealth(id, h),
    publish: (id, action) => {
      const c = containers.repo.get(id);
      if (c) events.publish('container', action, id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name });
    },
  });
  return { containers, execs, health, gc };
}

/** The public interfaces over the services, and `close`. */
function publicEngine(b: Base, s: Services, gcDeps: GcDeps, components: ReturnType<typeof readComponentVersions>): Engine {
  const { cfg, events, db } = b;
  const containers = containerEngine(b, s);
  const system = new SystemEngineImpl({
    components,
    info: async () => engineInfo({
      containers: s.containers.list(), images: (await s.images.list()).length, dataRoot: cfg.dataRoot, defaultRuntime: cfg.defaultRuntime,
      runtimes: cfg.runtimes, logDriver: cfg.logDriver, registryMirrors: cfg.registryMirrors, insecureRegistries: cfg.insecureRegistries,
      seccompEnabled: true,
    }),
    images: () => s.images.list({ all: true }),
    layerUsage: () => imageLayerUsage(db),
    containersUsingImage: (id) => s.containers.repo.usingImage(id).length,
    containers: () => Promise.all(s.containers.list().map((c) => containers.inspect(c.id, { size: true }))),
    volumes: async () => (await s.volumes.diskUsage()).map((u) => ({ ...u, mountpoint: s.volumes.mountpoint(u.volume.name) })),
    logs: () => containerLogUsage(cfg.dataRoot),
    orphans: () => findOrphans(gcDeps),
    collect: (found) => collectOrphans(gcDeps, found),
  });
  return {
    containers, system, events,
    execs: s.execs, images: s.images, volumes: s.volumes, builds: s.builds,
    networks: new NetworkEngineImpl({
      networks: s.networks,
      containers: {
        get: (id) => s.containers.repo.get(id), isRunning: (id) => s.containers.isRunning(id),
        connectNetwork: (c, n, epCfg) => s.containers.connectNetwork(c, n, epCfg), disconnectNetwork: (c, n) => s.containers.disconnectNetwork(c, n),
      },
    }),
    close: async () => {
      clearTimeout(s.gc.timer);
      s.health.close();
      s.containers.close();
      await s.networks.close().catch((err) => b.log.warn({ err }, 'close networks'));
      db.close();
      removeCgroupParents(b.cgroupParent);
    },
  };
}

/** ContainerEngine over the container service, its files, stats, update and commit. */
function containerEngine(b: Base, s: Services): ContainerEngineImpl {
  const { cfg, events, snapshots, helper, rootfs } = b;
  const svc = s.containers;
  const publish = (action: string, c: { id: string; config: { Labels?: Record<string, string> | null }; imageRef: string; name: string }, attrs: Record<string, string> = {}) =>
    events.publish('container', action, c.id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name, ...attrs });
  const files = new ContainerFiles({
    resolve: (ref) => svc.resolve(ref), withRootfs: (id, fn) => rootfs.use(id, fn),
    mountsOf: (c) => s.volumes.repo.mountsOf(c.id).filter((m) => m.type !== 'tmpfs').map((m) => ({ destination: m.destination, source: m.source, rw: m.rw, ...(m.subpath ? { subpath: m.subpath } : {}) })),
    liveRoot: (c, merged) => {
      const pid = svc.repo.get(c.id)?.state.pid ?? 0;
      if (!svc.isRunning(c.id) || pid <= 0) return undefined;
      const st = statSync(merged);
      return `${st.dev}:${st.ino}@/proc/${pid}/root`;
    },
    upperPath: (id) => snapshots.upperPath(id), files: helper,
    imageLayerDirs: (imageId) => s.images.resolve(imageId).then((i) => [...i.chainIds].reverse().map((c) => snapshots.diffPath(c)), () => []),
    event: (action, c) => publish(action, c),
  });
  const overlay = (id: string, dir: string) => join(cfg.dataRoot, 'overlay', 'containers', id, dir);
  return new ContainerEngineImpl({
    containers: svc, files, events, monitor: b.monitor,
    stats: new ContainerStatsReader({ containers: svc, cgroupParent: b.cgroupParent, cgroupLayout: b.cgroupLayout, machineMemory: totalmem() }),
    execIdsOf: (id) => s.execs.idsFor(id),
    imageIdOf: (ref) => s.images.resolve(ref).then((i) => i.id, () => undefined),
    sizes: async (c) => {
      const rw = await snapshots.upperSize(c.id).catch(() => 0);
      const image = await s.images.inspect(c.imageId).then((i) => i.size, () => 0);
      return { rw, rootFs: rw + image };
    },
    mountsOf: (id) => s.volumes.repo.mountsOf(id),
    attached: (id) => s.attachments.attached(id),
    sandboxKey: (id) => b.driver.netnsPath(id),
    graphData: (id) => ({ MergedDir: overlay(id, 'merged'), UpperDir: overlay(id, 'upper'), WorkDir: overlay(id, 'work') }),
    update: (ref, body) => updateContainer({ containers: svc, cgroupParent: b.cgroupParent, cgroupLayout: b.cgroupLayout }, ref, body),
    commit: (ref, o) => commitContainer({
      resolve: (r) => svc.resolve(r), isRunning: (id) => svc.isRunning(id),
      // Recorded as berth's own pause: recovery unpauses it if the daemon dies mid-commit.
      pause: (id) => svc.pause(id, { transient: true }), unpause: (id) => svc.unpause(id),
      upperPath: (id) => snapshots.upperPath(id), layerTar: (dir) => helper.tarOut(dir, '/', '', { whiteouts: true }),
      images: s.images, event: publish,
    }, ref, o),
  });
}

/** Our cgroup parent in each v1 hierarchy goes once empty; a busy one stays (containers live on). */
function removeCgroupParents(parent: string): void {
  let controllers: string[] = [];
  try { controllers = readdirSync('/sys/fs/cgroup'); } catch { return; }
  for (const c of [...controllers, '']) {
    try { rmdirSync(join('/sys/fs/cgroup', c, parent)); } catch { /* busy, absent or not a hierarchy */ }
  }
}
