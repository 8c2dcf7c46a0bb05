/** SQLSTATE codes Herald reacts to (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const PG_ERROR = {
  uniqueViolation: '23505',
  invalidCatalogName: '3D000',
  duplicateDatabase: '42P04',
} as const;

/** Node socket errors that mean the server could not be reached at all. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EPIPE']);

/** The SQLSTATE (or socket error code) of an error from pg, directly or wrapped by TypeORM. */
export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e.code ?? e.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The name of the constraint a pg error is about, if any. */
export function pgConstraint(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const name = e.constraint ?? e.driverError?.constraint;
  return typeof name === 'string' ? name : undefined;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return pgErrorCode(err) === PG_ERROR.uniqueViolation && (constraint === undefined || pgConstraint(err) === constraint);
}

/**
 * True when the database is down or unreachable rather than the query being wrong:
 * worth an UNAVAILABLE answer or a retry later.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = pgErrorCode(err);
  if (code) {
    // Class 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
    return UNREACHABLE_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code);
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    message,
  );
}

/**
 * True when the rows themselves were refused (class 22 data exception, class 23 integrity
 * violation): retrying the same rows will fail the same way.
 */
export function isDataError(err: unknown): boolean {
  const code = pgErrorCode(err);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * What of a database error is fit for a log line: TypeORM's errors carry the query's
 * parameters, which hold users' messages.
 */
export function describeDatabaseError(err: unknown): { message: string; code?: string; constraint?: string } {
  const message = err instanceof Error ? err.message : String(err);
  const code = pgErrorCode(err);
  const constraint = pgConstraint(err);
  return { message, ...(code ? { code } : {}), ...(constraint ? { constraint } : {}) };
}
