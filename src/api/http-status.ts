import { type ErrorKind, kindOf } from '../lib/errors.ts';

// A Record over the union: a new kind does not compile until it has a status.
const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  InvalidParameter: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
  NotModified: 304, NotImplemented: 501, Unavailable: 503, Canceled: 499, Internal: 500,
};

/** The one place an error becomes an HTTP status. */
export const httpStatusOf = (err: unknown): number => HTTP_STATUS[kindOf(err)];
