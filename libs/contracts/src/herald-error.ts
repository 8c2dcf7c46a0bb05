/** Error codes of PROTOCOL.md §2/§3, the only list of them. */
export const ErrorCode = {
  INVALID_INPUT: 'INVALID_INPUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  /** The user's daily quota (QUOTA_DAILY_TOKENS / QUOTA_DAILY_COST_USD) is spent until the next UTC midnight (PROTOCOL.md §10). */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** One more Socket.IO connection or SSE stream than MAX_CONNECTIONS_PER_USER (PROTOCOL.md §1). */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  RUN_IN_PROGRESS: 'RUN_IN_PROGRESS',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  TIMEOUT: 'TIMEOUT',
  LLM_ERROR: 'LLM_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each error code (PROTOCOL.md §6). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  TOO_MANY_CONNECTIONS: 429,
  RUN_IN_PROGRESS: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  TIMEOUT: 504,
  LLM_ERROR: 502,
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

/** A failure that is meant for the client: a code and a message fit for end users. */
export class HeraldError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    /** `cause`: what went wrong underneath, for logs (never sent to clients). */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HeraldError';
  }

  toBody(): ErrorBody {
    return this.retryAfterMs === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }

  static is(err: unknown): err is HeraldError {
    return err instanceof HeraldError;
  }
}

/** Turns anything thrown into a client-safe error body: never a stack trace. */
export function toErrorBody(err: unknown): ErrorBody {
  if (HeraldError.is(err)) return err.toBody();
  return { code: ErrorCode.INTERNAL, message: 'Something went wrong on our side. Please try again.' };
}
