import { arch, release } from 'node:os';
import { invalid } from '../../lib/errors.ts';
import type {
  ComponentVersion, DiskUsage, DiskUsageType, EngineInfo, EngineVersion, GcResult, SystemEngine,
} from '../contracts/system.ts';
import type { ContainerDetails } from '../contracts/containers.ts';
import type { Image } from '../contracts/images.ts';
import type { VolumeRecord } from '../volumes/record.ts';
import type { Orphan } from './gc.ts';
import { BERTH_VERSION } from './versions.ts';

/** What the system engine reads; composed in engine/create-engine.ts. */
export interface SystemEngineDeps {
  /** Read once at start (conmon, the default runtime, tini). */
  components: Promise<ComponentVersion[]>;
  info(): Promise<EngineInfo>;
  images(): Promise<Image[]>;
  layerUsage(): { layersSize: number; shared: Map<string, number>; size: Map<string, number> };
  containersUsingImage(imageId: string): number;
  /** Every container, with sizes. */
  containers(): Promise<ContainerDetails[]>;
  volumes(): Promise<Array<{ volume: VolumeRecord; mountpoint: string; size: number; refCount: number }>>;
  logs(): Promise<{ count: number; bytes: number }>;
  orphans(): Promise<Orphan[]>;
  collect(orphans: readonly Orphan[]): Promise<{ removed: Orphan[]; failed: { orphan: Orphan; error: string }[] }>;
}

const TYPES: readonly string[] = ['container', 'image', 'volume', 'build-cache'];

/** SystemEngine (contracts/system.ts): version, info, `system df` and `system gc`. */
export class SystemEngineImpl implements SystemEngine {
  readonly #d: SystemEngineDeps;

  constructor(deps: SystemEngineDeps) { this.#d = deps; }

  async version(): Promise<EngineVersion> {
    return {
      version: BERTH_VERSION, components: await this.#d.components, os: 'linux', arch: goArch(), kernel: release(),
      runtime: `node${process.versions.node}`,
    };
  }

  info(): Promise<EngineInfo> { return this.#d.info(); }

  /** InvalidParameter for an unknown type. */
  async diskUsage(types: readonly DiskUsageType[]): Promise<DiskUsage> {
    for (const t of types) if (!TYPES.includes(t)) throw invalid(`unknown object type: ${t}`);
    const want = (t: DiskUsageType) => types.length === 0 || types.includes(t);
    const usage = this.#d.layerUsage();
    const images = want('image') ? (await this.#d.images()).map((i) => ({
      image: i, containers: this.#d.containersUsingImage(i.id), sharedSize: usage.shared.get(i.id) ?? 0, size: usage.size.get(i.id) ?? i.size,
    })) : [];
    const [containers, volumes, logs, orphans] = await Promise.all([
      want('container') ? this.#d.containers() : [],
      want('volume') ? this.#d.volumes() : [],
      this.#d.logs(),
      this.#d.orphans(),
    ]);
    return { layersSize: usage.layersSize, images, containers, volumes, logs, orphans };
  }

  async gc(opts: { dryRun: boolean }): Promise<GcResult> {
    const found = await this.#d.orphans();
    const r = opts.dryRun ? { removed: [], failed: [] } : await this.#d.collect(found);
    return { found, ...r };
  }
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[arch()] ?? arch();
}
