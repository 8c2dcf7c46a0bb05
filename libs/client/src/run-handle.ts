import type { AgentEvent, ChatSendResult, EventData, EventType } from '@herald/contracts';

/**
 * The terminal event types of PROTOCOL.md §3. Kept here (not imported at run time from
 * `@herald/contracts`) so the browser bundle carries no zod; a unit test checks they agree.
 */
export const TERMINAL_TYPES: ReadonlySet<EventType> = new Set<EventType>(['orchestration_completed', 'run_cancelled', 'error']);

/** Why a run ended without an answer. */
export class RunEndedError extends Error {
  constructor(readonly event: AgentEvent) {
    super(
      event.type === 'error'
        ? (event.data as EventData<'error'>).message
        : event.type === 'run_cancelled'
          ? `Cancelled: ${(event.data as EventData<'run_cancelled'>).reason}`
          : `The run ended with ${event.type}`,
    );
    this.name = 'RunEndedError';
  }
}

/** The events of one run, as an async iterator that ends with its terminal event, plus its answer. */
export class RunHandle implements AsyncIterable<AgentEvent> {
  readonly events: AgentEvent[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private endCallbacks: Array<() => void> = [];
  private resolveAnswer!: (content: string) => void;
  private rejectAnswer!: (err: Error) => void;
  /** The assistant's answer; rejects with a RunEndedError if the run ends without one. */
  readonly answer = new Promise<string>((resolve, reject) => {
    this.resolveAnswer = resolve;
    this.rejectAnswer = reject;
  });

  constructor(readonly ack: ChatSendResult) {
    this.answer.catch(() => undefined); // a caller that never reads the answer gets no unhandled rejection
  }

  get runId(): string {
    return this.ack.runId;
  }

  get conversationId(): string {
    return this.ack.conversationId;
  }

  get finished(): boolean {
    return this.ended;
  }

  /** Resolves with every event of the run once its terminal event has arrived. */
  async done(): Promise<AgentEvent[]> {
    for await (const _ of this) {
      /* drain */
    }
    return this.events;
  }

  /** Adds an event of this run (the client calls it; events of other runs are ignored). */
  push(event: AgentEvent): void {
    if (this.ended || event.runId !== this.runId) return;
    this.events.push(event);
    if (event.type === 'message') this.resolveAnswer(event.data.content);
    if (TERMINAL_TYPES.has(event.type)) {
      this.ended = true;
      if (event.type !== 'orchestration_completed') this.rejectAnswer(new RunEndedError(event));
      this.endCallbacks.splice(0).forEach((cb) => cb());
    }
    this.waiters.splice(0).forEach((w) => w());
  }

  onEnd(cb: () => void): void {
    if (this.ended) cb();
    else this.endCallbacks.push(cb);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    let i = 0;
    for (;;) {
      while (i < this.events.length) yield this.events[i++];
      if (this.ended) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}
