import type { Dirent, Stats } from 'node:fs';
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { isErrno } from './errors.ts';

/**
 * File-system probes that are meant to miss: each answers null (or []) when the path is not
 * there, and throws anything else (a permission error is no "absent"). Their names say so, so a
 * reader never wonders whether a failure was swallowed.
 */

/** Whether `err` says the path does not exist (ENOENT, or a component that is no directory). */
export function isAbsent(err: unknown): boolean {
  return isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR');
}

async function orNull<T>(probe: () => Promise<T>): Promise<T | null> {
  try {
    return await probe();
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

/** stat(2), or null when the path does not exist. */
export const statOrNull = (path: string): Promise<Stats | null> => orNull(() => stat(path));

/** lstat(2) (the link itself), or null when the path does not exist. */
export const lstatOrNull = (path: string): Promise<Stats | null> => orNull(() => lstat(path));

/** The file's text, or null when it does not exist. */
export const readTextOrNull = (path: string): Promise<string | null> => orNull(() => readFile(path, 'utf8'));

/** The directory's entries, or [] when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  return await orNull(() => readdir(dir, { withFileTypes: true })) ?? [];
}

/** Sends `signal` to a process unless it has already gone (ESRCH); false when it had. */
export function killIfAlive(pid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if (isErrno(err, 'ESRCH')) return false;
    throw err;
  }
}
