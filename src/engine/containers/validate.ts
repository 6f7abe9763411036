import { posix } from 'node:path';
import type { ContainerConfig, HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseSecurityOpts } from '../../runtime/spec/index.ts';
import { validateHealthConfig } from './health.ts';
import { normalizeSignal } from './signals.ts';
import {
  checkCapabilities, checkExtraHosts, checkModeConflicts, checkNamespacesAndPaths, checkPorts, checkRealtime, checkRestartPolicy, checkStorageOpt,
} from './validate-host.ts';
import { type HostResources, hostResources, validateResources } from './validate-resources.ts';

const LOG_DRIVERS = ['json-file', 'local', 'k8s-file', 'none'];

/**
 * Everything dockerd checks in a create request before it creates anything, in its order: the
 * request as decoded (mode conflicts, isolation, QoS, real-time CPU), then the Config, then the
 * HostConfig. `body` is the request's Config as sent; `hc` the HostConfig with berth's defaults
 * filled in (normalizeHostConfig). Cleans `body.WorkingDir` as dockerd does. Returns dockerd's
 * warnings for settings it adjusts.
 * @throws EngineError InvalidParameter with dockerd's words; nothing has been stored yet
 */
export function validateCreate(body: ContainerConfig, hc: HostConfig, rawHc: HostConfig | undefined, host: HostResources = hostResources()): string[] {
  if (rawHc) {
    checkModeConflicts(body, rawHc);
    checkRealtime(rawHc, host.cpuRealtime ?? false);
  }
  if (hc.LogConfig?.Type === 'logentries') throw new EngineError('InvalidParameter', 'the logentries logging driver has been deprecated and removed');
  validateContainerConfig(body);
  return validateHostConfig(hc, host);
}

/**
 * Rejects a HostConfig berth cannot honour, before anything is created. Returns Docker-style
 * warnings for settings that are accepted but adjusted.
 */
export function validateHostConfig(hc: HostConfig, host: HostResources = hostResources()): string[] {
  const warnings: string[] = [];
  checkExtraHosts(hc.ExtraHosts);
  checkPorts(undefined, hc.PortBindings);
  checkCapabilities(hc);
  checkNamespacesAndPaths(hc);
  const log = hc.LogConfig?.Type ?? 'json-file';
  if (!LOG_DRIVERS.includes(log)) throw new EngineError('InvalidParameter', `logger: no log driver named '${log}' is registered`);
  for (const k of Object.keys(hc.LogConfig?.Config ?? {})) {
    if (!['max-size', 'max-file', 'compress', 'labels', 'env', 'tag', 'mode', 'max-buffer-size'].includes(k)) {
      throw new EngineError('InvalidParameter', `unknown log opt '${k}' for ${log} log driver`);
    }
  }
  const maxFile = hc.LogConfig?.Config?.['max-file'];
  if (maxFile !== undefined && !(Number.isInteger(Number(maxFile)) && Number(maxFile) >= 1)) {
    throw new EngineError('InvalidParameter', `invalid value for max-file: ${maxFile}`);
  }
  if (hc.AutoRemove && (hc.RestartPolicy?.Name || 'no') !== 'no') {
    throw new EngineError('InvalidParameter', `can't create 'AutoRemove' container with restart policy`);
  }
  checkRestartPolicy(hc.RestartPolicy);
  warnings.push(...validateResources(hc, host));
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw new EngineError('InvalidParameter', 'SHM size can not be less than 0');
  // dockerd parses these when it creates the container (setSecurityOptions), not at start.
  parseSecurityOpts(hc.SecurityOpt ?? []);
  checkStorageOpt(hc.StorageOpt);
  return warnings;
}

/** HOST_NAME_MAX on Linux: the kernel refuses a longer name in sethostname(2). */
const MAX_HOSTNAME_BYTES = 64;

/**
 * Checks of the container Config that dockerd makes before creating anything (its wording:
 * daemon/container.go validateContainerConfig, and the hostname length). A relative WorkingDir is
 * refused and an absolute one cleaned in place (`/a/b/` is stored as `/a/b`). The ports checked
 * are the request's own, not the image's.
 * @throws EngineError InvalidParameter
 */
export function validateContainerConfig(config: ContainerConfig): void {
  const h = config.Hostname ?? '';
  if (Buffer.byteLength(h) > MAX_HOSTNAME_BYTES) {
    // Go's %q: the name quoted, its quotes and backslashes escaped.
    throw new EngineError('InvalidParameter', `hostname "${h.replace(/["\\]/g, '\\$&')}" is too long (maximum 64 bytes)`);
  }
  if (config.WorkingDir) {
    if (!config.WorkingDir.startsWith('/')) {
      throw new EngineError('InvalidParameter', `the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    }
    config.WorkingDir = posix.normalize(config.WorkingDir).replace(/(.)\/+$/, '$1');
  }
  if (config.StopSignal) normalizeSignal(config.StopSignal);
  for (const e of config.Env ?? []) {
    // opts.ValidateEnv: a variable needs a name (`=x` and `` are refused; `NAME` alone is fine).
    if (e.split('=', 1)[0] === '') throw new EngineError('InvalidParameter', `invalid environment variable: ${e}`);
  }
  validateHealthConfig(config.Healthcheck);
  checkPorts(config.ExposedPorts, undefined);
}
