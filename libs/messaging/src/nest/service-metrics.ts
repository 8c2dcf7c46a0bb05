import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * A service's Prometheus registry: Node's default metrics (CPU, memory, event-loop lag, GC),
 * broker connection health, and whatever the service's own modules add to `registry`.
 * One registry per application context, so two services in one test process stay apart.
 */
@Injectable()
export class ServiceMetrics {
  readonly registry = new Registry();

  /** NATS connection status changes (disconnect, reconnect, error, …). */
  readonly natsStatus = new Counter({
    name: 'herald_nats_status_changes_total',
    help: 'NATS connection status changes, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });

  /** Redis connection errors and reconnects. */
  readonly redisEvents = new Counter({
    name: 'herald_redis_connection_events_total',
    help: 'Redis connection errors and reconnects, by connection and event',
    labelNames: ['connection', 'event'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
