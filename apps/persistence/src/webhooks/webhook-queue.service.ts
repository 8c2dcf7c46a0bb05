import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type Config } from '@herald/config';
import { type Subjects, type WebhookPayload } from '@herald/contracts';
import { BULLMQ_REDIS, CONFIG, openQueue, type Redis, SUBJECTS } from '@herald/messaging';
import { type JobsOptions, Queue } from 'bullmq';
import { type WebhookJob, webhookIdOf, webhookJobIdOf } from './webhook-message';

/** BullMQ's name of the custom backoff (webhookRetryDelayMs), set on the delivery worker. */
export const WEBHOOK_BACKOFF = 'webhook';
const KEEP_SECONDS = 7 * 24 * 3600;

const JOB_OPTIONS: JobsOptions = {
  // The retry window ends the retries (webhookRetryDelayMs answers -1); this only bounds them.
  attempts: 100,
  backoff: { type: WEBHOOK_BACKOFF },
  // Kept a week (bounded in number): a terminal event seen again finds its job and queues nothing.
  removeOnComplete: { age: KEEP_SECONDS, count: 100_000 },
  removeOnFail: { age: KEEP_SECONDS, count: 100_000 },
};

/** Queues a run's webhook for each URL of WEBHOOK_URLS: one job per (run, URL), whatever happens twice. */
@Injectable()
export class WebhookQueue implements OnModuleDestroy {
  readonly queue: Queue<WebhookJob>;

  constructor(
    @Inject(BULLMQ_REDIS) connection: Redis,
    @Inject(SUBJECTS) subjects: Subjects,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.queue = openQueue<WebhookJob>(subjects, 'webhooks', connection);
  }

  async enqueue(payload: WebhookPayload): Promise<void> {
    const { runId } = payload.data;
    const id = webhookIdOf(runId);
    const body = JSON.stringify(payload);
    await this.queue.addBulk(
      this.config.WEBHOOK_URLS.map((url) => ({
        name: payload.type,
        data: { id, url, body, runId, type: payload.type },
        opts: { ...JOB_OPTIONS, jobId: webhookJobIdOf(runId, url) },
      })),
    );
  }

  async onModuleDestroy() {
    await this.queue.close();
  }
}
