import { invalid } from './errors.ts';

/**
 * Docker image references ("busybox", "localhost:5000/app:v1", "repo@sha256:…", "name:tag@digest"),
 * parsed and normalized the way Docker's distribution/reference package does it: a name without a
 * registry is on docker.io, a one-component docker.io name is in "library/", and a reference with
 * neither tag nor digest means ":latest" (unless the caller asks for the bare name).
 */
export interface ImageReference {
  /** Registry host, with port: "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path inside the registry: "library/busybox". */
  path: string;
  tag?: string;
  /** "sha256:<64 hex>" when the reference pins a digest. */
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_MAX = 255;

// The grammar of distribution/reference (reference/regexp.go), rewritten as anchored regexes.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE_RE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const FULL_HEX_RE = /^[a-f0-9]{64}$/;

/** Docker's message prefix; clients match on "invalid reference format". */
const bad = (detail?: string) => invalid(detail ? `invalid reference format: ${detail}` : 'invalid reference format');

/** Splits "host/rest" the way splitDockerDomain does: a first component is a host only if it looks like one. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

export interface ParseReferenceOptions {
  /** Add ":latest" when the reference has neither tag nor digest (default true). */
  defaultTag?: boolean;
}

/**
 * Parses and normalizes a reference. Throws EngineError('InvalidParameter') with Docker's wording:
 * "invalid reference format", "invalid reference format: repository name (library/Busybox) must be
 * lowercase", "invalid repository name (…), cannot specify 64-byte hexadecimal strings".
 */
export function parseReference(input: string, opts: ParseReferenceOptions = {}): ImageReference {
  if (FULL_HEX_RE.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, rest] = splitDomain(input);
  const at = rest.indexOf('@');
  const beforeDigest = at === -1 ? rest : rest.slice(0, at);
  const colon = beforeDigest.indexOf(':');
  const remoteName = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) throw bad(`repository name (${remoteName}) must be lowercase`);

  const m = REFERENCE_RE.exec(`${domain}/${rest}`);
  if (!m) throw bad();
  const name = m[1]!;
  if (name.length > NAME_MAX) throw bad(`repository name must not be more than ${NAME_MAX} characters`);
  const ref: ImageReference = { domain, path: name.slice(domain.length + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(m[3])) throw invalid('invalid reference format: invalid digest format');
    ref.digest = m[3];
  }
  if (opts.defaultTag !== false && ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
  return ref;
}

/** True when s is a valid tag ("latest", "v1.2_rc-3"). */
export const isValidTag = (s: string): boolean => TAG_RE.test(s);

/** True when s is a valid registry host[:port]. */
export const isValidDomain = (s: string): boolean => DOMAIN_RE.test(s);

/** "docker.io/library/busybox": the fully qualified repository name. */
export const repositoryName = (r: ImageReference): string => `${r.domain}/${r.path}`;

/** "busybox", "localhost:5000/app": the repository name as Docker shows it. */
export function familiarName(r: ImageReference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  return r.path.startsWith(OFFICIAL_PREFIX) && !r.path.slice(OFFICIAL_PREFIX.length).includes('/')
    ? r.path.slice(OFFICIAL_PREFIX.length)
    : r.path;
}

const suffix = (r: ImageReference): string => (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');

/** "busybox:latest", "localhost:5000/app:v1", "busybox@sha256:…": how Docker prints a reference. */
export const familiarString = (r: ImageReference): string => familiarName(r) + suffix(r);

/** "docker.io/library/busybox:latest": the fully qualified form. */
export const normalizedString = (r: ImageReference): string => repositoryName(r) + suffix(r);

/**
 * The image_refs key of a reference: "name@digest" when it pins a digest (the tag of
 * "name:tag@digest" is informational, as in Docker), else "name:tag". Throws InvalidParameter
 * for a bare name (parse with the default tag first).
 */
export function refKey(r: ImageReference): string {
  if (r.digest !== undefined) return `${repositoryName(r)}@${r.digest}`;
  if (r.tag === undefined) throw invalid(`reference ${repositoryName(r)} has neither tag nor digest`);
  return `${repositoryName(r)}:${r.tag}`;
}

/** Parses a stored image_refs key back (keys are always fully qualified). */
export const parseRefKey = (key: string): ImageReference => parseReference(key, { defaultTag: false });

/**
 * The registry domain of a login server address: "https://index.docker.io/v1/", "" and the Hub's
 * other names are docker.io; otherwise the host[:port], without scheme or path.
 */
export function registryDomainOf(serverAddress: string): string {
  const host = serverAddress.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (host === '' || host === LEGACY_DOMAIN || host === 'registry-1.docker.io' || host === DEFAULT_DOMAIN) return DEFAULT_DOMAIN;
  return host;
}
