import { ErrorCode, HeraldError } from '@herald/contracts';

/** The message clients see for every refused token: it never says why. */
export const UNAUTHORIZED_MESSAGE = 'A valid, unexpired token is required.';

/**
 * The one error a token verification throws. `reason` says why, for logs; it never
 * contains the token. The client-facing message is always the same.
 */
export class UnauthorizedError extends HeraldError {
  constructor(readonly reason: string) {
    super(ErrorCode.UNAUTHORIZED, UNAUTHORIZED_MESSAGE);
    this.name = 'UnauthorizedError';
  }

  static override is(err: unknown): err is UnauthorizedError {
    return err instanceof UnauthorizedError;
  }
}
