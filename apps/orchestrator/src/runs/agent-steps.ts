import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type AgentJob, type AgentJobResult, agentJobId, agentJobResultSchema, type Subjects } from '@herald/contracts';
import { BULLMQ_REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import { Queue, QueueEvents } from 'bullmq';
import { RunAborted, RunCancellation } from './run-cancellation';

/** How long the supervisor waits for a job to settle after asking a worker to stop it. */
const SETTLE_AFTER_STOP_MS = 5_000;
/** The failed reason of a job a worker aborted because its run was cancelled (the worker's CANCELLED). */
const JOB_CANCELLED = 'cancelled';
/** How long a step the workers cancelled waits for the run's own cancel notice before reading the flag. */
const CANCEL_NOTICE_MS = 1_000;

export class StepTimeout extends Error {
  constructor(readonly agent: string) {
    super(`step ${agent} timed out`);
    this.name = 'StepTimeout';
  }
}

export class StepFailed extends Error {
  constructor(
    readonly agent: string,
    readonly reason: string,
  ) {
    super(`step ${agent} failed: ${reason}`);
    this.name = 'StepFailed';
  }
}

/**
 * Runs one sub-agent step as a BullMQ job and waits for its result. The job id is derived
 * from the run and step, so a re-delivered run request does not start a step twice.
 */
@Injectable()
export class AgentSteps implements OnApplicationShutdown {
  private readonly queue: Queue;
  private readonly queueEvents: QueueEvents;

  constructor(
    @Inject(BULLMQ_REDIS) connection: Redis,
    @Inject(SUBJECTS) subjects: Subjects,
    private readonly cancellation: RunCancellation,
  ) {
    const opts = { connection, prefix: subjects.bullmqPrefix };
    this.queue = new Queue(subjects.queues.agents, opts);
    this.queueEvents = new QueueEvents(subjects.queues.agents, { ...opts, connection: connection.duplicate() });
  }

  async onApplicationShutdown() {
    await this.queueEvents.close();
    await this.queue.close();
  }

  /**
   * Resolves with the job's result. On abort (cancel) or timeout, `stop` is called so the
   * workers abort the job, and this waits for it to settle: no event of the step can then
   * follow the run's terminal event.
   */
  async run(job: AgentJob, opts: { signal: AbortSignal; timeoutMs: number; stop: () => void }): Promise<AgentJobResult> {
    opts.signal.throwIfAborted();
    const added = await this.queue.add(job.agent, job, {
      jobId: agentJobId(job.runId, job.step),
      attempts: 3,
      backoff: { type: 'exponential', delay: 250 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    });
    const finished = added.waitUntilFinished(this.queueEvents);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<'aborted' | 'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
      onAbort = () => resolve('aborted');
      opts.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const outcome = await Promise.race([finished.then((value) => ({ value })), interrupted]);
      if (typeof outcome === 'object') return agentJobResultSchema.parse(outcome.value);
      opts.stop();
      await Promise.race([finished.catch(() => undefined), sleep(SETTLE_AFTER_STOP_MS)]);
      if (outcome === 'timeout') throw new StepTimeout(job.agent);
      throw opts.signal.reason;
    } catch (err) {
      if (err instanceof StepTimeout || err === opts.signal.reason) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (reason === JOB_CANCELLED) throw await this.cancelledByWorkers(job, opts.signal);
      if (opts.signal.aborted) throw opts.signal.reason;
      throw new StepFailed(job.agent, reason);
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal.removeEventListener('abort', onAbort);
      finished.catch(() => undefined);
    }
  }

  /**
   * What a job the workers cancelled means for the run. A cancel reaches the workers and this
   * instance separately, and the job's failure may arrive first: the run is cancelled, with
   * the cancel's own reason once its notice arrives, unless no cancel was ever asked for.
   */
  private async cancelledByWorkers(job: AgentJob, signal: AbortSignal): Promise<unknown> {
    if (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CANCEL_NOTICE_MS);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    if (signal.aborted) return signal.reason;
    const flagged = await this.cancellation.isCancelled(job.runId).catch(() => false);
    return flagged ? new RunAborted('cancelled_by_user') : new StepFailed(job.agent, JOB_CANCELLED);
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
