import type * as api from '../types/index.ts';
import { invalid } from '../../lib/errors.ts';
import type { Orphan } from '../../engine/system/gc.ts';
import { type Route, ok, queryBool } from '../router.ts';

/** What `system df` and `system gc` read; composed in daemon/main.ts. */
export interface SystemDfDeps {
  images(): Promise<api.ImageSummary[]>;
  layerUsage(): { layersSize: number; shared: Map<string, number>; size: Map<string, number> };
  containersUsingImage(imageId: string): number;
  /** Container summaries with SizeRw and SizeRootFs. */
  containers(): Promise<api.ContainerSummary[]>;
  /** Volumes with UsageData, when the volume service is there. */
  volumes?(): Promise<api.Volume[]>;
  logs(): Promise<{ count: number; bytes: number }>;
  orphans(): Promise<Orphan[]>;
  collect(orphans: readonly Orphan[]): Promise<{ removed: Orphan[]; failed: { orphan: Orphan; error: string }[] }>;
}

const TYPES = ['container', 'image', 'volume', 'build-cache'];
const wire = (o: Orphan): api.GcOrphan => ({ Kind: o.kind, Path: o.path, Size: o.bytes });

export function systemDfRoutes(d: SystemDfDeps): Route[] {
  return [
    { method: 'GET', path: '/system/df', handler: async (req) => {
      const types = req.query.getAll('type');
      for (const t of types) if (!TYPES.includes(t)) throw invalid(`unknown object type: ${t}`);
      const want = (t: string) => types.length === 0 || types.includes(t);
      const usage = d.layerUsage();
      const images = want('image') ? (await d.images()).map((i) => ({
        ...i, Containers: d.containersUsingImage(i.Id), SharedSize: usage.shared.get(i.Id) ?? 0, Size: usage.size.get(i.Id) ?? i.Size,
      })) : [];
      const [containers, volumes, logs, orphans] = await Promise.all([
        want('container') ? d.containers() : [],
        want('volume') && d.volumes ? d.volumes() : [],
        d.logs(),
        d.orphans(),
      ]);
      const body: api.SystemDfResponse = {
        LayersSize: usage.layersSize, Images: images, Containers: containers, Volumes: volumes, BuildCache: [],
        BerthLogs: { Count: logs.count, Size: logs.bytes },
        BerthOrphans: { Count: orphans.length, Size: orphans.reduce((a, o) => a + o.bytes, 0) },
      };
      return ok(body);
    } },
    { method: 'POST', path: '/system/gc', handler: async (req) => {
      const found = await d.orphans();
      const dry = queryBool(req.query, 'dry-run');
      const r = dry ? { removed: [], failed: [] } : await d.collect(found);
      const body: api.GcResponse = {
        Found: found.map(wire), Removed: r.removed.map(wire), Failed: r.failed.map((f) => ({ Path: f.orphan.path, Error: f.error })),
        SpaceReclaimed: r.removed.reduce((a, o) => a + o.bytes, 0),
      };
      return ok(body);
    } },
  ];
}
