import type * as api from '../types/index.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';
import { cmpVersion } from '../server.ts';

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
