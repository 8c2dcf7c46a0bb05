import type { ErrorBody } from '@herald/contracts';

/** An ack with `ok: false`, thrown by the client's request methods. `code` is one of PROTOCOL.md §2. */
export class HeraldRequestError extends Error {
  constructor(readonly error: ErrorBody) {
    super(error.message);
    this.name = 'HeraldRequestError';
  }

  get code() {
    return this.error.code;
  }

  get retryAfterMs() {
    return this.error.retryAfterMs;
  }
}
