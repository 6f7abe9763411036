import type * as api from '../types/index.ts';
import { parseFilters, type Filters } from '../../lib/filters.ts';
import type { VolumeEngine } from '../../engine/index.ts';
import { type Route, created, noContent, ok, param, queryBool } from '../router.ts';
import { cmpVersion } from '../server.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { volumeCreateSchema } from '../schemas/volume.ts';

/** A volume as its view needs it (the engine's VolumeRecord). */
export interface VolumeView {
  name: string;
  driver: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** API 1.47's Volume; CreatedAt in RFC 3339 seconds as dockerd prints it. */
export function toApiVolume(v: VolumeView, mountpoint: string): api.Volume {
  return {
    CreatedAt: v.createdAt.replace(/\.\d+Z$/, 'Z'), Driver: v.driver, Labels: { ...v.labels }, Mountpoint: mountpoint, Name: v.name,
    Options: Object.keys(v.options).length ? { ...v.options } : null, Scope: 'local',
  };
}

/**
 * API 1.42 made a plain volume prune take only anonymous volumes; older clients still get every
 * unused one, as dockerd does by adding `all=true` to their filters.
 */
export function pruneFiltersFor(version: string, filters: Filters): Filters {
  if (cmpVersion(version, '1.42') >= 0) return filters;
  const out = new Map(filters);
  out.set('all', [...new Set([...(filters.get('all') ?? []), 'true'])]);
  return out;
}

/** /volumes: list, inspect, create, remove and prune. */
export function volumeRoutes(b: VolumeEngine): Route[] {
  const view = (v: VolumeView) => toApiVolume(v, b.mountpoint(v.name));
  const createBody = bodyValidator<api.VolumeCreateRequest>(volumeCreateSchema());
  return [
    { method: 'GET', path: '/volumes', handler: (req) => {
      const vols = b.list(parseFilters(req.query.get('filters')));
      return ok({ Volumes: vols.map(view), Warnings: null } satisfies api.VolumeListResponse);
    } },
    { method: 'GET', path: '/volumes/:name', handler: (req) => ok(view(b.inspect(param(req, 'name')))) },
    { method: 'POST', path: '/volumes/create', handler: async (req) => {
      const body = await readBody(req, createBody);
      const name = body?.Name ?? '';
      const v = await b.create({
        ...(name ? { name } : {}), ...(body?.Driver ? { driver: body.Driver } : {}),
        labels: { ...body?.Labels }, options: { ...body?.DriverOpts },
      });
      return created(view(v));
    } },
    { method: 'DELETE', path: '/volumes/:name', handler: async (req) => {
      await b.remove(param(req, 'name'), { force: queryBool(req.query, 'force') });
      return noContent();
    } },
    { method: 'POST', path: '/volumes/prune', handler: async (req) => {
      const r = await b.prune(pruneFiltersFor(req.version, parseFilters(req.query.get('filters'))));
      return ok({ VolumesDeleted: r.deleted.length ? r.deleted : null, SpaceReclaimed: r.reclaimed } satisfies api.VolumePruneResponse);
    } },
  ];
}
