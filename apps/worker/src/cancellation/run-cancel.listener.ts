import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type Subjects } from '@herald/contracts';
import { LOGGER, NATS, SUBJECTS, subscribeRunCancels } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';
import { RunCancellations } from './run-cancellations.service';

/**
 * Listens to the cancel broadcast (core NATS; every worker gets every cancel) and aborts
 * the run's steps running here. It keeps listening while the worker finishes its active
 * jobs at shutdown.
 */
@Injectable()
export class RunCancelListener implements OnModuleInit, BeforeApplicationShutdown {
  private subscription?: Subscription;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cancellations: RunCancellations,
  ) {}

  onModuleInit() {
    this.subscription = subscribeRunCancels(
      this.nc,
      this.subjects,
      ({ runId, reason }) => {
        const aborted = this.cancellations.cancel(runId, reason);
        if (aborted > 0) this.logger.info({ runId, reason, steps: aborted }, 'run cancelled: aborting its steps');
      },
      this.logger,
    );
  }

  beforeApplicationShutdown() {
    this.subscription?.unsubscribe();
  }
}
