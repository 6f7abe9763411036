import type { HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { hostResources, validateResources } from './validate-resources.ts';

const LOG_DRIVERS = ['json-file', 'local', 'k8s-file', 'none'];
const RESTART = ['no', 'always', 'unless-stopped', 'on-failure'];

/**
 * Rejects a HostConfig berth cannot honour, before anything is created. Returns Docker-style
 * warnings for settings that are accepted but adjusted.
 */
export function validateHostConfig(hc: HostConfig): string[] {
  const warnings: string[] = [];
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
  const rp = hc.RestartPolicy?.Name ?? 'no';
  if (!RESTART.includes(rp)) throw new EngineError('InvalidParameter', `invalid restart policy: ${rp}`);
  if (rp !== 'on-failure' && (hc.RestartPolicy?.MaximumRetryCount ?? 0) > 0) {
    throw new EngineError('InvalidParameter', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (hc.AutoRemove && rp !== 'no') {
    throw new EngineError('InvalidParameter', `can't create 'AutoRemove' container with restart policy`);
  }
  warnings.push(...validateResources(hc, hostResources()));
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw new EngineError('InvalidParameter', 'SHM size can not be less than 0');
  return warnings;
}

/** HOST_NAME_MAX on Linux: the kernel refuses a longer name in sethostname(2). */
const MAX_HOSTNAME_BYTES = 64;

/** Checks of the container Config that dockerd makes before creating anything (its wording). */
export function validateContainerConfig(config: { Hostname?: string }): void {
  const h = config.Hostname ?? '';
  if (Buffer.byteLength(h) > MAX_HOSTNAME_BYTES) {
    // Go's %q: the name quoted, its quotes and backslashes escaped.
    throw new EngineError('InvalidParameter', `hostname "${h.replace(/["\\]/g, '\\$&')}" is too long (maximum 64 bytes)`);
  }
}
