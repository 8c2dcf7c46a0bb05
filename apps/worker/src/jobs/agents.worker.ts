import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AgentJobResult, Config, Subjects } from '@herald/contracts';
import { BULLMQ_REDIS, CONFIG, LOGGER, type Logger, type Redis, SUBJECTS } from '@herald/messaging';
import { Worker } from 'bullmq';
import { AgentJobHandler } from './agent-job.handler';

/**
 * The BullMQ worker on the `agents` queue: takes up to WORKER_CONCURRENCY jobs at once and
 * hands each to the AgentJobHandler. Closing waits for the active jobs to finish.
 */
@Injectable()
export class AgentsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<unknown, AgentJobResult>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(BULLMQ_REDIS) private readonly connection: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly handler: AgentJobHandler,
  ) {}

  onApplicationBootstrap() {
    this.worker = new Worker<unknown, AgentJobResult>(
      this.subjects.queues.agents,
      (job, _token, signal) => this.handler.handle(job, signal),
      {
        connection: this.connection,
        prefix: this.subjects.bullmqPrefix,
        concurrency: this.config.WORKER_CONCURRENCY,
        // A killed worker's job goes back to the queue once its lock lapses and a stalled check sees it.
        lockDuration: this.config.WORKER_LOCK_DURATION_MS,
        stalledInterval: this.config.WORKER_STALLED_INTERVAL_MS,
      },
    );
    this.worker.on('error', (err) => this.logger.error({ err }, 'bullmq worker error'));
    this.logger.info({ queue: this.subjects.queues.agents, concurrency: this.config.WORKER_CONCURRENCY }, 'taking agent jobs');
  }

  async onModuleDestroy() {
    if (!this.worker) return;
    this.logger.info('finishing active jobs before shutdown');
    await this.worker.close();
  }
}
