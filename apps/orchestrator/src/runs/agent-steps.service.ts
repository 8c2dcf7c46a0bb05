import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  AGENT_JOB_OPTIONS,
  type AgentJob,
  agentJobId,
  type AgentJobResult,
  agentJobResultSchema,
  JOB_CANCELLED_REASON,
  type Subjects,
} from '@herald/contracts';
import { BULLMQ_REDIS, CANCEL_REASON, LOGGER, NATS, openQueue, type Redis, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Queue } from 'bullmq';
import type { NatsConnection } from 'nats';
import { setTimeout as delay } from 'node:timers/promises';
import { RunAborted, RunCancellation } from './run-cancellation.service';
import { StepSettlements } from './step-settlements';

/** How long the supervisor waits for a job to settle after asking a worker to stop it. */
const SETTLE_AFTER_STOP_MS = 5_000;
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
 * from the run and step, so a re-delivered run request does not start a step twice. That the
 * job has settled comes from the workers' step-settled notices and from its state in Redis
 * (StepSettlements).
 */
@Injectable()
export class AgentSteps implements OnModuleInit, OnApplicationShutdown {
  private readonly queue: Queue;
  private readonly settlements: StepSettlements;

  constructor(
    @Inject(BULLMQ_REDIS) connection: Redis,
    @Inject(NATS) nc: NatsConnection,
    @Inject(SUBJECTS) subjects: Subjects,
    @Inject(LOGGER) logger: Logger,
    private readonly cancellation: RunCancellation,
  ) {
    this.queue = openQueue(subjects, 'agents', connection);
    this.settlements = new StepSettlements(nc, subjects.stepSettled, this.queue, connection, logger);
  }

  async onModuleInit() {
    await this.settlements.start();
  }

  /** After the runs in flight have finished (RunConsumer drains them in onModuleDestroy). */
  async onApplicationShutdown() {
    this.settlements.stop();
    await this.queue.close();
  }

  /**
   * Resolves with the job's result. On abort (cancel) or timeout, `stop` is called so the
   * workers abort the job, and this waits for it to settle: no event of the step can then
   * follow the run's terminal event.
   */
  async run(job: AgentJob, opts: { signal: AbortSignal; timeoutMs: number; stop: () => void }): Promise<AgentJobResult> {
    opts.signal.throwIfAborted();
    const jobId = agentJobId(job.runId, job.step);
    const wait = this.settlements.wait(jobId);
    try {
      await this.queue.add(job.agent, job, { ...AGENT_JOB_OPTIONS, jobId });
      // A re-delivered run request finds the job it queued before, which may have settled already.
      wait.queued();
      return await this.outcome(job, wait.settled, opts);
    } finally {
      wait.release();
    }
  }

  private async outcome(
    job: AgentJob,
    finished: Promise<unknown>,
    opts: { signal: AbortSignal; timeoutMs: number; stop: () => void },
  ): Promise<AgentJobResult> {
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
      let settleTimer: NodeJS.Timeout | undefined;
      await Promise.race([finished.catch(() => undefined), new Promise((r) => (settleTimer = setTimeout(r, SETTLE_AFTER_STOP_MS)))]);
      clearTimeout(settleTimer);
      if (outcome === 'timeout') throw new StepTimeout(job.agent);
      throw opts.signal.reason;
    } catch (err) {
      if (err instanceof StepTimeout || err === opts.signal.reason) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (reason === JOB_CANCELLED_REASON) throw await this.cancelledByWorkers(job, opts.signal);
      if (opts.signal.aborted) throw opts.signal.reason;
      throw new StepFailed(job.agent, reason);
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * What a job the workers cancelled means for the run. A cancel reaches the workers and this
   * instance separately, and the job's failure may arrive first: the run is cancelled, with
   * the cancel's own reason once its notice arrives, unless no cancel was ever asked for.
   */
  private async cancelledByWorkers(job: AgentJob, signal: AbortSignal): Promise<unknown> {
    // Until the notice aborts the signal, or CANCEL_NOTICE_MS.
    await delay(CANCEL_NOTICE_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return signal.reason;
    const flagged = await this.cancellation.isCancelled(job.runId).catch(() => false);
    return flagged ? new RunAborted(CANCEL_REASON.user) : new StepFailed(job.agent, JOB_CANCELLED_REASON);
  }
}
