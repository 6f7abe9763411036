import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readRuntimeLog, runtimeMessage } from './runtime-errors.ts';

/**
 * Whether a `<runtime> exec` started its process. Both crun and runc write their `--pid-file` once
 * the process runs, and never when they could not start it (a missing binary, no x bit): that,
 * not the exit code, tells a runtime's failure from the process's own. Resolves true as soon as
 * the file appears (inotify, no polling), else with the answer once the runtime has exited.
 */
export async function execStarted(pidFile: string, exited: Promise<unknown>): Promise<boolean> {
  let watcher: FSWatcher | undefined;
  try {
    const appeared = new Promise<void>((resolve) => {
      const base = basename(pidFile);
      watcher = watch(dirname(pidFile), (_event, file) => { if (String(file) === base && existsSync(pidFile)) resolve(); });
      watcher.on('error', () => undefined);
      if (existsSync(pidFile)) resolve();
    });
    await Promise.race([appeared, exited.then(() => undefined, () => undefined)]);
  } finally {
    watcher?.close();
  }
  return existsSync(pidFile);
}

/**
 * What a runtime said when it could not start an exec: the error entries of its `--log` file
 * (`--log-format json`), else its cleaned stderr, else a generic line. Never the raw lines.
 */
export async function execFailureReason(logFile: string, stderr: string): Promise<string> {
  const logged = await readRuntimeLog(logFile);
  if (logged.length) return logged.join('; ');
  return runtimeMessage(stderr) || 'the OCI runtime could not start the process';
}
