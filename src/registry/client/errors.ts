import { EngineError, type ErrorKind } from '../../lib/errors.ts';
import type { AuthChallenge } from './challenge.ts';

/** One entry of a distribution error body: {"errors":[{"code","message","detail"}]}. */
export interface DistributionErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * An error response from a registry (or its token server), with what the engine needs to word
 * the user-facing message: the HTTP status and the distribution error codes. The message is the
 * registry's own errors as Docker prints them ("manifest unknown: manifest unknown",
 * "denied: requested access to the resource is denied"); the engine adds its context
 * ("manifest for x:y not found: …", "pull access denied for x, …").
 *
 * Kinds: MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN and other 404s → NotFound; UNAUTHORIZED/401
 * → Unauthorized; DENIED/403 → Forbidden; TOOMANYREQUESTS/429 and 5xx → Unavailable; UNSUPPORTED
 * → NotImplemented; other 4xx → InvalidParameter.
 */
export class RegistryError extends EngineError {
  override name = 'RegistryError';
  constructor(
    kind: ErrorKind,
    message: string,
    readonly status: number,
    readonly errors: readonly DistributionErrorEntry[],
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
  }

  /** First distribution error code ("MANIFEST_UNKNOWN"), or a code derived from the status. */
  get code(): string {
    return this.errors[0]?.code ?? codeForStatus(this.status);
  }
}

/** The code Distribution's client assumes when a body carries none (makeError in errors.go). */
function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 429) return 'TOOMANYREQUESTS';
  return 'UNKNOWN';
}

/** Default messages of Distribution's error codes, for bodies that carry a code but no message. */
const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  TOOMANYREQUESTS: 'too many requests',
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  MANIFEST_UNKNOWN: 'manifest unknown',
  NAME_UNKNOWN: 'repository name not known to registry',
  BLOB_UNKNOWN: 'blob unknown to registry',
};

/** "MANIFEST_UNKNOWN" → "manifest unknown", as errcode.ErrorCode.Error() renders a code. */
const codeText = (code: string) => code.toLowerCase().replaceAll('_', ' ');

/** One entry as Docker prints it: "<code text>: <message>". */
export const formatEntry = (e: DistributionErrorEntry): string => `${codeText(e.code)}: ${e.message}`;

/**
 * Parses an error response body the way Distribution's client does (parseHTTPErrorResponse): a
 * JSON {"errors":[…]} list, Docker Hub's {"details":"…"}, or any other text as the message of the
 * code the status implies.
 */
export function parseErrorBody(status: number, contentType: string | undefined, body: string): DistributionErrorEntry[] {
  const fallback = (message: string): DistributionErrorEntry[] => {
    const code = codeForStatus(status);
    return [{ code, message: message || DEFAULT_MESSAGES[code] || `unexpected status ${status}` }];
  };
  const text = body.trim();
  if (!text) return fallback('');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/vnd.api+json' && !text.startsWith('{')) return fallback(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fallback(text);
  }
  if (typeof parsed !== 'object' || parsed === null) return fallback(text);
  const obj = parsed as { details?: unknown; errors?: unknown };
  if (typeof obj.details === 'string' && obj.details) return fallback(obj.details);
  if (!Array.isArray(obj.errors) || obj.errors.length === 0) return fallback(status === 401 ? '' : text);
  return obj.errors.map((raw): DistributionErrorEntry => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as { code?: unknown; message?: unknown; detail?: unknown };
    const code = typeof e.code === 'string' && e.code ? e.code.toUpperCase() : codeForStatus(status);
    const message = typeof e.message === 'string' && e.message ? e.message : DEFAULT_MESSAGES[code] ?? codeText(code);
    return e.detail === undefined ? { code, message } : { code, message, detail: e.detail };
  });
}

