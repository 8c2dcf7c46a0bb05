import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type RunCancelCommand, type Subjects } from '@herald/contracts';
import {
  broadcastRunCancel,
  flagRunCancelled,
  isRunCancelled,
  LOGGER,
  NATS,
  REDIS,
  type Redis,
  SUBJECTS,
  subscribeRunCancels,
} from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';

/**
 * Cancellation of runs: every orchestrator instance listens to the cancel broadcast and
 * aborts the runs it holds; the Redis flag makes a cancel that races the run's start stick.
 */
@Injectable()
export class RunCancellation implements OnModuleInit, OnApplicationShutdown {
  private readonly active = new Map<string, AbortController>();
  private subscription?: Subscription;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit() {
    this.subscription = subscribeRunCancels(this.nc, this.subjects, ({ runId, reason }) => this.abortLocal(runId, reason), this.logger);
  }

  /** After the runs in flight have finished (RunConsumer drains them in onModuleDestroy). */
  onApplicationShutdown() {
    this.subscription?.unsubscribe();
  }

  /** Tracks a run held by this instance; its signal aborts on cancel. */
  register(runId: string): AbortSignal {
    const controller = new AbortController();
    this.active.set(runId, controller);
    return controller.signal;
  }

  unregister(runId: string): void {
    this.active.delete(runId);
  }

  isCancelled(runId: string): Promise<boolean> {
    return isRunCancelled(this.redis, this.subjects, runId);
  }

  /** Cancels a run wherever it is: flags it, and tells every orchestrator and worker. */
  async cancel(command: RunCancelCommand): Promise<void> {
    await flagRunCancelled(this.redis, this.subjects, command);
    this.stopWorkers(command);
  }

  /** Asks the workers to stop a run's current job (a timeout, or a cancel seen here). */
  stopWorkers(command: RunCancelCommand): void {
    broadcastRunCancel(this.nc, this.subjects, command);
  }

  private abortLocal(runId: string, reason: string) {
    const controller = this.active.get(runId);
    if (controller && !controller.signal.aborted) {
      this.logger.info({ runId, reason }, 'run cancelled');
      controller.abort(new RunAborted(reason));
    }
  }
}

/** The reason a run's signal was aborted: a cancel, or an interrupt by a newer message. */
export class RunAborted extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RunAborted';
  }
}
