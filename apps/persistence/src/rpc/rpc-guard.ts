import { ErrorCode, HeraldError } from '@herald/contracts';
import { describeDatabaseError, isDatabaseUnavailable, pgErrorCode } from '@herald/db';

/** True when any string in a decoded payload holds a NUL, which Postgres text cannot store. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => containsNul(v, depth + 1));
}

/**
 * Runs a handler the way every persistence RPC should: a payload Postgres cannot store is
 * INVALID_INPUT (never a user id silently changed), a database that is down is UNAVAILABLE,
 * so the caller knows nothing was done and may retry, and any other database error loses
 * its query parameters (users' data) before serveRpc logs it. `onDatabaseError` hears of
 * every database error (for the metrics).
 */
export async function guardRpc<R>(input: unknown, handle: () => Promise<R>, onDatabaseError?: (err: unknown) => void): Promise<R> {
  if (containsNul(input)) throw new HeraldError(ErrorCode.INVALID_INPUT, 'payload: must not contain NUL characters');
  try {
    return await handle();
  } catch (err) {
    if (HeraldError.is(err)) throw err;
    if (isDatabaseUnavailable(err)) {
      onDatabaseError?.(err);
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'The storage service is unavailable. Please try again shortly.');
    }
    if (pgErrorCode(err)) {
      onDatabaseError?.(err);
      const { message, ...details } = describeDatabaseError(err);
      throw Object.assign(new Error(`database error: ${message}`), details);
    }
    throw err;
  }
}
