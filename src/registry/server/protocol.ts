/**
 * The pure parts of the distribution (v2) protocol as the built-in registry serves it: which
 * endpoint a path names, the name/tag/digest grammar, Range and Content-Range parsing,
 * pagination, and Distribution's error codes with their statuses and messages.
 */

/** Distribution's error codes (registry/api/errcode), with its HTTP statuses and messages. */
export const ERROR_CODES = {
  UNKNOWN: [500, 'unknown error'],
  UNSUPPORTED: [405, 'The operation is unsupported.'],
  UNAUTHORIZED: [401, 'authentication required'],
  DENIED: [403, 'requested access to the resource is denied'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  SIZE_INVALID: [400, 'provided length did not match content length'],
  RANGE_INVALID: [416, 'invalid content range'],
  NAME_INVALID: [400, 'invalid repository name'],
  TAG_INVALID: [400, 'manifest tag did not match URI'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_BLOB_UNKNOWN: [400, 'blob unknown to registry'],
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  BLOB_UPLOAD_INVALID: [404, 'blob upload invalid'],
  PAGINATION_NUMBER_INVALID: [400, 'invalid number of results requested'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A protocol error: becomes `{"errors":[{code,message,detail}]}` with the code's status.
 * Not an EngineError: these are the registry's wire errors, not the engine's.
 */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly status: number;
  constructor(readonly code: ErrorCode, readonly detail?: unknown, message?: string) {
    super(message ?? ERROR_CODES[code][1]);
    this.status = ERROR_CODES[code][0];
  }
  /** The JSON body Distribution sends. */
  body(): string {
    const e: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}

// The distribution reference grammar: components of lowercase alphanumerics joined by one
// separator (".", "_", "__" or any run of "-"), components joined by "/".
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** Any algorithm:encoded string the OCI grammar accepts (to tell "unsupported" from "malformed"). */
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A repository name per the distribution grammar, at most 255 characters. */
export const isValidName = (name: string): boolean => name.length <= 255 && NAME_RE.test(name);
export const isValidTag = (tag: string): boolean => TAG_RE.test(tag);
/** Only sha256 digests are stored (as Distribution's default). */
export const isValidDigest = (d: string): boolean => DIGEST_RE.test(d);
export const looksLikeDigest = (d: string): boolean => ANY_DIGEST_RE.test(d);

/** The endpoint a request path names, with its decoded parts. */
export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string };

const ROUTES: Array<[RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
];

/** The route for a path (without the query), or undefined when the path is no v2 endpoint. */
export function matchRoute(path: string): Route | undefined {
  for (const [re, make] of ROUTES) {
    const m = re.exec(path);
    if (m) return make(m);
  }
  return undefined;
}

/**
 * A `Range: bytes=...` header against a blob of `size` bytes. Returns the inclusive range to
 * send, 'unsatisfiable' (416), or undefined to send the whole blob (no header, another unit,
 * several ranges or a malformed value, which RFC 9110 lets a server ignore).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/**
 * An upload's Content-Range: `start-end` as Distribution takes it (an optional `bytes ` prefix
 * and `/total` suffix are accepted too). undefined when malformed.
 */
export function parseContentRange(header: string): { start: number; end: number } | undefined {
  const m = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * One page of a sorted list: entries after `last`, at most `n`. `n` absent → `max`.
 * @throws RegistryError PAGINATION_NUMBER_INVALID for a non-numeric or negative n.
 */
export function paginate(sorted: readonly string[], nParam: string | null, last: string | null, max: number): { page: string[]; more: boolean } {
  let n = max;
  if (nParam !== null && nParam !== '') {
    if (!/^\d+$/.test(nParam)) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nParam });
    n = Number(nParam);
  }
  const from = last ? sorted.findIndex((s) => s > last) : 0;
  const rest = from < 0 ? [] : sorted.slice(from);
  return { page: rest.slice(0, n), more: rest.length > n && n > 0 };
}

/** Docker schema2 and OCI media types the registry stores as manifests. */
export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPES));

interface ManifestJson {
  schemaVersion?: unknown;
  mediaType?: unknown;
  config?: { digest?: unknown };
  layers?: Array<{ digest?: unknown; urls?: unknown }>;
  manifests?: Array<{ digest?: unknown }>;
  subject?: { digest?: unknown };
}

/** A parsed manifest: its media type and what it references (blobs and child manifests). */
export interface ManifestInfo {
  mediaType: string;
  /** Config and layers (layers with foreign `urls` left out, as Distribution skips them). */
  blobs: string[];
  /** Manifests of an index or manifest list. */
  manifests: string[];
}

/**
 * Checks a manifest body against the Content-Type it was PUT with and lists its references.
 * The media type is the header's when it names a known type (the body's `mediaType`, when
 * present, must agree), else the body's, else sniffed (OCI manifests may omit it).
 * @throws RegistryError MANIFEST_INVALID for bad JSON, an unknown type, a missing field.
 */
export function inspectManifest(body: Buffer, contentType: string | undefined): ManifestInfo {
  let j: ManifestJson;
  try {
    j = JSON.parse(body.toString('utf8')) as ManifestJson;
  } catch (err) {
    throw new RegistryError('MANIFEST_INVALID', `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new RegistryError('MANIFEST_INVALID', 'manifest is not a JSON object');
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const bodyType = typeof j.mediaType === 'string' ? j.mediaType : undefined;
  let mediaType: string | undefined;
  if (KNOWN_TYPES.has(ct)) {
    if (bodyType !== undefined && bodyType !== ct) throw new RegistryError('MANIFEST_INVALID', `mediaType in manifest should be '${ct}' not '${bodyType}'`);
    mediaType = ct;
  } else if (bodyType !== undefined) {
    mediaType = bodyType;
  } else if (Array.isArray(j.manifests)) {
    mediaType = MEDIA_TYPES.ociIndex;
  } else if (j.config !== undefined) {
    mediaType = MEDIA_TYPES.ociManifest;
  }
  if (mediaType === undefined || !KNOWN_TYPES.has(mediaType)) throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${JSON.stringify(mediaType ?? ct)}`);
  if (j.schemaVersion !== 2) throw new RegistryError('MANIFEST_INVALID', 'schemaVersion must be 2');
  const digestOf = (d: { digest?: unknown } | undefined, what: string): string => {
    if (!d || typeof d.digest !== 'string' || !looksLikeDigest(d.digest)) throw new RegistryError('MANIFEST_INVALID', `${what}: missing or malformed digest`);
    return d.digest;
  };
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList) {
    if (!Array.isArray(j.manifests)) throw new RegistryError('MANIFEST_INVALID', 'manifests: missing');
    return { mediaType, blobs: [], manifests: j.manifests.map((m, i) => digestOf(m, `manifests[${i}]`)) };
  }
  if (!Array.isArray(j.layers)) throw new RegistryError('MANIFEST_INVALID', 'layers: missing');
  const blobs = [digestOf(j.config, 'config')];
  j.layers.forEach((l, i) => {
    const d = digestOf(l, `layers[${i}]`);
    if (!(Array.isArray(l.urls) && l.urls.length > 0)) blobs.push(d);
  });
  return { mediaType, blobs, manifests: [] };
}
