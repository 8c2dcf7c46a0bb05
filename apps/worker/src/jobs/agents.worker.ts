import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Config } from '@herald/config';
import { type AgentJobResult, type StepSettledNotice, type Subjects } from '@herald/contracts';
import { BULLMQ_REDIS, CONFIG, encodeJson, LOGGER, NATS, type Redis, startWorker, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Worker } from 'bullmq';
import type { NatsConnection } from 'nats';
import { AgentJobHandler } from './agent-job.handler';

/**
 * The BullMQ worker on the `agents` queue: takes up to WORKER_CONCURRENCY jobs at once and
 * hands each to the AgentJobHandler. Closing waits for the active jobs to finish.
 *
 * Once BullMQ has recorded that a job settled for good (completed, or failed with no retry
 * left), a step-settled notice tells the orchestrators (core NATS, fire and forget: the
 * supervisor also reads the job's state from Redis, so a lost notice only delays it).
 */
@Injectable()
export class AgentsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<unknown, AgentJobResult>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(BULLMQ_REDIS) private readonly connection: Redis,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly handler: AgentJobHandler,
  ) {}

  onApplicationBootstrap() {
    this.worker = startWorker<unknown, AgentJobResult>(
      this.subjects,
      'agents',
      this.connection,
      this.logger,
      (job, _token, signal) => this.handler.handle(job, signal),
      {
        concurrency: this.config.WORKER_CONCURRENCY,
        // A killed worker's job goes back to the queue once its lock lapses and a stalled check sees it.
        lockDuration: this.config.WORKER_LOCK_DURATION_MS,
        stalledInterval: this.config.WORKER_STALLED_INTERVAL_MS,
        // Both come once BullMQ has recorded the outcome in Redis.
        onCompleted: (job, result) => {
          if (job.id) this.notify({ jobId: job.id, state: 'completed', result });
        },
        onFailedForGood: (job, err) => {
          if (job.id) this.notify({ jobId: job.id, state: 'failed', reason: job.failedReason ?? err.message });
        },
      },
    );
    this.logger.info({ queue: this.subjects.queues.agents, concurrency: this.config.WORKER_CONCURRENCY }, 'taking agent jobs');
  }

  private notify(notice: StepSettledNotice) {
    try {
      this.nc.publish(this.subjects.stepSettled, encodeJson(notice));
    } catch (err) {
      // Closed connection, payload over NATS's limit: the supervisor reads the state from Redis.
      this.logger.warn({ err, jobId: notice.jobId }, 'step-settled notice not published');
    }
  }

  async onModuleDestroy() {
    if (!this.worker) return;
    this.logger.info('finishing active jobs before shutdown');
    await this.worker.close();
  }
}
