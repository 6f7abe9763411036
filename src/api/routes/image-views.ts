import { dirname, join } from 'node:path';
import type * as api from '../types/index.ts';
import type { Image, ImageHistoryItem, ImagePruneResult, ImageRemoval, ImageSearchHit } from '../../engine/index.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import { cmpVersion } from '../server.ts';

/** Seconds since the epoch of an RFC 3339 time; 0 when absent or malformed. */
const unixSeconds = (t: string | undefined): number => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

/** An entry of GET /images/json. API ≥ 1.44 sends [] (not "<none>:<none>") for untagged images. */
export function toApiImageSummary(i: Image): api.ImageSummary {
  return {
    Id: i.id,
    ParentId: '',
    RepoTags: [...i.repoTags],
    RepoDigests: [...i.repoDigests],
    Created: unixSeconds(i.config.created),
    Size: i.size,
    SharedSize: -1,
    Labels: { ...(i.config.config?.Labels ?? {}) },
    Containers: -1,
  };
}

/** overlay2's GraphDriver data for an image's layers (base first): the top one is UpperDir. */
function graphDriverData(layerDirs: readonly string[]): Record<string, string> | null {
  const top = layerDirs[layerDirs.length - 1];
  if (top === undefined) return null;
  const data: Record<string, string> = { MergedDir: join(dirname(top), 'merged'), UpperDir: top, WorkDir: join(dirname(top), 'work') };
  if (layerDirs.length > 1) data['LowerDir'] = layerDirs.slice(0, -1).reverse().join(':');
  return data;
}

/** GET /images/{name}/json as the current API version shows it (versionedImageInspect adapts it to older ones). */
export function toApiImageInspect(i: Image): api.ImageInspect {
  const c = i.config;
  const out: api.ImageInspect = {
    Id: i.id,
    RepoTags: [...i.repoTags],
    RepoDigests: [...i.repoDigests],
    // Set for commits (the container's image), as dockerd's legacy V1Image "parent" field.
    Parent: typeof c['parent'] === 'string' ? c['parent'] : '',
    Comment: typeof c['comment'] === 'string' ? c['comment'] : '',
    Created: c.created ?? '',
    DockerVersion: typeof c['docker_version'] === 'string' ? c['docker_version'] : '',
    Author: c.author ?? '',
    Config: c.config ?? {},
    Architecture: c.architecture,
    Os: c.os,
    Size: i.size,
    GraphDriver: { Name: 'overlay2', Data: graphDriverData(i.layerDirs) },
    RootFS: { Type: 'layers', Layers: [...c.rootfs.diff_ids] },
    Metadata: { LastTagTime: i.storedAt },
  };
  if (c.variant) out.Variant = c.variant;
  // How a committed image was made; versionedImageInspect shows them only to clients older than 1.45.
  if (typeof c['container'] === 'string' && c['container'] !== '') out.Container = c['container'];
  if (c.container_config) out.ContainerConfig = c.container_config;
  return out;
}

/** GET /images/{name}/history: steps without an image show "<missing>", and null tags. */
export const toApiImageHistory = (items: readonly ImageHistoryItem[]): api.ImageHistoryEntry[] => items.map((h) => ({
  Id: h.id ?? '<missing>',
  Created: unixSeconds(h.created),
  CreatedBy: h.createdBy,
  Tags: h.tags.length > 0 ? [...h.tags] : null,
  Size: h.size,
  Comment: h.comment,
}));

/** DELETE /images/{name}'s records, {"Untagged": ref} and {"Deleted": id}, in order. */
export const toApiImageDeletes = (removed: readonly ImageRemoval[]): api.ImageDeleteEntry[] =>
  removed.map((r) => ('untagged' in r ? { Untagged: r.untagged } : { Deleted: r.deleted }));

/** POST /images/prune: ImagesDeleted is null, not [], when nothing went. */
export const toApiImagePrune = (r: ImagePruneResult): { ImagesDeleted: api.ImageDeleteEntry[] | null; SpaceReclaimed: number } =>
  ({ ImagesDeleted: r.removed.length > 0 ? toApiImageDeletes(r.removed) : null, SpaceReclaimed: r.spaceReclaimed });

/** An entry of GET /images/search, in Docker Hub's field names. */
export const toApiSearchResult = (h: ImageSearchHit): api.ImageSearchResult =>
  ({ name: h.name, description: h.description, star_count: h.stars, is_official: h.official, is_automated: h.automated });

/**
 * The fields of an image's Config (and of the legacy ContainerConfig) that dockerd always sends
 * up to API 1.49, set or not: Go's container.Config had no `omitempty` on them. A build with
 * `--target`, an import or a bare base image thus still answers `"OnBuild": null`, `"Cmd": null`...
 * (moby's legacyConfigFields["v1.49"]; from 1.50 on some may be left out, we serve ≤ 1.47).
 */
const LEGACY_CONFIG_FIELDS: Readonly<api.ContainerConfig> = Object.freeze({
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
});

/** A config with every legacy field present: the config's own values win, absent or null ones take the default. */
export function withLegacyConfigFields(c: api.ContainerConfig | null | undefined): api.ContainerConfig {
  const out: Record<string, unknown> = { ...LEGACY_CONFIG_FIELDS };
  for (const [k, v] of Object.entries(c ?? {})) if (v !== null && v !== undefined) out[k] = v;
  return out as api.ContainerConfig;
}

/**
 * GET /images/{name}/json as dockerd answers at API `version`: the engine's view plus the legacy
 * fields of older versions. Below 1.45, `Container` (the committed container's ID, "" for images
 * not made by commit) and `ContainerConfig` (its config, a zero config otherwise); from 1.45 on
 * both are gone (API changelog v1.45). Below 1.44, `VirtualSize` (= Size) and a zero time for an
 * absent `Created`.
 */
export function versionedImageInspect(v: api.ImageInspect, version: string): api.ImageInspect {
  const { Container, ContainerConfig, ...rest } = v;
  const out: api.ImageInspect = { ...rest, Config: withLegacyConfigFields(v.Config) };
  if (cmpVersion(version, '1.45') < 0) {
    out.Container = Container ?? '';
    out.ContainerConfig = withLegacyConfigFields(ContainerConfig);
  }
  if (cmpVersion(version, '1.44') < 0) {
    out.VirtualSize = v.Size;
    if (!out.Created) out.Created = ZERO_TIME;
  }
  return out;
}
