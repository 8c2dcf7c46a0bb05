import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@herald/observability';
import { Counter, Histogram } from 'prom-client';

/** The event writer's throughput, batch sizes and latency (its database errors: DatabaseMetrics). */
@Injectable()
export class EventLogMetrics {
  readonly written: Counter;
  readonly dropped: Counter;
  readonly batchSize: Histogram;
  readonly writeSeconds: Histogram;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.written = new Counter({ name: 'herald_events_written_total', help: 'Events written to the Postgres event log', registers });
    this.dropped = new Counter({
      name: 'herald_events_dropped_total',
      help: 'Events that can never be stored (invalid), terminated',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'herald_event_batch_size',
      help: 'Events per batched write',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers,
    });
    this.writeSeconds = new Histogram({
      name: 'herald_event_batch_write_seconds',
      help: 'How long one batched write (one transaction) took',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
  }
}
