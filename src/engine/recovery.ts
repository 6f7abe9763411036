import type { ContainerRecord } from './containers/record.ts';

/** The services start-up recovery walks, each with its own recovery step. */
export interface EngineRecoveryParts {
  snapshots: { recover(): Promise<void> };
  images: { recover(): Promise<void> };
  networks: { init(): Promise<void> };
  containers: { recover(): Promise<void>; list(): ContainerRecord[]; isRunning(id: string): boolean; applyRestartPolicies(): Promise<void> };
  execs: { recover(): Promise<void> };
  builds: { recover(): Promise<void> };
  volumes: { recover(running: readonly string[]): Promise<void> };
  attachments: { recover(running: readonly ContainerRecord[]): Promise<void> };
  /** Collects what is on disk without a record (engine/system/gc.ts collectOrphansAtStart). */
  collectOrphans(): Promise<void>;
  log: { warn(o: object, m?: string): void };
}

/**
 * Start-up recovery of the whole engine, before the API serves (DESIGN "State and crash safety").
 * Every multi-step operation recorded its intent before its side effects; each service finishes or
 * undoes its own, in dependency order:
 *  1. snapshots and images: temp dirs, pending layers and images (loads, pulls, builds, commits);
 *  2. networks: their bridges and chains restored, a create or remove cut short undone or finished,
 *     chains of no network dropped;
 *  3. containers: adopted, settled, half-made ones discarded, starts cut short undone, --rm ones
 *     removed, stray mounts, runtime records, conmons and cgroups swept; then exec sessions;
 *  4. builds (their RUN containers and snapshots), volumes (stale mounts, directories without a
 *     row) and container networking (namespaces, veths and port chains of no running container);
 *  5. whatever is still on disk without a record is collected;
 *  6. restart policies, once everything above is whole.
 */
export async function recoverEngine(p: EngineRecoveryParts): Promise<void> {
  await p.snapshots.recover();
  await p.images.recover();
  await p.networks.init();
  await p.containers.recover();
  await p.execs.recover();
  await p.builds.recover();
  const running = () => p.containers.list().filter((c) => p.containers.isRunning(c.id));
  await p.volumes.recover(running().map((c) => c.id));
  await p.attachments.recover(running());
  await p.collectOrphans().catch((err) => p.log.warn({ err }, 'recovery: collect orphans'));
  // Restart policies once the network is whole again (dockerd waits for its start-up too).
  await p.containers.applyRestartPolicies();
}
