import type { JetStreamClient } from 'nats';
import type { EventData, EventType, StoredEvent, Subjects, Trace } from '@herald/contracts';
import { encodeJson } from './codec';
import { buildHeaders, HEADER } from './headers';

/** Who an event belongs to: it is published on a subject naming all three. */
export interface RunScope {
  userId: string;
  conversationId: string;
  runId: string;
}

export interface PublishOptions {
  progress: number;
  trace?: Trace;
  /**
   * JetStream de-duplication key (Nats-Msg-Id). Deterministic per event of a run, so a
   * retried publish, or a retried job that replays the same steps, stores the event once.
   */
  msgId: string;
  /** W3C traceparent of the run, carried as a header so a run is one trace. */
  traceparent?: string;
}

/** Publishes lifecycle events to the EVENTS stream and waits for JetStream's ack. */
export class EventPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
  ) {}

  /** Resolves with the stream sequence: the event's id. */
  async publish<T extends EventType>(scope: RunScope, type: T, data: EventData<T>, opts: PublishOptions): Promise<number> {
    const event = {
      type,
      runId: scope.runId,
      conversationId: scope.conversationId,
      ts: new Date().toISOString(),
      progress: Math.round(opts.progress * 1000) / 1000,
      data,
      ...(opts.trace ? { trace: opts.trace } : {}),
    } as StoredEvent;
    const ack = await this.js.publish(this.subjects.events(scope.userId, scope.conversationId, scope.runId), encodeJson(event), {
      msgID: opts.msgId,
      headers: buildHeaders({ [HEADER.user]: scope.userId, [HEADER.run]: scope.runId, [HEADER.traceparent]: opts.traceparent }),
    });
    return ack.seq;
  }
}
