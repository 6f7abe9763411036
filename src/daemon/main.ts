import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, messageOf } from '../lib/errors.ts';
import { execFile } from '../lib/exec.ts';
import { NativeHelper, defaultHelperPath } from '../lib/native-helper.ts';
import { openDb } from '../store/db.ts';
import { FsBlobStore } from '../store/blob-store.ts';
import { OverlaySnapshotter } from '../snapshot/index.ts';
import { OciRuntimeCli } from '../runtime/oci-runtime.ts';
import { ConmonMonitor } from '../runtime/conmon.ts';
import { cgroupChildren, cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from '../runtime/cgroups/host.ts';
import { EventBus } from '../engine/events.ts';
import { ContainerService } from '../engine/containers/service.ts';
import { ExecService } from '../engine/containers/exec.ts';
import { HealthMonitor } from '../engine/containers/health.ts';
import { makeSpecWriter } from '../engine/containers/spec-writer.ts';
import { SeccompBpfCache } from '../runtime/spec/seccomp-bpf.ts';
import { ImageService } from '../engine/images/index.ts';
import { ApiServer } from '../api/server.ts';
import { Router } from '../api/router.ts';
import { systemRoutes } from '../api/routes/system.ts';
import { containerRoutes } from '../api/routes/containers.ts';
import { execRoutes } from '../api/routes/exec.ts';
import { imageRoutes } from '../api/routes/images.ts';
import { buildRoutes } from '../api/routes/build.ts';
import { BuildCache } from '../engine/builds/build-cache.ts';
import { BuildService } from '../engine/builds/build-service.ts';
import { RegistryClient } from '../registry/client/index.ts';
import { networkRoutes } from '../api/routes/networks.ts';
import { statsRoutes } from '../api/routes/stats.ts';
import { ContainerStatsReader } from '../engine/containers/stats.ts';
import { updateContainer } from '../engine/containers/update.ts';
import { cgroupPathOf } from '../engine/containers/resource-devices.ts';
import { archiveRoutes } from '../api/routes/archive.ts';
import { pluginRoutes, swarmRoutes } from '../api/routes/cluster-absent.ts';
import { ContainerFiles } from '../engine/containers/archive.ts';
import { commitContainer } from '../engine/containers/commit.ts';
import { SharedRootfs } from '../engine/containers/rootfs-users.ts';
import { BridgeDriver } from '../network/index.ts';
import { DnsHub } from '../engine/networks/dns-hub.ts';
import { NetworkService } from '../engine/networks/service.ts';
import { ContainerNetworks } from '../engine/networks/container-networks.ts';
import { VolumeService } from '../engine/volumes/service.ts';
import { toApiVolume, volumeRoutes } from '../api/routes/volumes.ts';
import { systemDfRoutes } from '../api/routes/system-df.ts';
import { toContainerSummary } from '../api/routes/container-views.ts';
import { collectOrphans, collectOrphansAtStart, findOrphans } from '../engine/system/gc.ts';
import { recoverEngine } from '../engine/recovery.ts';
import { containerLogUsage, imageLayerUsage } from '../engine/system/disk-usage.ts';
import { loadDaemonConfig, parseDaemonFlags, USAGE } from './config.ts';
import { buildInfo, BERTH_VERSION } from './info.ts';
import { createLogger } from './logger.ts';
import { release, arch, totalmem } from 'node:os';

/**
 * berthd's composition root: the one place that constructs concrete services, in dependency
 * order, and closes them in reverse. Start-up recovery runs before the API accepts requests.
 */
async function main(argv: string[]): Promise<void> {
  const flags = parseDaemonFlags(argv);
  if (flags.help) { process.stdout.write(USAGE); return; }
  if (flags.version) { process.stdout.write(`Berth version ${BERTH_VERSION}\n`); return; }
  const cfg = loadDaemonConfig(flags);
  const log = createLogger(cfg.logLevel);
  for (const dir of [cfg.dataRoot, cfg.execRoot]) mkdirSync(dir, { recursive: true, mode: 0o711 });

  const helper = new NativeHelper({ path: defaultHelperPath() });
  // Two daemons on one data root would corrupt each other's state: the lock dies with us.
  const lock = await helper.lock(join(cfg.dataRoot, 'berthd.lock')).catch((err) => {
    throw new EngineError('Conflict', `data root ${cfg.dataRoot} is in use by another berthd (${messageOf(err)})`, { cause: err });
  });
  // Written early, as dockerd does: a pid file that cannot be written stops us before the host is touched.
  writeFileSync(cfg.pidFile, `${process.pid}\n`);
  await ensureRuntimeCanRun(execFile).catch((err) => log.warn({ err: messageOf(err) }, 'cgroup setup for crun'));

  // After ensureRuntimeCanRun: it may have given a controller its own v1 hierarchy.
  const cgroupLayout = detectCgroups(readFileSync('/proc/self/mountinfo', 'utf8'));
  const db = openDb(join(cfg.dataRoot, 'berth.db'));
  const events = new EventBus();
  const blobs = new FsBlobStore(cfg.dataRoot);
  const snapshots = new OverlaySnapshotter({ root: join(cfg.dataRoot, 'overlay'), exec: execFile });
  // cp/export/commit hold a container's rootfs mounted while they work; exits wait for them.
  const rootfs = new SharedRootfs(snapshots);
  const runtimes = new Map(Object.entries(cfg.runtimes).map(([name, path]) =>
    [name, new OciRuntimeCli({ name, path, root: join(cfg.execRoot, 'runtime', name), exec: execFile })]));
  let containers!: ContainerService;
  // Layers freed by removed containers are collected once things are quiet, not on the rm path.
  let gcTimer: NodeJS.Timeout | undefined;
  const scheduleImageGc = () => {
    gcTimer ??= setTimeout(() => {
      gcTimer = undefined;
      void images.gc().catch((err) => log.warn({ err }, 'image gc'));
    }, 1000).unref();
  };
  const buildCache = new BuildCache(db);
  const images = new ImageService({
    isIntermediate: (id) => buildCache.isIntermediate(id),
    db, blobs, snapshotter: snapshots, dataRoot: cfg.dataRoot,
    makeWhiteouts: (root, entries) => helper.makeWhiteouts(root, entries),
    containersUsingImage: (id) => containers.repo.usingImage(id).map((cid) => ({ id: cid, running: containers.isRunning(cid) })),
    events: (action, id, attrs) => events.publish('image', action, id, attrs),
    registry: new RegistryClient({ insecureRegistries: cfg.insecureRegistries, mirrors: cfg.registryMirrors }, log),
    maxConcurrentDownloads: cfg.maxConcurrentDownloads,
    maxConcurrentUploads: cfg.maxConcurrentUploads,
  });
  const driver = new BridgeDriver({ exec: execFile, table: cfg.objectPrefix, ifPrefix: cfg.ifPrefix, netnsDir: join(cfg.execRoot, 'netns'), log });
  mkdirSync(join(cfg.execRoot, 'netns'), { recursive: true, mode: 0o700 });
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
  containers = new ContainerService({
    db, images, rootfs, runtimes, events, log, volumes,
    monitor: new ConmonMonitor({ path: '/usr/bin/conmon', exec: execFile, connectAttach: (path, o) => helper.attach(path, o) }),
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
    cgroupIds: () => cgroupChildren(`/${cfg.objectPrefix}`, cgroupLayout),
    releaseCgroup: (id) => removeCgroup(cgroupPathsFor(cgroupPathOf(containers.repo.get(id)?.hostConfig ?? {}, id, `/${cfg.objectPrefix}`), cgroupLayout), { retries: 5 }),
    afterRemove: (id) => { execs.forgetContainer(id); scheduleImageGc(); },
    writableLayerSize: (id) => snapshots.upperSize(id),
    health: { begin: (c, o) => health.begin(c, o), end: (id) => health.end(id) },
    writeSpec: makeSpecWriter({
      cgroupParent: `/${cfg.objectPrefix}`, tiniPath: '/usr/bin/tini-static',
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
  const files = new ContainerFiles({
    resolve: (ref) => containers.resolve(ref), withRootfs: (id, fn) => rootfs.use(id, fn),
    mountsOf: (c) => volumes.repo.mountsOf(c.id).filter((m) => m.type !== 'tmpfs').map((m) => ({ destination: m.destination, source: m.source, rw: m.rw, ...(m.subpath ? { subpath: m.subpath } : {}) })),
    liveRoot: (c, merged) => {
      const pid = containers.repo.get(c.id)?.state.pid ?? 0;
      if (!containers.isRunning(c.id) || pid <= 0) return undefined;
      const st = statSync(merged);
      return `${st.dev}:${st.ino}@/proc/${pid}/root`;
    },
    upperPath: (id) => snapshots.upperPath(id), files: helper,
    imageLayerDirs: (imageId) => images.resolve(imageId).then((i) => [...i.chainIds].reverse().map((c) => snapshots.diffPath(c)), () => []),
    event: (action, c) => events.publish('container', action, c.id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name }),
  });

  const builds = new BuildService({
    images, containers, snapshots, helper, cache: buildCache, dataRoot: cfg.dataRoot, warn: (msg) => log.warn(msg),
    leftovers: () => containers.list().map((c) => ({ id: c.id, labels: c.config.Labels ?? {} })),
    snapshotDir: join(cfg.dataRoot, 'overlay', 'containers'),
  });

  const gcDeps = { db, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, removeSnapshot: (id: string) => snapshots.remove(id) };
  await recoverEngine({
    snapshots, images, networks, containers, execs, builds, volumes, attachments, log,
    collectOrphans: () => collectOrphansAtStart(gcDeps, log),
  });

  // Asked once, off the start-up path: `version` shows it when known.
  let runtimeVersion = '';
  void execFile(cfg.runtimes[cfg.defaultRuntime]!, ['--version']).then((r) => {
    runtimeVersion = /version\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
  }, () => undefined);
  const statsReader = new ContainerStatsReader({ containers, cgroupParent: `/${cfg.objectPrefix}`, cgroupLayout, machineMemory: totalmem() });
  /** SizeRw (the writable layer) and SizeRootFs (plus the image) for ps -s, inspect -s and system df. */
  const containerSizes = async (c: { id: string; imageId: string }) => {
    const rw = await snapshots.upperSize(c.id).catch(() => 0);
    const image = await images.inspect(c.imageId).then((i) => i.Size, () => 0);
    return { SizeRw: rw, SizeRootFs: rw + image };
  };
  const router = new Router()
    .add(systemRoutes({
      events,
      version: () => ({
        Platform: { Name: 'Berth Engine' },
        Components: <{ Name: string; Version: string; Details?: Record<string, string> }[]>[
          { Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: goArch(), KernelVersion: release(), GitCommit: '', GoVersion: `node${process.versions.node}`, BuildTime: '', Experimental: 'false' } },
          { Name: 'conmon', Version: '2.1.6', Details: { GitCommit: '' } },
          { Name: cfg.defaultRuntime, Version: runtimeVersion, Details: { GitCommit: '' } },
          { Name: 'tini', Version: '0.19.0', Details: { GitCommit: '' } },
        ],
        Version: BERTH_VERSION, GitCommit: '', GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: goArch(), KernelVersion: release(), BuildTime: '',
      }),
      info: async () => buildInfo({
        containers: containers.list(), images: (await images.list()).length, dataRoot: cfg.dataRoot, defaultRuntime: cfg.defaultRuntime,
        runtimes: cfg.runtimes, logDriver: cfg.logDriver, registryMirrors: cfg.registryMirrors, insecureRegistries: cfg.insecureRegistries,
        seccompEnabled: true,
      }),
    }))
    .add(containerRoutes({
      containers, attach: helper,
      resolveImageId: (ref) => images.resolve(ref).then((i) => i.id, () => undefined),
      execIdsOf: (id) => execs.idsFor(id),
      sizes: containerSizes,
      mountsOf: (id) => volumes.mountPointsOf(id),
      netView: (c) => ({ attached: attachments.attached(c.id), sandboxKey: driver.netnsPath(c.id), running: containers.isRunning(c.id) }),
      graphData: (id) => ({ MergedDir: join(cfg.dataRoot, 'overlay', 'containers', id, 'merged'), UpperDir: join(cfg.dataRoot, 'overlay', 'containers', id, 'upper'), WorkDir: join(cfg.dataRoot, 'overlay', 'containers', id, 'work') }),
    }))
    .add(execRoutes({ containers, execs }))
    .add(imageRoutes(images))
    .add(buildRoutes(builds))
    .add(networkRoutes({ networks, containers }))
    .add(systemDfRoutes({
      images: () => images.list({ all: true }),
      layerUsage: () => imageLayerUsage(db),
      containersUsingImage: (id) => containers.repo.usingImage(id).length,
      containers: () => Promise.all(containers.list().map(async (c) => ({
        ...toContainerSummary(c), Mounts: volumes.mountPointsOf(c.id), ...await containerSizes(c),
      }))),
      volumes: async () => (await volumes.diskUsage()).map((u) => ({
        ...toApiVolume(u.volume, volumes.mountpoint(u.volume.name)), UsageData: { Size: u.size, RefCount: u.refCount },
      })),
      logs: () => containerLogUsage(cfg.dataRoot),
      orphans: () => findOrphans(gcDeps),
      collect: (found) => collectOrphans(gcDeps, found),
    }))
    .add(statsRoutes({
      resolve: (ref) => containers.resolve(ref),
      frames: (ref, opts) => statsReader.frames(ref, opts),
      update: (ref, body) => updateContainer({ containers, cgroupParent: `/${cfg.objectPrefix}`, cgroupLayout }, ref, body),
    }))
    .add(volumeRoutes(volumes))
    .add(archiveRoutes({
      stat: (ref, path) => files.stat(ref, path), archive: (ref, path) => files.archive(ref, path),
      extract: (ref, path, input, o) => files.extract(ref, path, input, o), export: (ref) => files.export(ref),
      changes: (ref) => files.changes(ref),
      commit: (ref, o) => commitContainer({
        resolve: (r) => containers.resolve(r), isRunning: (id) => containers.isRunning(id),
        // Recorded as berth's own pause: recovery unpauses it if the daemon dies mid-commit.
        pause: (id) => containers.pause(id, { transient: true }), unpause: (id) => containers.unpause(id),
        upperPath: (id) => snapshots.upperPath(id), layerTar: (dir) => helper.tarOut(dir, '/', '', { whiteouts: true }),
        images, event: (action, c, attrs) => events.publish('container', action, c.id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name, ...attrs }),
      }, ref, o),
    }))
    .add(swarmRoutes())
    .add(pluginRoutes());
  const server = new ApiServer({
    router, log, serverVersion: BERTH_VERSION,
    hiddenPaths: [{ path: cfg.dataRoot, as: '<data-root>' }, { path: cfg.execRoot, as: '<exec-root>' }],
  });
  for (const h of cfg.hosts) {
    // Only unix:// hosts pass validateDaemonConfig.
    const path = h.slice('unix://'.length);
    mkdirSync(join(path, '..'), { recursive: true });
    // root:berth 0660, as docker's root:docker: members of the group may use the engine.
    await server.listenUnix(path, 0o660, groupId('berth'));
  }
  log.info({ version: BERTH_VERSION, hosts: cfg.hosts, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot }, 'berthd started');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    // Containers keep running: they belong to conmon. We only stop serving and let go of state.
    log.info({ signal }, 'berthd shutting down; containers keep running');
    await server.close().catch(() => undefined);
    health.close();
    containers.close();
    await networks.close().catch(() => undefined);
    db.close();
    removeCgroupParents(`/${cfg.objectPrefix}`);
    rmSync(cfg.pidFile, { force: true });
    await lock.release();
    process.exit(0);
  };
  // A bug in one request must not take the API (and every attached client) down with it.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Our cgroup parent in each v1 hierarchy goes once empty; a busy one stays (containers live on). */
function removeCgroupParents(parent: string): void {
  let controllers: string[] = [];
  try { controllers = readdirSync('/sys/fs/cgroup'); } catch { return; }
  for (const c of [...controllers, '']) {
    try { rmdirSync(join('/sys/fs/cgroup', c, parent)); } catch { /* busy, absent or not a hierarchy */ }
  }
}

/** The gid of a group from /etc/group, if it exists. */
function groupId(name: string): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch { return undefined; }
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[arch()] ?? arch();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`berthd: ${messageOf(err)}\n`);
  process.exit(1);
});

