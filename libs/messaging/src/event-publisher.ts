import {
  boundEventData,
  ErrorCode,
  HeraldError,
  type EventData,
  type EventType,
  type StoredEvent,
  type Subjects,
  type Trace,
} from '@herald/contracts';
import { encodeJson } from './codec';
import { buildHeaders, HEADER } from './headers';
import type { StreamPublisher } from './jetstream-publisher';
import { PUBLISH_RETRY, retryTransient } from './nats';

/** Who an event belongs to: it is published on a subject naming all three. */
export interface RunScope {
  userId: string;
  conversationId: string;
  runId: string;
  /** W3C traceparent of the span publishing (a header on every event: a run is one trace). */
  traceparent?: string;
}

export interface PublishOptions {
  progress: number;
  trace?: Trace;
  /**
   * JetStream de-duplication key (Nats-Msg-Id). Deterministic per event of a run, so a
   * retried publish, or a retried job that replays the same steps, stores the event once.
   */
  msgId: string;
}

/** An event larger than one NATS message may be: it is not published (the publish rejects with this). */
export class EventTooLargeError extends HeraldError {
  constructor(
    readonly type: EventType,
    readonly bytes: number,
    readonly budget: number,
  ) {
    super(ErrorCode.INTERNAL, 'This step produced more data than can be sent.');
    this.name = 'EventTooLargeError';
  }
}

/**
 * Publishes lifecycle events to the EVENTS stream and waits for JetStream's ack. The events
 * of one run are stored in the order they were published, even when a publish has to be
 * tried again (PUBLISH_RETRY) while the stream has no leader: each waits for the one before.
 *
 * Every producer's events pass here, so here they are bounded (PROTOCOL.md §3): a tool's
 * `input` or `output` over 32 KiB is cut, with `truncated: true` beside it (boundEventData);
 * an event still larger than one NATS message may carry is refused with EventTooLargeError
 * (a rejected publish, which the producer handles like any other), never sent.
 */
export class EventPublisher {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly js: StreamPublisher,
    private readonly subjects: Subjects,
  ) {}

  /** Resolves with the stream sequence: the event's id. */
  publish<T extends EventType>(scope: RunScope, type: T, data: EventData<T>, opts: PublishOptions): Promise<number> {
    const event = {
      type,
      runId: scope.runId,
      conversationId: scope.conversationId,
      ts: new Date().toISOString(),
      progress: Math.round(opts.progress * 1000) / 1000,
      data: boundEventData(type, data),
      ...(opts.trace ? { trace: opts.trace } : {}),
    } as StoredEvent;
    const previous = this.tails.get(scope.runId) ?? Promise.resolve();
    const sent = previous.then(
      () => this.send(scope, event, opts),
      () => this.send(scope, event, opts),
    );
    this.tails.set(scope.runId, sent);
    const forget = () => {
      if (this.tails.get(scope.runId) === sent) this.tails.delete(scope.runId);
    };
    sent.then(forget, forget);
    return sent;
  }

  private async send(scope: RunScope, event: StoredEvent, opts: PublishOptions): Promise<number> {
    const subject = this.subjects.events(scope.userId, scope.conversationId, scope.runId);
    const headers = buildHeaders({ [HEADER.user]: scope.userId, [HEADER.run]: scope.runId, [HEADER.traceparent]: scope.traceparent });
    const data = encodeJson(event);
    const budget = this.js.payloadBudget?.();
    if (budget !== undefined && data.byteLength > budget) throw new EventTooLargeError(event.type, data.byteLength, budget);
    const ack = await retryTransient(
      () => this.js.publish(subject, data, { msgId: opts.msgId, timeoutMs: PUBLISH_RETRY.attemptTimeoutMs, headers }),
      PUBLISH_RETRY,
    );
    return ack.seq;
  }
}
