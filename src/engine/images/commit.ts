import type * as api from '../../api/types/index.ts';
import { applyChanges } from './changes.ts';
import type { ImageConfig } from '../../image/index.ts';

export interface CommitConfigInput {
  /** The parent image's config blob (os, architecture, layers, history). */
  parent: ImageConfig;
  /** The container's Config. */
  container: api.ContainerConfig;
  containerId: string;
  /** ID of the container's image: the legacy "parent" field dockerd keeps for commits (inspect's Parent). */
  parentId?: string;
  /** The request body's Config (null or empty: the container's). */
  override?: api.ContainerConfig | null;
  /** `--change` Dockerfile instructions. */
  changes?: readonly string[];
  author?: string;
  comment?: string;
  /** diffID of the new top layer. */
  diffId: string;
  created?: Date;
}

/**
 * dockerd's merge(userConf, imageConf) for commit: fields the user left empty come from the
 * container's config; Env and Labels and ports and volumes are merged key by key.
 */
export function mergeCommitConfig(user: api.ContainerConfig, base: api.ContainerConfig): api.ContainerConfig {
  const out: api.ContainerConfig = structuredClone(user);
  if (!out.User) out.User = base.User ?? '';
  const ports = out.ExposedPorts ?? {};
  out.ExposedPorts = Object.keys(ports).length === 0 ? (base.ExposedPorts ?? null) : { ...(base.ExposedPorts ?? {}), ...ports };
  if (!out.Env || out.Env.length === 0) out.Env = base.Env ?? null;
  else {
    const keys = new Set(out.Env.map((e) => e.split('=', 1)[0]));
    for (const e of base.Env ?? []) if (!keys.has(e.split('=', 1)[0])) out.Env.push(e);
  }
  out.Labels = { ...(base.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) {
      out.Cmd = base.Cmd ?? null;
      out.Entrypoint = base.Entrypoint ?? null;
    }
  }
  if (base.Healthcheck && !out.Healthcheck) out.Healthcheck = base.Healthcheck;
  if (!out.WorkingDir) out.WorkingDir = base.WorkingDir ?? '';
  const vols = out.Volumes ?? {};
  out.Volumes = Object.keys(vols).length === 0 ? (base.Volumes ?? null) : { ...vols, ...(base.Volumes ?? {}) };
  if (!out.StopSignal && base.StopSignal) out.StopSignal = base.StopSignal;
  return out;
}

/**
 * The config blob of a committed image: the parent's platform, layers plus the new one, and
 * history plus an entry for it (created_by: the container's command, as dockerd records it);
 * `config` is the override (or the container's config) with the changes applied, merged with
 * the container's config. InvalidParameter for a bad `--change`.
 */
export function commitImageConfig(i: CommitConfigInput): ImageConfig {
  const user = i.override && Object.keys(i.override).length > 0 ? i.override : i.container;
  const config = mergeCommitConfig(applyChanges(user, i.changes ?? []), i.container);
  const created = (i.created ?? new Date()).toISOString();
  // A parent without history gets one entry per layer, so entries and layers stay in step.
  const parentHistory = i.parent.history && i.parent.history.length > 0
    ? i.parent.history
    : i.parent.rootfs.diff_ids.map(() => ({ created: i.parent.created ?? created }));
  return {
    architecture: i.parent.architecture, os: i.parent.os, ...(i.parent.variant ? { variant: i.parent.variant } : {}),
    ...(i.author ? { author: i.author } : {}),
    config, container: i.containerId, container_config: i.container, created,
    ...(i.parentId ? { parent: i.parentId } : {}),
    ...(i.comment ? { comment: i.comment } : {}),
    rootfs: { type: 'layers', diff_ids: [...i.parent.rootfs.diff_ids, i.diffId] },
    history: [...parentHistory, {
      created, ...(i.author ? { author: i.author } : {}),
      created_by: (i.container.Cmd ?? []).join(' '),
      ...(i.comment ? { comment: i.comment } : {}),
    }],
  };
}
