import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupLayout } from './host.ts';

/**
 * Lifts a container's pids limit (pids.max = "max"). `crun update` (1.8) writes -1 verbatim, which
 * the kernel refuses, so an update to "unlimited" is done here. Throws the write's error.
 */
export async function clearPidsLimit(cgroupsPath: string, layout: CgroupLayout): Promise<void> {
  const mount = layout.v1Controllers.get('pids') ?? layout.unifiedMount;
  if (mount) await writeFile(join(mount, cgroupsPath, 'pids.max'), 'max');
}
