import { AgentInputError, ToolError } from '@herald/agents';
import { ErrorCode, HeraldError } from '@herald/contracts';
import { UnrecoverableError } from 'bullmq';

/** The failed reason of a job whose run was cancelled (or stopped by the supervisor). */
export const CANCELLED = 'cancelled';

/**
 * What a job fails with, for BullMQ and the supervisor: an UnrecoverableError (no retry)
 * when the step was cancelled or its input is wrong; otherwise a retryable error, named
 * `CODE: message` when the code is known (the supervisor reads it).
 */
export function toJobFailure(err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return new UnrecoverableError(CANCELLED);
  if (err instanceof AgentInputError) return new UnrecoverableError(`${ErrorCode.INVALID_INPUT}: ${err.message}`);
  const known = err instanceof ToolError ? err.heraldCause : HeraldError.is(err) ? err : undefined;
  if (known) return new Error(`${known.code}: ${known.message}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** A job that can never succeed (bad data, unknown agent). */
export function invalidJob(message: string): UnrecoverableError {
  return new UnrecoverableError(`${ErrorCode.INVALID_INPUT}: ${message}`);
}
