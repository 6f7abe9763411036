import type * as api from '../types/index.ts';
import type { DiskUsageType, Orphan, SystemEngine } from '../../engine/index.ts';
import { type Route, ok, queryBool } from '../router.ts';
import { toContainerSummary } from './container-views.ts';
import { toApiImageSummary } from './image-views.ts';
import { toApiVolume } from './volumes.ts';

const wire = (o: Orphan): api.GcOrphan => ({ Kind: o.kind, Path: o.path, Size: o.bytes });

/** GET /system/df and berth's POST /system/gc. */
export function systemDfRoutes(system: Pick<SystemEngine, 'diskUsage' | 'gc'>): Route[] {
  return [
    { method: 'GET', path: '/system/df', handler: async (req) => {
      const u = await system.diskUsage(req.query.getAll('type') as DiskUsageType[]);
      const body: api.SystemDfResponse = {
        LayersSize: u.layersSize,
        Images: u.images.map((i) => ({ ...toApiImageSummary(i.image), Containers: i.containers, SharedSize: i.sharedSize, Size: i.size })),
        // Ports and Networks left empty, as df has always sent them.
        Containers: u.containers.map((c) => toContainerSummary(c, false)),
        Volumes: u.volumes.map((v) => ({ ...toApiVolume(v.volume, v.mountpoint), UsageData: { Size: v.size, RefCount: v.refCount } })),
        BuildCache: [],
        BerthLogs: { Count: u.logs.count, Size: u.logs.bytes },
        BerthOrphans: { Count: u.orphans.length, Size: u.orphans.reduce((a, o) => a + o.bytes, 0) },
      };
      return ok(body);
    } },
    { method: 'POST', path: '/system/gc', handler: async (req) => {
      const r = await system.gc({ dryRun: queryBool(req.query, 'dry-run') });
      const body: api.GcResponse = {
        Found: r.found.map(wire), Removed: r.removed.map(wire), Failed: r.failed.map((f) => ({ Path: f.orphan.path, Error: f.error })),
        SpaceReclaimed: r.removed.reduce((a, o) => a + o.bytes, 0),
      };
      return ok(body);
    } },
  ];
}
