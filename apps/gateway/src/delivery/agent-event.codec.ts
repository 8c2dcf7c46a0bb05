import { type AgentEvent, storedEventSchema } from '@herald/contracts';
import { decodeJson } from '@herald/messaging';
import { isEventId } from './event-id';

/**
 * Turns a stored event (JSON body of an EVENTS message) and its stream sequence into the
 * `agent:event` envelope. Anything that is not a valid event gives null: a bad message is
 * skipped, never relayed and never fatal.
 */
export function toAgentEvent(id: string | number | undefined, data: Uint8Array): AgentEvent | null {
  let body: unknown;
  try {
    body = decodeJson(data);
  } catch {
    return null;
  }
  return parseAgentEvent(id, body);
}

/** Like toAgentEvent, for an event already decoded (a row of the Postgres event log). */
export function parseAgentEvent(id: string | number | undefined, body: unknown): AgentEvent | null {
  const eventId = id === undefined ? undefined : String(id);
  if (!isEventId(eventId)) return null;
  const parsed = storedEventSchema.safeParse(body);
  return parsed.success ? ({ id: eventId, ...parsed.data } as AgentEvent) : null;
}
