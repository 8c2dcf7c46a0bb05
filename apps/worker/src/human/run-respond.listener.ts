import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { fitsRequest, type HumanChannel, type HumanRequest, type HumanResponse } from '@herald/agents';
import { runRespondCommandSchema, type Subjects } from '@herald/contracts';
import { LOGGER, NATS, SUBJECTS, subscribeJson } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';

interface Waiter {
  request: HumanRequest;
  resolve: (response: HumanResponse) => void;
}

/**
 * The worker's HumanChannel: listens to the `run:respond` broadcast (core NATS; every worker
 * gets every answer) and resolves the step here that waits for that run and request id. An
 * answer for a request nobody here waits for, or of the wrong kind (text to an approval), is
 * ignored: the step keeps waiting until its timeout.
 */
@Injectable()
export class RunRespondListener implements HumanChannel, OnModuleInit, BeforeApplicationShutdown {
  private subscription?: Subscription;
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit() {
    this.subscription = subscribeJson(
      this.nc,
      this.subjects.runRespond,
      runRespondCommandSchema,
      ({ runId, requestId, response }) => {
        if (this.deliver(runId, requestId, response)) this.logger.info({ runId, requestId }, 'the user answered');
      },
      this.logger,
    );
  }

  beforeApplicationShutdown() {
    this.subscription?.unsubscribe();
  }

  waitFor(request: HumanRequest, signal: AbortSignal): Promise<HumanResponse> {
    const key = keyOf(request.runId, request.requestId);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        if (this.waiters.get(key)?.request === request) this.waiters.delete(key);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(key, {
        request,
        resolve: (response) => {
          signal.removeEventListener('abort', onAbort);
          this.waiters.delete(key);
          resolve(response);
        },
      });
    });
  }

  /** Hands an answer to the step waiting for it; false when none here waits for it, or it does not fit. */
  deliver(runId: string, requestId: string, response: HumanResponse): boolean {
    const waiter = this.waiters.get(keyOf(runId, requestId));
    if (!waiter) return false;
    if (!fitsRequest(waiter.request.kind, response)) {
      this.logger.info({ runId, requestId, kind: waiter.request.kind }, 'ignored an answer of the wrong kind');
      return false;
    }
    waiter.resolve(response);
    return true;
  }

  get waiting(): number {
    return this.waiters.size;
  }
}

function keyOf(runId: string, requestId: string): string {
  return `${runId}\u0000${requestId}`;
}
