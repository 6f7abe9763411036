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

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(readonly kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
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

export const notFound = (message: string, cause?: unknown) => new EngineError('NotFound', message, { cause });
export const conflict = (message: string, cause?: unknown) => new EngineError('Conflict', message, { cause });
export const invalid = (message: string, cause?: unknown) => new EngineError('InvalidParameter', message, { cause });

/** True when err is a Node system error with the given code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