/** Error kind for a registry error code, falling back to the HTTP status. */
export function kindForCode(code: string, status: number): ErrorKind {
  switch (code) {
    case 'MANIFEST_UNKNOWN':
    case 'NAME_UNKNOWN':
    case 'BLOB_UNKNOWN':
    case 'BLOB_UPLOAD_UNKNOWN':
      return 'NotFound';
    case 'UNAUTHORIZED':
      return 'Unauthorized';
    case 'DENIED':
      return 'Forbidden';
    case 'TOOMANYREQUESTS':
      return 'Unavailable';
    case 'UNSUPPORTED':
      return 'NotImplemented';
  }
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 429 || status >= 500) return 'Unavailable';
  if (status >= 400) return 'InvalidParameter';
  return 'Unavailable';
}

/**
 * The RegistryError for an unsuccessful response. `prefix` adds context in front of the
 * registry's words (used by login: `Get "https://h/v2/": unauthorized: …`).
 */
export function errorFromResponse(status: number, contentType: string | undefined, body: string, prefix?: string, challenges: readonly AuthChallenge[] = []): RegistryError {
  const entries = parseErrorBody(status, contentType, body);
  // RFC 6750 errors in a Bearer challenge come first, as in Distribution's HandleHTTPResponseError:
  // a token without the needed scope is "denied", an invalid one "unauthorized".
  const bearer = status >= 400 && status < 500 ? challenges.find((c) => c.scheme === 'bearer' && (c.params['error'] === 'insufficient_scope' || c.params['error'] === 'invalid_token')) : undefined;
  if (bearer) {
    const code = bearer.params['error'] === 'insufficient_scope' ? 'DENIED' : 'UNAUTHORIZED';
    entries.unshift({ code, message: bearer.params['error_description'] || DEFAULT_MESSAGES[code]! });
  }
  const first = entries[0]!;
  // With a Bearer error, the body is Distribution's generic 401 and only repeats it: say the first.
  const text = entries.length === 1 || bearer ? formatEntry(first) : `errors:\n${entries.map(formatEntry).join('\n')}`;
  return new RegistryError(kindForCode(first.code, status), prefix ? `${prefix}: ${text}` : text, status, entries);
}

/** "GET" → "Get", as Go's net/http names a method in its errors. */
export const goMethod = (method: string) => method.charAt(0) + method.slice(1).toLowerCase();

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED',
]);

/** Node/undici error codes that mean "the server is not there or went away mid-way". */
export const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** The code of a Node/undici error, looking through `cause` (undici wraps socket errors). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
  }
  return undefined;
}

/**
 * A request that got no HTTP answer (refused, reset, DNS, TLS). Kind Unavailable. Docker tries
 * plain HTTP on an insecure registry after one of these, never after an HTTP error response.
 */
export class TransportError extends EngineError {
  override name = 'TransportError';
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super('Unavailable', message, options);
  }
}

/**
 * An Unavailable EngineError for a request that got no HTTP answer, worded like Docker's Go
 * errors so users recognise them: `Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999:
 * connect: connection refused`.
 */
export function networkError(method: string, url: URL, err: unknown): TransportError {
  const code = errorCode(err);
  const hostPort = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  const raw = err instanceof Error ? err.message : String(err);
  let detail: string;
  if (code === 'ECONNREFUSED') detail = `dial tcp ${hostPort}: connect: connection refused`;
  else if (code === 'ENOTFOUND') detail = `dial tcp: lookup ${url.hostname}: no such host`;
  else if (code === 'EAI_AGAIN') detail = `dial tcp: lookup ${url.hostname}: temporary failure in name resolution`;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') detail = `dial tcp ${hostPort}: connect: no route to host`;
  else if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') detail = `dial tcp ${hostPort}: i/o timeout`;
  else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(raw)) detail = 'http: server gave HTTP response to HTTPS client';
  else if (code && TLS_VERIFY_CODES.has(code)) detail = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') detail = 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') detail = `tls: failed to verify certificate: x509: ${raw}`;
  else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') detail = `read tcp ${hostPort}: connection reset by peer (${raw})`;
  else detail = raw;
  return new TransportError(`${goMethod(method)} "${url.href}": ${detail}`, code, { cause: err });
}

/** The EngineError for an aborted operation. */
export const canceledError = (cause?: unknown) => new EngineError('Canceled', 'registry request canceled', { cause });
