import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { onUnhandledError, UNHANDLED_KINDS } from './process-guards';

/**
 * A service's Prometheus registry: Node's default metrics (CPU, memory, event-loop lag, GC),
 * broker connection health, and whatever the service's own modules add to `registry`.
 * One registry per application context, so two services in one test process stay apart.
 */
@Injectable()
export class ServiceMetrics implements OnModuleDestroy {
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

  /** Storage RPC calls that got no usable answer, by operation and reason (timeout, no_responders, …). */
  readonly rpcFailures = new Counter({
    name: 'herald_rpc_client_failures_total',
    help: 'Storage RPC calls that got no usable answer, by operation and reason',
    labelNames: ['op', 'reason'],
    registers: [this.registry],
  });

  /** Errors nothing handled: unhandled promise rejections and uncaught exceptions (installProcessGuards). */
  readonly unhandledErrors = new Counter({
    name: 'herald_unhandled_errors_total',
    help: 'Unhandled promise rejections and uncaught exceptions in this process, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  private readonly stopCounting: () => void;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const kind of UNHANDLED_KINDS) this.unhandledErrors.inc({ kind }, 0);
    this.stopCounting = onUnhandledError((kind) => this.unhandledErrors.inc({ kind }));
  }

  onModuleDestroy(): void {
    this.stopCounting();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
