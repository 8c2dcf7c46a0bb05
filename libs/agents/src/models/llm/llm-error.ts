import { ErrorCode, HeraldError } from '@herald/contracts';
import { APICallError, InvalidResponseDataError, RetryError } from 'ai';

/** A model call failed. `retryable`: trying again later may work (429, 5xx, timeouts, cut-off streams). */
export class LlmError extends HeraldError {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** For the logs only: the status and what the endpoint said. */
    readonly detail?: string,
  ) {
    super(ErrorCode.LLM_ERROR, message);
    this.name = 'LlmError';
  }
}

/** Marks the APICallError a timed-out attempt fails with (see timeoutFetch). */
export const ATTEMPT_TIMEOUT = 'llm-attempt-timeout';

/**
 * What a failure of the AI SDK means for Herald: an LlmError with a line users may read
 * (never the endpoint's own words: those go to `detail`, for the logs) and whether trying
 * again later may help.
 */
export function toLlmError(err: unknown): LlmError {
  if (err instanceof LlmError) return err;
  if (RetryError.isInstance(err)) return toLlmError(err.lastError);
  if (APICallError.isInstance(err)) {
    if (err.data === ATTEMPT_TIMEOUT) return new LlmError('The language model took too long to answer.', true, err.message);
    const status = err.statusCode;
    const detail = `${status ?? 'no response'} ${(err.responseBody ?? err.message).slice(0, 500)}`;
    if (status === undefined) return new LlmError('The language model could not be reached.', true, detail);
    if (status === 429) return new LlmError('The language model is busy right now.', true, detail);
    if (status >= 500) return new LlmError('The language model failed.', true, detail);
    return new LlmError('The language model refused the request.', false, detail);
  }
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new LlmError('The language model took too long to answer.', true, err.message);
  }
  if (InvalidResponseDataError.isInstance(err) && /without a finish reason/i.test(err.message)) {
    return new LlmError('The language model stopped in the middle of its answer.', true, err.message);
  }
  if (err instanceof Error)
    return new LlmError('The language model sent an answer that could not be used.', true, `${err.name}: ${err.message}`.slice(0, 500));
  // An error object the endpoint streamed (`data: {"error": …}`).
  return new LlmError('The language model failed while answering.', true, safeJson(err).slice(0, 500));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
