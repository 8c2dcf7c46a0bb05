import { Module } from '@nestjs/common';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookEvents } from './webhook-events.service';
import { WebhookMetrics } from './webhook-metrics.service';
import { DEFAULT_WEBHOOK_OPTIONS, WEBHOOK_OPTIONS } from './webhook-options';
import { WebhookQueue } from './webhook-queue.service';

/**
 * Webhooks (PROTOCOL.md §10), only with WEBHOOK_URLS: the runs' terminal events become one
 * queued delivery per URL (WebhookEvents → WebhookQueue), which the delivery worker signs
 * and sends, with retries, to targets the private-address rule allows.
 */
@Module({
  providers: [
    { provide: WEBHOOK_OPTIONS, useValue: DEFAULT_WEBHOOK_OPTIONS },
    WebhookMetrics,
    WebhookQueue,
    WebhookDeliveryWorker,
    WebhookEvents,
  ],
})
export class WebhooksModule {}
