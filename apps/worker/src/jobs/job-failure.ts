import { AgentInputError, ToolError } from '@herald/agents';
import { ErrorCode, HeraldError, JOB_CANCELLED_REASON, jobFailureReason } from '@herald/contracts';
import { UnrecoverableError } from 'bullmq';

/**
 * What a job fails with, for BullMQ and the supervisor: an UnrecoverableError (no retry)
 * when the step was cancelled, its input is wrong, its cause says retrying cannot help
 * (`retryable: false`), or `final` (the step already published what a retry must not
 * publish again: see JobEventSink.unrepeatable); otherwise a retryable error. The reason is
 * `CODE: message` (`CODE (final): message`) when the code is known: the supervisor reads it.
 */
export function toJobFailure(err: unknown, signal: AbortSignal, final = false): Error {
  if (signal.aborted) return new UnrecoverableError(JOB_CANCELLED_REASON);
  if (err instanceof AgentInputError) return new UnrecoverableError(jobFailureReason(ErrorCode.INVALID_INPUT, err.message, false));
  const known = err instanceof ToolError ? err.heraldCause : HeraldError.is(err) ? err : undefined;
  if (known) {
    const retryable = (known as HeraldError & { retryable?: boolean }).retryable !== false;
    const reason = jobFailureReason(known.code, known.message, retryable);
    return final || !retryable ? new UnrecoverableError(reason) : new Error(reason, { cause: err });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return final ? new UnrecoverableError(error.message) : error;
}

/** A job that can never succeed (bad data, unknown agent). */
export function invalidJob(message: string): UnrecoverableError {
  return new UnrecoverableError(jobFailureReason(ErrorCode.INVALID_INPUT, message, false));
}
