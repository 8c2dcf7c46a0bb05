import type { AgentEventType, EmitOptions, EventSink } from '@herald/agents';
import type { AgentJob, EventData, Trace } from '@herald/contracts';
import type { EventPublisher, RunScope } from '@herald/messaging';
import type { Logger } from '@herald/observability';

/**
 * Token deltas are coalesced over this window (or this many characters): one JetStream
 * publish for several tokens, at a pace a reader cannot tell from token by token.
 */
export const DELTA_WINDOW_MS = 20;
export const DELTA_MAX_CHARS = 2048;

/** Events after which a retry of the step would not publish the same events again. */
const UNREPEATABLE: Partial<Record<AgentEventType, 'always' | 'model'>> = {
  clarification_requested: 'always',
  approval_requested: 'always',
  message_delta: 'model',
  message: 'model',
};

/**
 * The sink of one job: publishes the step's events to the EVENTS stream.
 *  - key (msgId) `<runId>:<step>:e<n>` (n counts the step's events other than deltas), so a
 *    retried job gives the same events the same keys. Deltas, whose boundaries depend on
 *    timing, are `<runId>:<step>:d<k>`. A retry learns which events an earlier attempt stored
 *    (`carryOn`, EarlierAttempts): it does not send those again, skips the delta text already
 *    stored and numbers its deltas after that attempt's. That is right only when a retry
 *    publishes the same events again: once a step has asked the user something, or has
 *    streamed text of a non-deterministic model, it is `unrepeatable` and the handler fails
 *    it for good instead of letting BullMQ retry it (a retry would re-ask, or mix two
 *    different answers under the same ids);
 *  - progress: the step's 0..1 mapped into the job's `progress.from..to`, never decreasing
 *    (it travels in the events; BullMQ's own job progress is not written: nobody reads it);
 *  - publishes are pipelined: an event is handed to the publisher at once and its ack
 *    awaited in `flush()`, which the step awaits before it succeeds, so an event JetStream
 *    did not store fails the step rather than vanishing. A first attempt's events are
 *    groupable (the publisher sends those published while the run's previous message is in
 *    flight as one message, whose Nats-Msg-Id lists their keys); a retry's go one message
 *    each, under their own keys, so JetStream still drops one that an earlier attempt's
 *    timed-out publish stored meanwhile as a single event;
 *  - `message_delta` events are coalesced (DELTA_WINDOW_MS) and flushed before any other
 *    event, so they still arrive in order and add up to the message;
 *  - once the step is aborted it publishes nothing more (but the `tool_completed { ok: false }`
 *    closing a call the abort interrupted, `evenIfAborted`), and `settled()` waits for what is
 *    still in flight, so nothing of this step can follow the run's terminal event;
 *  - a tool loop's calls and reasoning are the model's choice (`modelDriven()`): with a
 *    non-deterministic model the step is unrepeatable from then on.
 */
export class JobEventSink implements EventSink {
  private readonly scope: RunScope;
  private readonly pending = new Set<Promise<unknown>>();
  private sent = 0;
  private deltas = 0;
  /** Characters of each message's deltas an earlier attempt already stored. */
  private skip = new Map<string, number>();
  private fraction = 0;
  private failure?: unknown;
  private delta?: { messageId: string; text: string; timer: NodeJS.Timeout };
  private repeatable = true;
  /** Set on a retry: the numbers of the events an earlier attempt stored. */
  private stored?: Set<number>;

  constructor(
    private readonly publisher: Pick<EventPublisher, 'publish'>,
    private readonly job: AgentJob,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
    /** The model gives the same text for the same request (the local engine). */
    private readonly deterministic = true,
  ) {
    this.scope = { userId: job.userId, conversationId: job.conversationId, runId: job.runId, traceparent: job.traceparent };
  }

