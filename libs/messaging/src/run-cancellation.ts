import type { RunCancelCommand, Subjects } from '@herald/contracts';
import { runCancelCommandSchema } from '@herald/contracts';
import type { NatsConnection, Subscription } from 'nats';
import { encodeJson } from './codec';
import { buildHeaders, HEADER } from './headers';
import type { Logger } from '@herald/observability';
import type { Redis } from './redis';
import { subscribeJson } from './subscribe-json';

/**
 * Cancelling a run, in one place for the gateway, the orchestrators and the workers: a flag in
 * Redis (so a cancel that races the run's start, or a step queued later, is not lost) and a
 * core NATS broadcast that every orchestrator and worker listens to.
 */

/** How long a run's cancel flag stays in Redis: longer than any run waits to start. */
export const RUN_CANCEL_FLAG_TTL_SECONDS = 24 * 3600;

/** The `reason` of a cancel (and of the run's `run_cancelled` event), by who asked for it. */
export const CANCEL_REASON = {
  /** `run:cancel` from the user, or a cancel that came before the run started. */
  user: 'cancelled_by_user',
  /** A newer message of the conversation with `onBusy: interrupt`. */
  interrupted: 'interrupted by a newer message',
  /** The supervisor stopping the run's other jobs (a timeout, a failed parallel sibling). */
  supervisor: 'stopped by the supervisor',
} as const;

/** Sets the run's cancel flag (its value is the reason). */
export async function flagRunCancelled(redis: Redis, subjects: Subjects, command: RunCancelCommand): Promise<void> {
  await redis.set(subjects.keys.runCancelled(command.runId), command.reason, 'EX', RUN_CANCEL_FLAG_TTL_SECONDS);
}

/** True when the run's cancel flag is set. */
export async function isRunCancelled(redis: Redis, subjects: Subjects, runId: string): Promise<boolean> {
  return (await redis.exists(subjects.keys.runCancelled(runId))) === 1;
}

/** Tells every orchestrator and worker to stop the run (core NATS, fire and forget: the flag is what lasts). */
export function broadcastRunCancel(nc: NatsConnection, subjects: Subjects, command: RunCancelCommand): void {
  const headers = buildHeaders({ [HEADER.user]: command.userId, [HEADER.run]: command.runId });
  nc.publish(subjects.runCancel, encodeJson(command), { headers });
}

/** Listens to the cancel broadcast; malformed commands are logged and dropped. */
export function subscribeRunCancels(
  nc: NatsConnection,
  subjects: Subjects,
  onCancel: (command: RunCancelCommand) => void,
  logger?: Logger,
): Subscription {
  return subscribeJson(nc, subjects.runCancel, runCancelCommandSchema, onCancel, logger);
}
