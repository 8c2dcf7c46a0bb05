import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@herald/observability';
import { Counter, Histogram } from 'prom-client';

/** How a delivery attempt (or a whole delivery) ended. */
const WEBHOOK_OUTCOMES = ['delivered', 'failed', 'refused', 'gave_up'] as const;

/** Webhook deliveries by outcome, and how long the receivers take to answer. */
@Injectable()
export class WebhookMetrics {
  /**
   * `delivered`: answered 2xx; `failed`: one attempt that failed (it is retried);
   * `refused`: a private or loopback target, nothing sent (WEBHOOK_ALLOW_PRIVATE);
   * `gave_up`: a delivery whose every attempt failed within the retry window.
   */
  readonly deliveries: Counter<'outcome'>;
  readonly attemptSeconds: Histogram;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({
      name: 'herald_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, failed (retried), refused (private target), gave_up (retries spent)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of WEBHOOK_OUTCOMES) this.deliveries.inc({ outcome }, 0);
    this.attemptSeconds = new Histogram({
      name: 'herald_webhook_attempt_seconds',
      help: 'How long one webhook delivery attempt took, to the answer or the failure',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }
}
