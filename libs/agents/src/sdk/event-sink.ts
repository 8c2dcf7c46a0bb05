import type { EventData, EventType, Trace } from '@herald/contracts';

/** The run-level events: the orchestrator's, never an agent's. */
type RunEventType = 'run_queued' | 'orchestration_started' | 'orchestration_completed' | 'run_cancelled' | 'error';

/** The lifecycle events an agent's context emits: every event type of the contract but the run-level ones. */
export type AgentEventType = Exclude<EventType, RunEventType>;

export interface EmitOptions {
  /**
   * Publish it even though the step was aborted: the `tool_completed { ok: false }` that closes
   * a call a cancel interrupted. It is emitted before the step settles, so still before the
   * run's terminal event.
   */
  evenIfAborted?: boolean;
}

/**
 * Where an agent's context writes its events. The worker's sink publishes them to the
 * EVENTS stream; tests use MemoryEventSink.
 */
export interface EventSink {
  /** Resolves once the event is accepted (published, stored...). Events are emitted in order. */
  emit<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace, opts?: EmitOptions): Promise<void>;
  /**
   * What follows was chosen by the model (a tool loop's calls and reasoning): a retry of the
   * step would publish other events under the same ids, so a non-deterministic model's step
   * must not be retried from here on.
   */
  modelDriven?(): void;
  /**
   * How far the step has got, 0..1. The sink decides what that means for the events that
   * follow (the worker maps it into the step's share of the run's progress).
   */
  progress(fraction: number): void;
}
