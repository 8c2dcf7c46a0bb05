import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { runCancelCommandSchema, type Subjects } from '@herald/contracts';
import { decodeJson, LOGGER, NATS, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';
import { RunCancellations } from './run-cancellations';

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
    this.subscription = this.nc.subscribe(this.subjects.runCancel, {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err }, 'cancel subscription error');
          return;
        }
        const command = runCancelCommandSchema.safeParse(safeDecode(msg.data));
        if (!command.success) {
          this.logger.warn('ignored a malformed cancel command');
          return;
        }
        const { runId, reason } = command.data;
        const aborted = this.cancellations.cancel(runId, reason);
        if (aborted > 0) this.logger.info({ runId, reason, steps: aborted }, 'run cancelled: aborting its steps');
      },
    });
  }

  beforeApplicationShutdown() {
    this.subscription?.unsubscribe();
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}
