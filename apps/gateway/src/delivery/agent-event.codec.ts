import { type AgentEvent, storedEventSchema } from '@herald/contracts';
import { decodeJson, unpackEvents } from '@herald/messaging';
import { isEventId } from './event-id';

/** The events of one EVENTS message, and how many of its entries were not valid events (skipped). */
export interface DecodedMessage {
  events: AgentEvent[];
  invalid: number;
}

/**
 * Turns an EVENTS message (its JSON body: one group-committed array of events, or one event
 * as stored before that) and its stream sequence into `agent:event` envelopes, with their ids
 * (event-batch.ts). Whatever is not a valid event is skipped and counted, never relayed and
 * never fatal; a message without a sequence, or that is not JSON, is one invalid entry.
 */
export function toAgentEvents(seq: string | number | undefined, data: Uint8Array): DecodedMessage {
  const decoded: DecodedMessage = { events: [], invalid: 0 };
  if (seq === undefined || !isEventId(String(seq))) return { events: [], invalid: 1 };
  let body: unknown;
  try {
    body = decodeJson(data);
  } catch {
    return { events: [], invalid: 1 };
  }
  const entries = unpackEvents(seq, body);
  if (!entries) return { events: [], invalid: 1 };
  for (const { id, event } of entries) {
    const parsed = parseAgentEvent(id, event);
    if (parsed) decoded.events.push(parsed);
    else decoded.invalid++;
  }
  return decoded;
}

/** One event with its id, already decoded (an entry of a message, a row of the Postgres event log). */
export function parseAgentEvent(id: string | number | undefined, body: unknown): AgentEvent | null {
  const eventId = id === undefined ? undefined : String(id);
  if (!isEventId(eventId)) return null;
  const parsed = storedEventSchema.safeParse(body);
  return parsed.success ? ({ id: eventId, ...parsed.data } as AgentEvent) : null;
}
