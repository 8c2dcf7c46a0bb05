import type { Subjects } from '@herald/contracts';
import { type Job, type Processor, Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from '@herald/observability';
import type { Redis } from './redis';

/**
 * What Herald's apps need of BullMQ, in one place: this deployment's queues (their names and
 * key prefix), workers set up one way, and the one read of BullMQ's own Redis layout (a job's
 * outcome). `bullmq` is pinned to an exact version because of that read.
 */

export type QueueName = keyof Subjects['queues'];

/** A queue of this deployment, to add jobs to or count them. */
export function openQueue<T = unknown>(subjects: Subjects, name: QueueName, connection: Redis): Queue<T> {
  return new Queue<T>(subjects.queues[name], { connection, prefix: subjects.bullmqPrefix });
}

export interface QueueWorkerOptions<T, R> extends Omit<WorkerOptions, 'connection' | 'prefix'> {
  /** BullMQ has recorded that a job completed. */
  onCompleted?(job: Job<T, R>, result: R): void;
  /** BullMQ has recorded that a job failed for good: no attempt left, or an UnrecoverableError. */
  onFailedForGood?(job: Job<T, R>, err: Error): void;
}

/** A worker on one of this deployment's queues; its errors are logged. Close it to stop (active jobs finish first). */
export function startWorker<T, R>(
  subjects: Subjects,
  name: QueueName,
  connection: Redis,
  logger: Logger,
  processor: Processor<T, R>,
  { onCompleted, onFailedForGood, ...options }: QueueWorkerOptions<T, R>,
): Worker<T, R> {
  const worker = new Worker<T, R>(subjects.queues[name], processor, { ...options, connection, prefix: subjects.bullmqPrefix });
  worker.on('error', (err) => logger.error({ err, queue: name }, 'bullmq worker error'));
  if (onCompleted) worker.on('completed', (job, result) => onCompleted(job, result));
  if (onFailedForGood) {
    worker.on('failed', (job, err) => {
      // finishedOn is only set when BullMQ moved the job to the failed set; a failed attempt it retries has none.
      if (job?.finishedOn) onFailedForGood(job, err);
    });
  }
  return worker;
}

/** A job's outcome as Redis holds it: still to settle, completed (its stored return value), failed, or removed. */
export type JobOutcome =
  | { state: 'pending' }
  | { state: 'completed'; returnvalue: string | null }
  | { state: 'failed'; reason: string | undefined }
  | { state: 'removed' };

/**
 * Reads the jobs' outcomes as BullMQ's own isFinished does (the job's hash, the completed and
 * failed sets: O(1) each, pipelined), then the stored result of the finished ones. Rejects if
 * any read fails.
 */
export async function readJobOutcomes(queue: Queue, redis: Redis, jobIds: readonly string[]): Promise<Map<string, JobOutcome>> {
  const pipeline = redis.pipeline();
  for (const id of jobIds) {
    pipeline.exists(queue.toKey(id));
    pipeline.zscore(queue.keys.completed, id);
    pipeline.zscore(queue.keys.failed, id);
  }
  const replies = (await pipeline.exec()) ?? [];
  const outcomes = new Map<string, JobOutcome>();
  await Promise.all(
    jobIds.map(async (id, i) => {
      const [[e1, exists], [e2, completed], [e3, failed]] = replies.slice(i * 3, i * 3 + 3);
      if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
      if (exists !== 1) return outcomes.set(id, { state: 'removed' });
      if (completed === null && failed === null) return outcomes.set(id, { state: 'pending' });
      const [returnvalue, failedReason] = await redis.hmget(queue.toKey(id), 'returnvalue', 'failedReason');
      outcomes.set(id, completed !== null ? { state: 'completed', returnvalue } : { state: 'failed', reason: failedReason ?? undefined });
    }),
  );
  return outcomes;
}
