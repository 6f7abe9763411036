import { randomBytes } from 'node:crypto';

/** A new 64-hex-digit object ID, as Docker uses for containers and exec sessions. */
export const newId = (): string => randomBytes(32).toString('hex');

/** The 12-digit form the CLI shows. Accepts an optional "sha256:" prefix. */
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export const isFullId = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

/** Docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (an optional leading slash is dropped). */
export const isValidContainerName = (name: string): boolean => /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name);
