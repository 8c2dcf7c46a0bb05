import type { EventData, Trace } from '@herald/contracts';

/** The lifecycle events an agent's context emits (the run-level ones belong to the orchestrator). */
export const AGENT_EVENT_TYPES = [
  'status',
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'agent_completed',
  'clarification_requested',
  'approval_requested',
  'message_delta',
  'message',
] as const;
export type AgentEventType = (typeof AGENT_EVENT_TYPES)[number];

/**
 * Where an agent's context writes its events. The worker's sink publishes them to the
 * EVENTS stream; tests use MemoryEventSink.
 */
export interface EventSink {
  /** Resolves once the event is accepted (published, stored...). Events are emitted in order. */
  emit<T extends AgentEventType>(type: T, data: EventData<T>, trace?: Trace): Promise<void>;
  /**
   * How far the step has got, 0..1. The sink decides what that means for the events that
   * follow (the worker maps it into the step's share of the run's progress).
   */
  progress(fraction: number): void;
}
