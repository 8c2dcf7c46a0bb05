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
import { batchMsgId, eventIdOf, MAX_BATCH_EVENTS, mayGroup, packEvents, packedSize } from './event-batch';
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
   * The event's de-duplication key. Deterministic per event of a run, so a retried publish,
   * or a retried job that replays the same steps, stores the event once. An event sent alone
   * has it as its message's Nats-Msg-Id; a group's message has its events' keys (batchMsgId).
   */
  msgId: string;
  /**
   * May share one message with the run's other groupable events published while a publish of
   * the run is in flight. JetStream de-duplicates messages, not events: a retry that groups
   * differently would store a grouped event again. Only a producer whose retry skips what an
   * earlier attempt stored (the job sink's first attempt; see EarlierAttempts) groups; an
   * event whose key must stay one message's (the supervisor's terminal event) is sent alone.
   */
  groupable?: boolean;
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

interface Queued {
  scope: RunScope;
  type: EventType;
  data: Uint8Array;
  msgId: string;
  groupable: boolean;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

/** One run's publishes (its subject's): what waits, and whether a message of the run is in flight. */
interface RunQueue {
  subject: string;
  waiting: Queued[];
  busy: boolean;
}

/**
 * Publishes lifecycle events to the EVENTS stream and waits for JetStream's ack. The events
 * of one run are stored in the order they were published, even when a publish has to be
 * tried again (PUBLISH_RETRY) while the stream has no leader: one message of a run is in
 * flight at a time.
 *
 * Group commit: the first event of an idle run goes at once; the events published while it
 * is in flight wait, and go as ONE message when it settles (up to MAX_BATCH_EVENTS and the
 * payload budget; see event-batch.ts for the ids). A run's events thus cost one JetStream
 * message per round trip instead of one each, without delaying any: under a burst they wait
 * for the ack they would have waited for anyway.
 *
 * Every producer's events pass here, so here they are bounded (PROTOCOL.md §3): a tool's
 * `input` or `output` over 32 KiB is cut, with `truncated: true` beside it (boundEventData);
 * an event still larger than one NATS message may carry is refused with EventTooLargeError
 * (a rejected publish, which the producer handles like any other), never sent.
 */
export class EventPublisher {
  private readonly runs = new Map<string, RunQueue>();

  constructor(
    private readonly js: StreamPublisher,
    private readonly subjects: Subjects,
  ) {}

  /** Resolves with the event's id (a safe integer while the stream's sequence is below 9e12; see event-batch.ts). */
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
    const encoded = encodeJson(event);
    const budget = this.js.payloadBudget?.();
    if (budget !== undefined && packedSize(1, encoded.byteLength) > budget) {
      return Promise.reject(new EventTooLargeError(type, encoded.byteLength, budget));
    }
    return new Promise<number>((resolve, reject) => {
      const subject = this.subjects.events(scope.userId, scope.conversationId, scope.runId);
      let run = this.runs.get(subject);
      if (!run) {
        run = { subject, waiting: [], busy: false };
        this.runs.set(subject, run);
      }
      run.waiting.push({ scope, type, data: encoded, msgId: opts.msgId, groupable: opts.groupable === true, resolve, reject });
      if (!run.busy) this.next(run);
    });
  }

  /** Sends the run's next message: the first waiting event, with the groupable ones after it. */
  private next(run: RunQueue): void {
    if (run.waiting.length === 0) {
      this.runs.delete(run.subject);
      return;
    }
    const group = this.take(run.waiting);
    run.busy = true;
    void this.send(run.subject, group).finally(() => {
      run.busy = false;
      this.next(run);
    });
  }

  private take(waiting: Queued[]): Queued[] {
    const first = waiting.shift()!;
    const group = [first];
    if (!first.groupable) return group;
    const budget = this.js.payloadBudget?.() ?? Number.POSITIVE_INFINITY;
    let bytes = first.data.byteLength;
    while (waiting.length > 0 && group.length < MAX_BATCH_EVENTS) {
      const candidate = waiting[0];
      if (
        !candidate.groupable ||
        !mayGroup(first.msgId, candidate.msgId) ||
        packedSize(group.length + 1, bytes + candidate.data.byteLength) > budget
      )
        break;
      bytes += candidate.data.byteLength;
      group.push(waiting.shift()!);
    }
    return group;
  }

  /** A group's events share their step, so the first one's scope (its traceparent) is the message's. */
  private async send(subject: string, group: Queued[]): Promise<void> {
    const { scope } = group[0];
    // Never rejects: whatever fails (the headers too) rejects the group's publishes, and the run's next message goes on.
    try {
      const headers = buildHeaders({ [HEADER.user]: scope.userId, [HEADER.run]: scope.runId, [HEADER.traceparent]: scope.traceparent });
      const body = packEvents(group.map((q) => q.data));
      const msgId = batchMsgId(group.map((q) => q.msgId));
      const ack = await retryTransient(
        () => this.js.publish(subject, body, { msgId, timeoutMs: PUBLISH_RETRY.attemptTimeoutMs, headers }),
        PUBLISH_RETRY,
      );
      group.forEach((q, i) => q.resolve(Number(eventIdOf(ack.seq, i))));
    } catch (err) {
      for (const q of group) q.reject(err);
    }
  }
}
