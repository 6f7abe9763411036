import { messageOf } from '../lib/errors.ts';

/** A host directory error messages must not show, and the name that stands for it. */
export interface HiddenPath { path: string; as: string }

/**
 * The message of an error as a client may see it: host directories that failures deep in the
 * engine name (an fs error, a tool's stderr) are replaced by their names ("<data-root>/volumes/x").
 * For errors sent in a stream's body; the server does the same for error responses.
 */
export function publicMessageOf(req: { hiddenPaths?: readonly HiddenPath[] }, err: unknown): string {
  return hidePaths(messageOf(err), req.hiddenPaths ?? []);
}

/** `message` with each hidden directory (and only whole path components of it) replaced by its name. */
export function hidePaths(message: string, hidden: readonly HiddenPath[]): string {
  let out = message;
  // Longest first: an exec root inside the data root must not be named as the data root.
  for (const h of [...hidden].sort((a, b) => b.path.length - a.path.length)) {
    const root = h.path.replace(/\/+$/, '');
    if (root === '') continue;
    out = out.replace(new RegExp(`${escapeRegExp(root)}(?![^/\\s'"\`:,;)\\]}])`, 'g'), h.as);
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
