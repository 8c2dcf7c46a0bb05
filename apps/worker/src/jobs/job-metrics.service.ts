import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Subjects } from '@herald/contracts';
import { BULLMQ_REDIS, openQueue, type Redis, SUBJECTS } from '@herald/messaging';
import { ServiceMetrics } from '@herald/observability';
import { Queue } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Agent jobs by agent and outcome, their durations, and the queue's depth (read at scrape time). */
@Injectable()
export class JobMetrics implements OnModuleDestroy {
  private readonly jobs: Counter<'agent' | 'outcome'>;
  private readonly duration: Histogram<'agent'>;
  private readonly queue: Queue;

  constructor(metrics: ServiceMetrics, @Inject(BULLMQ_REDIS) connection: Redis, @Inject(SUBJECTS) subjects: Subjects) {
    const registers = [metrics.registry];
    this.queue = openQueue(subjects, 'agents', connection);
    this.jobs = new Counter({
      name: 'herald_agent_jobs_total',
      help: 'Agent steps run by this worker, by agent and outcome (completed, failed, cancelled)',
      labelNames: ['agent', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'herald_agent_job_duration_seconds',
      help: 'How long an agent step ran on this worker, by agent',
      labelNames: ['agent'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    });
    const queue = this.queue;
    new Gauge({
      name: 'herald_agent_queue_jobs',
      help: 'Jobs in the agents queue, by state (shared by every worker)',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
        if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
  }

  /** Times one step; call the returned function with its outcome. */
  start(agent: string): (outcome: 'completed' | 'failed' | 'cancelled') => void {
    const stop = this.duration.startTimer({ agent });
    return (outcome) => {
      stop();
      this.jobs.inc({ agent, outcome });
    };
  }

  async onModuleDestroy() {
    await this.queue.close();
  }
}
