import { createHash } from 'node:crypto';
import { EngineError, invalid } from '../../lib/errors.ts';
import type { FetchedManifest } from './contract.ts';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const SUPPORTED = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex]);
const SCHEMA1 = new Set<string>([MEDIA_TYPES.schema1, MEDIA_TYPES.schema1Signed]);

/**
 * Accept header for manifest GETs: the four schema-2 types first; schema1 last so a registry
 * that only has a schema1 manifest says so and we can give Docker's deprecation message.
 */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex,
  `${MEDIA_TYPES.schema1Signed};q=0.5`, `${MEDIA_TYPES.schema1};q=0.5`,
].join(', ');

/** Largest manifest accepted (containerd and Docker refuse bigger ones too). */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;

/** Docker's message for schema1 (DeprecatedSchema1ImageError, Docker 28). */
export function schema1Error(ref?: string): EngineError {
  let msg = 'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed.';
  if (ref) msg += ` Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.`;
  msg += ' More information at https://docs.docker.com/go/deprecated-image-specs/';
  return invalid(msg);
}

/** "sha256:…" / "sha512:…" of bytes, in the algorithm of `like` (sha256 by default). */
export function digestOf(bytes: Buffer, like?: string): string {
  const algo = like?.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algo}:${createHash(algo).update(bytes).digest('hex')}`;
}

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
export const isDigestRef = (reference: string) => DIGEST_RE.test(reference) && reference.includes(':');

export interface ManifestCheck {
  bytes: Buffer;
  /** Content-Type the registry sent. */
  contentType: string | undefined;
  /** Tag or digest it was fetched by. */
  reference: string;
  /** Docker-Content-Digest the registry sent. */
  headerDigest: string | undefined;
  /** For messages: "127.0.0.1:5000/app:v1". */
  name: string;
}

/**
 * Verifies and parses fetched manifest bytes. The digest of the bytes must equal the digest it
 * was fetched by, and, for a tag, the registry's Docker-Content-Digest (sha256 or sha512). The
 * returned digest is sha256 unless the manifest was fetched by another algorithm's digest.
 * InvalidParameter for a digest mismatch, malformed JSON, schemaVersion other than 2 ("unsupported
 * manifest format"), schema1 (Docker's deprecation message) or an unknown media type.
 */
export function checkManifest(m: ManifestCheck): FetchedManifest {
  const byDigest = isDigestRef(m.reference);
  const digest = digestOf(m.bytes, byDigest ? m.reference : undefined);
  if (byDigest && digest !== m.reference) {
    throw invalid(`manifest verification failed for digest ${m.reference}: got ${digest}`);
  }
  const headerAlgo = m.headerDigest?.split(':')[0];
  if (!byDigest && m.headerDigest && (headerAlgo === 'sha256' || headerAlgo === 'sha512')) {
    const actual = digestOf(m.bytes, m.headerDigest);
    if (actual !== m.headerDigest) throw invalid(`manifest verification failed for ${m.name}: registry sent digest ${m.headerDigest}, content has ${actual}`);
  }
  const headerType = (m.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (SCHEMA1.has(headerType)) throw schema1Error(m.name);
  let json: unknown;
  try {
    json = JSON.parse(m.bytes.toString('utf8'));
  } catch (err) {
    throw invalid('unsupported manifest format', err);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('unsupported manifest format');
  const doc = json as FetchedManifest['json'] & { signatures?: unknown; fsLayers?: unknown };
  if (doc.schemaVersion === 1 || doc.fsLayers !== undefined || doc.signatures !== undefined) throw schema1Error(m.name);
  if (doc.schemaVersion !== 2) throw invalid('unsupported manifest format');
  const mediaType = pickMediaType(headerType, doc);
  if (!SUPPORTED.has(mediaType)) throw invalid(`unsupported media type ${mediaType}`);
  const isIndex = mediaType === MEDIA_TYPES.dockerList || mediaType === MEDIA_TYPES.ociIndex;
  if (isIndex ? !Array.isArray(doc.manifests) : typeof doc.config !== 'object' || doc.config === null || !Array.isArray(doc.layers)) {
    throw invalid('unsupported manifest format');
  }
  return { digest, mediaType, bytes: m.bytes, json: doc };
}

/** The body's own mediaType wins over a generic Content-Type; an untyped OCI document is typed by its shape. */
function pickMediaType(headerType: string, doc: FetchedManifest['json']): string {
  if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
  if (SUPPORTED.has(headerType)) return headerType;
  return Array.isArray(doc.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
}
