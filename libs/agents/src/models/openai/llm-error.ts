import { ErrorCode, HeraldError } from '@herald/contracts';

/** A model call failed. `retryable`: trying again later may work (429, 5xx, timeouts, cut-off streams). */
export class LlmError extends HeraldError {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** For the logs only: the status and what the endpoint said. */
    readonly detail?: string,
    /** The endpoint's Retry-After header, when it sent one. */
    readonly retryAfter?: string,
  ) {
    super(ErrorCode.LLM_ERROR, message);
    this.name = 'LlmError';
  }
}
