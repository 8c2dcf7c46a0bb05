import type { EventData, Trace } from '@herald/contracts';
import type { AgentEventType, EmitOptions, EventSink } from './event-sink';

export type RecordedEvent = {
  [T in AgentEventType]: { type: T; data: EventData<T>; trace?: Trace; progress: number };
}[AgentEventType];

/** An EventSink that keeps events in memory: for tests, and for running an agent outside a worker. */
export class MemoryEventSink implements EventSink {
  readonly events: RecordedEvent[] = [];
  /** Events emitted after the step was aborted (EmitOptions.evenIfAborted), by index in `events`. */
  readonly afterAbort = new Set<number>();
  /** How many events had been emitted when the step said the model drives what follows (modelDriven()). */
  modelDrivenFrom?: number;
  private fraction = 0;

  async emit<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace, opts?: EmitOptions): Promise<void> {
    if (opts?.evenIfAborted) this.afterAbort.add(this.events.length);
    this.events.push({ type, data, progress: this.fraction, ...(trace ? { trace } : {}) } as RecordedEvent);
  }

  modelDriven(): void {
    this.modelDrivenFrom ??= this.events.length;
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
