import type { ExecFn } from '../../lib/exec.ts';
import { versionFromBanner } from '../../runtime/oci-runtime.ts';
import type { ComponentVersion } from '../contracts/system.ts';

/** berth's own version (berthd --version, the API's Server header, /version and /info). */
export const BERTH_VERSION = '0.1.0';

/**
 * A binary's version and commit from its `--version` output, as conmon, crun, runc and tini print
 * it: "<name> version <v>" (tini may add " - git.<commit>") and an optional "commit: <c>" line.
 * Both empty when the output has neither.
 */
export function parseVersionOutput(out: string): { version: string; commit: string } {
  const version = versionFromBanner(out);
  const commit = /^commit:\s*(\S+)/m.exec(out)?.[1] ?? /- git\.(\S+)/.exec(out)?.[1] ?? '';
  return { version, commit: commit === 'unknown' ? '' : commit };
}

/**
 * Asks each binary for its version once, in parallel. A binary that cannot be run gives empty
 * strings: `version` must answer whatever the host lacks.
 */
export async function readComponentVersions(exec: ExecFn, binaries: readonly { name: string; path: string }[]): Promise<ComponentVersion[]> {
  return Promise.all(binaries.map(async ({ name, path }) => {
    const r = await exec(path, ['--version']).catch(() => undefined);
    const parsed = r && r.exitCode === 0 ? parseVersionOutput(`${r.stdout}\n${r.stderr}`) : { version: '', commit: '' };
    return { name, ...parsed };
  }));
}