  emit<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace, opts?: EmitOptions): Promise<void> {
    if (this.signal.aborted) {
      // The closing tool_completed of a call the cancel interrupted: still before settled().
      if (opts?.evenIfAborted) this.publish(type, data, trace);
      return Promise.resolve();
    }
    if (UNREPEATABLE[type] === 'always' || (UNREPEATABLE[type] === 'model' && !this.deterministic)) this.repeatable = false;
    if (type === 'message_delta') {
      this.bufferDelta(data as EventData<'message_delta'>);
      return Promise.resolve();
    }
    this.flushDelta();
    this.publish(type, data, trace);
    return Promise.resolve();
  }

  /** A tool loop's calls and thoughts are the model's choice: with a non-deterministic model, no retry from here on. */
  modelDriven(): void {
    if (!this.deterministic) this.repeatable = false;
  }

  progress(fraction: number): void {
    if (this.signal.aborted || !Number.isFinite(fraction)) return;
    this.fraction = Math.max(this.fraction, Math.min(1, Math.max(0, fraction)));
  }

  /** The run's progress now: within the job's range, never decreasing. */
  runProgress(): number {
    const { from, to } = this.job.progress;
    return from + (Math.max(from, to) - from) * this.fraction;
  }

  /** A retry of this step could not publish the same events again: it must not be retried. */
  get unrepeatable(): boolean {
    return !this.repeatable;
  }

  /** Events published so far. */
  get count(): number {
    return this.sent + this.deltas;
  }

  /** A retry: carry on after the deltas an earlier attempt of this step stored. */
  carryOn(earlier: { events: Set<number>; deltaChars: Map<string, number>; lastDelta: number }): void {
    this.stored = new Set(earlier.events);
    this.skip = new Map(earlier.deltaChars);
    this.deltas = Math.max(this.deltas, earlier.lastDelta);
  }

  /** Resolves when nothing is in flight any more (whatever the outcome). */
  async settled(): Promise<void> {
    this.flushDelta();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Waits until JetStream has stored every event sent; rejects if one could not be stored. */
  async flush(): Promise<void> {
    await this.settled();
    if (this.failure !== undefined) throw this.failure;
  }

  private publish<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace): void {
    let msgId: string;
    if (type === 'message_delta') msgId = `${this.job.runId}:${this.job.step}:d${++this.deltas}`;
    else {
      const n = ++this.sent;
      if (this.stored?.has(n)) return; // an earlier attempt stored it
      msgId = `${this.job.runId}:${this.job.step}:e${n}`;
    }
    const published = this.publisher.publish(this.scope, type, data, {
      progress: this.runProgress(),
      trace,
      msgId,
      groupable: this.stored === undefined,
    });
    // Not awaited here: settled() waits for it, and flush() reports its failure.
    void this.track(
      published.catch((err) => {
        this.failure ??= err;
        this.logger.warn({ err, runId: this.job.runId, type }, 'an event was not stored');
      }),
    );
  }

  private bufferDelta({ messageId, delta: text }: EventData<'message_delta'>): void {
    // Text an earlier attempt already stored is not sent again.
    const skip = Math.min(this.skip.get(messageId) ?? 0, text.length);
    if (skip > 0) this.skip.set(messageId, (this.skip.get(messageId) ?? 0) - skip);
    const delta = text.slice(skip);
    if (delta === '') return;
    if (this.delta && this.delta.messageId !== messageId) this.flushDelta();
    this.delta ??= { messageId, text: '', timer: setTimeout(() => this.flushDelta(), DELTA_WINDOW_MS) };
    this.delta.text += delta;
    if (this.delta.text.length >= DELTA_MAX_CHARS) this.flushDelta();
  }

  private flushDelta(): void {
    const buffered = this.delta;
    if (!buffered) return;
    this.delta = undefined;
    clearTimeout(buffered.timer);
    if (this.signal.aborted || buffered.text === '') return;
    this.publish('message_delta', { messageId: buffered.messageId, delta: buffered.text });
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
