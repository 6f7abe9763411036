import { dirname, join } from 'node:path';
import type * as api from '../../api/types/index.ts';
import { familiarString, type ImageReference } from '../../lib/reference.ts';
import type { ImageRow } from './records.ts';
import type { ImageConfig } from '../../image/index.ts';

/** An image with its parsed config and references: what the API views are made from. */
export interface ImageView {
  row: ImageRow;
  config: ImageConfig;
  tags: ImageReference[];
  digests: ImageReference[];
}

/** Seconds since the epoch of an RFC 3339 time; 0 when absent or malformed. */
export const unixSeconds = (t: string | undefined): number => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

export const labelsOf = (v: ImageView): Record<string, string> => ({ ...(v.config.config?.Labels ?? {}) });

/** An entry of GET /images/json. API ≥ 1.44 sends [] (not "<none>:<none>") for untagged images. */
export function toApiSummary(v: ImageView): api.ImageSummary {
  return {
    Id: v.row.id,
    ParentId: '',
    RepoTags: v.tags.map(familiarString),
    RepoDigests: v.digests.map(familiarString),
    Created: unixSeconds(v.config.created),
    Size: v.row.size,
    SharedSize: -1,
    Labels: labelsOf(v),
    Containers: -1,
  };
}

/** GET /images/{name}/json. GraphDriver data as overlay2 shows it; diffPath gives a layer's dir. */
export function toApiInspect(v: ImageView, diffPath: (chainId: string) => string): api.ImageInspect {
  const c = v.config;
  const chains = v.row.layers;
  const top = chains[chains.length - 1];
  const data: Record<string, string> | null = top === undefined ? null : {
    MergedDir: join(dirname(diffPath(top)), 'merged'),
    UpperDir: diffPath(top),
    WorkDir: join(dirname(diffPath(top)), 'work'),
  };
  if (data && chains.length > 1) data['LowerDir'] = chains.slice(0, -1).reverse().map(diffPath).join(':');
  const out: api.ImageInspect = {
    Id: v.row.id,
    RepoTags: v.tags.map(familiarString),
    RepoDigests: v.digests.map(familiarString),
    // Set for commits (the container's image), as dockerd's legacy V1Image "parent" field.
    Parent: typeof c['parent'] === 'string' ? c['parent'] : '',
    Comment: typeof c['comment'] === 'string' ? c['comment'] : '',
    Created: c.created ?? '',
    DockerVersion: typeof c['docker_version'] === 'string' ? c['docker_version'] : '',
    Author: c.author ?? '',
    Config: c.config ?? {},
    Architecture: c.architecture,
    Os: c.os,
    Size: v.row.size,
    GraphDriver: { Name: 'overlay2', Data: data },
    RootFS: { Type: 'layers', Layers: [...c.rootfs.diff_ids] },
    Metadata: { LastTagTime: v.row.createdAt },
  };
  if (c.variant) out.Variant = c.variant;
  // How a committed image was made; the API layer shows them only to clients older than 1.45.
  if (typeof c['container'] === 'string' && c['container'] !== '') out.Container = c['container'];
  if (c.container_config) out.ContainerConfig = c.container_config;
  return out;
}

/**
 * GET /images/{name}/history: newest first. History entries that are not empty_layer take the
 * layer sizes in order; the newest entry carries the image ID and tags, older ones "<missing>".
 */
export function toApiHistory(v: ImageView, layerSizes: readonly number[]): api.ImageHistoryEntry[] {
  type Entry = NonNullable<ImageConfig['history']>[number];
  const hist: Entry[] = v.config.history && v.config.history.length > 0
    ? v.config.history
    : v.config.rootfs.diff_ids.map((): Entry => ({ created: v.config.created ?? '', created_by: '' }));
  let layer = 0;
  const entries = hist.map((h) => ({
    Id: '<missing>',
    Created: unixSeconds(h.created),
    CreatedBy: h.created_by ?? '',
    Tags: null as string[] | null,
    Size: h.empty_layer ? 0 : (layerSizes[layer++] ?? 0),
    Comment: h.comment ?? '',
  })).reverse();
  if (entries[0]) {
    entries[0].Id = v.row.id;
    entries[0].Tags = v.tags.length > 0 ? v.tags.map(familiarString) : null;
  }
  return entries;
}
