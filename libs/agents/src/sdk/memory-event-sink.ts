import type { EventData, Trace } from '@herald/contracts';
import type { AgentEventType, EventSink } from './event-sink';

export type RecordedEvent = {
  [T in AgentEventType]: { type: T; data: EventData<T>; trace?: Trace; progress: number };
}[AgentEventType];

/** An EventSink that keeps events in memory: for tests, and for running an agent outside a worker. */
export class MemoryEventSink implements EventSink {
  readonly events: RecordedEvent[] = [];
  private fraction = 0;

  async emit<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace): Promise<void> {
    this.events.push({ type, data, progress: this.fraction, ...(trace ? { trace } : {}) } as RecordedEvent);
  }

  progress(fraction: number): void {
    this.fraction = Math.max(this.fraction, fraction);
  }

  types(): AgentEventType[] {
    return this.events.map((e) => e.type);
  }

  ofType<T extends AgentEventType>(type: T): Array<Extract<RecordedEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<RecordedEvent, { type: T }> => e.type === type);
  }
}
