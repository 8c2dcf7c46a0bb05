import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Config } from '@herald/config';
import { type Subjects } from '@herald/contracts';
import { BULLMQ_REDIS, CONFIG, LOGGER, type Redis, startWorker, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { postWebhook } from './post-webhook';
import { type WebhookJob, webhookOriginOf } from './webhook-message';
import { WebhookMetrics } from './webhook-metrics.service';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './webhook-options';
import { WEBHOOK_BACKOFF } from './webhook-queue.service';
import { webhookRetryDelayMs } from './webhook-retry';
import { WebhookSigner } from './webhook-signer';
import { WebhookTargetRefused } from './webhook-target';

const USER_AGENT = 'Herald-Webhooks/1';

/** A delivery refused by the private-address rule: never retried, and not a delivery that gave up. */
class DeliveryRefused extends UnrecoverableError {}

/**
 * Delivers the queued webhooks (BullMQ, at least once): signs each attempt, POSTs it to the
 * pinned, checked address, and counts the outcome. A 2xx answer delivers; anything else
 * (another status, a timeout, a connection error) fails the attempt, which is tried again
 * with the same `webhook-id` on the schedule of webhookRetryDelayMs until the window ends.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<WebhookJob>;
  private readonly signer: WebhookSigner;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(BULLMQ_REDIS) private readonly connection: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    private readonly metrics: WebhookMetrics,
  ) {
    // loadConfig requires the secret with WEBHOOK_URLS, and this only runs with them.
    this.signer = new WebhookSigner(config.WEBHOOK_SECRET ?? '');
  }

  onApplicationBootstrap() {
    const windowMs = this.options.retryWindowMs;
    this.worker = startWorker<WebhookJob, void>(this.subjects, 'webhooks', this.connection, this.logger, (job) => this.deliver(job), {
      concurrency: this.options.concurrency,
      settings: {
        backoffStrategy: (attemptsMade, type, _err, job) =>
          type === WEBHOOK_BACKOFF ? webhookRetryDelayMs(attemptsMade, Date.now() - (job?.timestamp ?? Date.now()), windowMs) : -1,
      },
      // BullMQ will not try again: the window is spent.
      onFailedForGood: (job, err) => {
        if (err instanceof DeliveryRefused) return;
        this.metrics.deliveries.inc({ outcome: 'gave_up' });
        this.logger.error(
          {
            runId: job.data.runId,
            type: job.data.type,
            target: webhookOriginOf(job.data.url),
            attempts: job.attemptsMade,
            reason: err.message,
          },
          'webhook not delivered: every attempt failed; giving up',
        );
      },
    });
    this.logger.info(
      {
        queue: this.subjects.queues.webhooks,
        targets: this.config.WEBHOOK_URLS.map(webhookOriginOf),
        allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE,
      },
      'delivering webhooks',
    );
  }

  private async deliver(job: Job<WebhookJob>): Promise<void> {
    const { id, url, body, runId, type } = job.data;
    const context = { runId, type, webhookId: id, target: webhookOriginOf(url), attempt: job.attemptsMade + 1 };
    const stop = this.metrics.attemptSeconds.startTimer();
    try {
      const res = await postWebhook(new URL(url), {
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...this.signer.headers(id, body) },
        body,
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: this.options.maxResponseBytes,
        allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE,
        resolve: this.options.resolve,
      });
      if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
      this.metrics.deliveries.inc({ outcome: 'delivered' });
      this.logger.info({ ...context, status: res.status }, 'webhook delivered');
    } catch (err) {
      if (err instanceof WebhookTargetRefused) {
        this.metrics.deliveries.inc({ outcome: 'refused' });
        this.logger.warn(
          { ...context, address: err.address, range: err.range },
          'webhook refused: private target (WEBHOOK_ALLOW_PRIVATE is false); nothing sent',
        );
        throw new DeliveryRefused(err.message);
      }
      this.metrics.deliveries.inc({ outcome: 'failed' });
      this.logger.warn({ ...context, reason: (err as Error).message }, 'webhook attempt failed');
      throw err;
    } finally {
      stop();
    }
  }

  async onModuleDestroy() {
    await this.worker?.close();
  }
}
