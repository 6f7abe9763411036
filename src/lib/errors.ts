/**
 * The engine's error taxonomy. Every layer throws EngineError with a kind; api/ maps the kind to an
 * HTTP status exactly once (api/http-status.ts). An error with no kind is a bug and becomes a 500.
 */
export type ErrorKind =
  | 'InvalidParameter'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'NotModified'
  | 'NotImplemented'
  | 'Unavailable'
  | 'Canceled'
  | 'Internal';

/**
 * An older dockerd's wording of a message, for clients of API versions before `until`: they were
 * written against that dockerd and match on its text (docker-py at 1.41: "You cannot remove a
 * running container"). dockerd itself changed the words in a release; berth keys them on the
 * API version that release brought.
 */
export interface LegacyWording { until: string; message: string }

export class EngineError extends Error {
  override name = 'EngineError';
  readonly legacy: LegacyWording | undefined;
  constructor(readonly kind: ErrorKind, message: string, options?: { cause?: unknown; legacy?: LegacyWording }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.legacy = options?.legacy;
  }
}

/** Kind of the outermost EngineError in the cause chain; 'Internal' (a bug) when there is none. */
export function kindOf(err: unknown): ErrorKind {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof EngineError) return e.kind;
  return 'Internal';
}

/** Message of the outermost EngineError, else the error's own message. */
export function messageOf(err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof EngineError) return e.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * What a client speaking API `version` ("1.41") is told: messageOf, or the outermost EngineError's
 * legacy wording when the version is older than the one that changed it.
 */
export function messageForVersion(err: unknown, version: string): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof EngineError) return e.legacy && olderApi(version, e.legacy.until) ? e.legacy.message : e.message;
  }
  return messageOf(err);
}

const olderApi = (a: string, b: string): boolean => {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
};

export const notFound = (message: string, cause?: unknown) => new EngineError('NotFound', message, { cause });
export const conflict = (message: string, cause?: unknown) => new EngineError('Conflict', message, { cause });
export const invalid = (message: string, cause?: unknown) => new EngineError('InvalidParameter', message, { cause });

/** True when err is a Node system error with the given code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
