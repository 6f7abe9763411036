import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { checkMountOptionTypes } from '../../engine/index.ts';
import { cmpVersion } from '../server.ts';

// What dockerd's router does to a create or update request for the client's API version before
// anything else sees it (api/server/router/container, dockerd 27): fields that version did not
// have are dropped, and what it could not ask for is refused.

const before = (version: string, v: string) => cmpVersion(version, v) < 0;

/**
 * Adapts a create request in place for `version`.
 * @throws EngineError InvalidParameter for what the version cannot ask for (dockerd's words)
 */
export function adaptCreateForVersion(body: api.ContainerCreateBody, version: string): void {
  const hc = body.HostConfig;
  if (hc) {
    if (before(version, '1.25')) hc.AutoRemove = false;
    if (before(version, '1.40')) {
      delete hc.KernelMemoryTCP;
      for (const m of hc.Mounts ?? []) if (m.BindOptions) m.BindOptions.NonRecursive = false;
    }
    if (before(version, '1.42')) {
      for (const m of hc.Mounts ?? []) if (m.BindOptions) m.BindOptions.CreateMountpoint = false;
      if (hc.ConsoleSize) hc.ConsoleSize = [0, 0];
    } else {
      // Kernel memory limits are gone from API 1.42: the field is ignored, without a warning.
      delete hc.KernelMemory;
    }
    checkMountOptionTypes(hc.Mounts, !before(version, '1.42'));
    if (before(version, '1.43')) delete hc.Annotations;
    if (before(version, '1.44')) {
      for (const m of hc.Mounts ?? []) {
        if (m.Type === 'bind' && m.BindOptions?.ReadOnlyForceRecursive) throw new EngineError('InvalidParameter', 'BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
      }
    }
    if (before(version, '1.45')) {
      for (const m of hc.Mounts ?? []) {
        if (m.VolumeOptions?.Subpath) throw new EngineError('InvalidParameter', 'VolumeOptions.Subpath needs API v1.45 or newer');
      }
    }
  }
  if (before(version, '1.44')) {
    if (body.Healthcheck) delete body.Healthcheck.StartInterval;
    const endpoints = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
    if (endpoints.length > 1) throw new EngineError('InvalidParameter', `Container cannot be created with multiple network endpoints: ${endpoints.join(', ')}`);
    // An endpoint had no MacAddress of its own: dockerd discards one (handleMACAddressBC).
    if (!body.MacAddress) for (const ep of Object.values(body.NetworkingConfig?.EndpointsConfig ?? {})) delete ep.MacAddress;
  }
}

/** Adapts an update request in place for `version` (postContainerUpdate). */
export function adaptUpdateForVersion(body: api.ContainerUpdateBody, version: string): void {
  if (before(version, '1.40')) delete body.PidsLimit;
  if (!before(version, '1.42')) delete body.KernelMemory;
}
