import { isUuid, parseEventSubject, storedEventSchema, type StoredEvent } from '@herald/contracts';
import { decodeJson, HEADER, readHeader, unpackEvents } from '@herald/messaging';
import type { JsMsg } from 'nats';
import type { LoggedEvent } from './logged-event';

const NUL_ESCAPE = '\\u0000';

/** The events of one message that can be stored, and why each of the others cannot. */
export interface ParsedEventMessage {
  events: LoggedEvent[];
  refused: string[];
}

/** What the parser needs of a JetStream message. */
export type EventMessage = Pick<JsMsg, 'seq' | 'subject' | 'data' | 'headers'>;

/**
 * Reads one message of the EVENTS stream: a group-committed array of events, or one event as
 * stored before that, each with its own id (event-batch.ts). Whatever cannot be stored as it
 * is (not JSON, not a valid event, ids that are not UUIDs, no user) is refused with a reason:
 * the caller terminates a message none of whose events can be stored rather than let it
 * block the stream.
 */
export function parseEventMessage(msg: EventMessage, now: Date = new Date()): ParsedEventMessage {
  let body: unknown;
  try {
    body = decodeJson(msg.data);
  } catch {
    return { events: [], refused: ['body is not JSON'] };
  }
  return parseEventBody(msg, body, now);
}

/** parseEventMessage for a message whose body the caller has already decoded (`body`). */
export function parseEventBody(msg: EventMessage, body: unknown, now: Date = new Date()): ParsedEventMessage {
  const entries = unpackEvents(msg.seq, body);
  if (!entries) return { events: [], refused: ['body is neither an event nor an array of events'] };
  const userId = userOf(msg);
  if (!userId) return { events: [], refused: ['no user: neither a Herald-User header nor an event subject'] };
  if (userId.includes('\u0000')) return { events: [], refused: ['user id contains NUL'] };
  // JSON can only carry U+0000 escaped: without the escape in the raw bytes there is none to drop.
  const nul = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).includes(NUL_ESCAPE);
  const parsed: ParsedEventMessage = { events: [], refused: [] };
  for (const entry of entries) {
    const event = parseEntry(Number(entry.id), nul ? withoutNul(entry.event) : entry.event, userId, now);
    if (typeof event === 'string') parsed.refused.push(event);
    else parsed.events.push(event);
  }
  return parsed;
}

/** One event of a message, or why it cannot be stored. */
function parseEntry(id: number, body: unknown, userId: string, now: Date): LoggedEvent | string {
  const parsed = storedEventSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `not a valid event: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
  }
  const envelope = parsed.data as StoredEvent;
  if (!isUuid(envelope.conversationId) || !isUuid(envelope.runId)) return 'conversationId and runId must be UUIDs';
  const ts = Date.parse(envelope.ts);
  return {
    id,
    userId,
    conversationId: envelope.conversationId.toLowerCase(),
    runId: envelope.runId.toLowerCase(),
    type: envelope.type,
    envelope,
    at: Number.isNaN(ts) ? now.toISOString() : new Date(ts).toISOString(),
  };
}

/** The user: from the event subject (no header decoding per event), else the Herald-User header. */
function userOf(msg: EventMessage): string | undefined {
  const fromSubject = parseEventSubject(msg.subject)?.userId;
  if (fromSubject) return fromSubject;
  try {
    return readHeader(msg.headers, HEADER.user) || undefined;
  } catch {
    return undefined; // a header that is not valid percent-encoding
  }
}

/** Postgres text and jsonb cannot hold U+0000: drop it from every string of the event. */
export function withoutNul(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replace(/\0/g, '') : value;
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutNul(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/\0/g, '')] = withoutNul(v, depth + 1);
  return out;
}
