import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@herald/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Runs by outcome and duration, and the runs this instance drives now. */
@Injectable()
export class RunMetrics {
  private readonly outcomes: Counter<'outcome'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly active: Gauge;
  private readonly startedAt = new Map<string, number>();

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.outcomes = new Counter({
      name: 'herald_runs_total',
      help: 'Runs ended by this instance, by terminal event (orchestration_completed, run_cancelled, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'herald_run_duration_seconds',
      help: 'From orchestration_started to the terminal event, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.active = new Gauge({ name: 'herald_runs_active', help: 'Runs started and not yet ended on this instance', registers });
  }

  started(runId: string): void {
    if (!this.startedAt.has(runId)) this.active.inc();
    this.startedAt.set(runId, Date.now());
  }

  ended(runId: string, outcome: string): void {
    this.outcomes.inc({ outcome });
    const started = this.startedAt.get(runId);
    if (started === undefined) return;
    this.startedAt.delete(runId);
    this.active.dec();
    this.duration.observe({ outcome }, (Date.now() - started) / 1000);
  }
}
