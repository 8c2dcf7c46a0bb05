import type { EventType, StoredEvent } from '@herald/contracts';

/** One event as the event log stores it. */
export interface LoggedEvent {
  /** The JetStream stream sequence: the event id. */
  id: number;
  userId: string;
  conversationId: string;
  runId: string;
  type: EventType;
  /** The validated event, without its id. */
  envelope: StoredEvent;
  /** When it happened: the event's `ts`, or when it was read if `ts` is not a date. */
  at: string;
}
