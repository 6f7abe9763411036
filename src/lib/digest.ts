import { createHash } from 'node:crypto';

/** "sha256:<hex>" of the bytes. */
export const sha256Digest = (data: string | Uint8Array): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

export const isDigest = (s: string): boolean => /^sha256:[0-9a-f]{64}$/.test(s);

/** The hex part of a "sha256:..." digest. */
export const digestHex = (digest: string): string => digest.replace(/^sha256:/, '');
