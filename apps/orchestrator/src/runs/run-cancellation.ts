import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type RunCancelCommand, runCancelCommandSchema, type Subjects } from '@herald/contracts';
import { decodeJson, encodeJson, LOGGER, NATS, REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';

const CANCEL_FLAG_TTL_SECONDS = 24 * 3600;

/**
 * Cancellation of runs: every orchestrator instance listens to the cancel subject and aborts
 * the runs it holds; the Redis flag makes a cancel that races the run's start stick.
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
    this.subscription = this.nc.subscribe(this.subjects.runCancel, {
      callback: (err, msg) => {
        if (err) return;
        const parsed = runCancelCommandSchema.safeParse(safeDecode(msg.data));
        if (parsed.success) this.abortLocal(parsed.data.runId, parsed.data.reason);
      },
    });
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

  async isCancelled(runId: string): Promise<boolean> {
    return (await this.redis.exists(this.subjects.keys.runCancelled(runId))) === 1;
  }

  /** Cancels a run wherever it is: flags it, and tells every orchestrator and worker. */
  async cancel(command: RunCancelCommand): Promise<void> {
    await this.redis.set(this.subjects.keys.runCancelled(command.runId), command.reason, 'EX', CANCEL_FLAG_TTL_SECONDS);
    this.stopWorkers(command);
  }

  /** Asks the workers to stop a run's current job (a timeout, or a cancel seen here). */
  stopWorkers(command: RunCancelCommand): void {
    this.nc.publish(this.subjects.runCancel, encodeJson(command));
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

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}
