import { isUuid, parseEventSubject, storedEventSchema, type StoredEvent } from '@herald/contracts';
import { decodeJson, HEADER, readHeader } from '@herald/messaging';
import type { JsMsg } from 'nats';
import type { LoggedEvent } from './logged-event';

export type ParsedEventMessage = { ok: true; event: LoggedEvent } | { ok: false; reason: string };

/** What the parser needs of a JetStream message. */
export type EventMessage = Pick<JsMsg, 'seq' | 'subject' | 'data' | 'headers'>;

/**
 * Reads one message of the EVENTS stream. Whatever cannot be stored as it is (not JSON, not
 * a valid event, ids that are not UUIDs, no user) is refused with a reason: the caller
 * terminates it rather than let it block the stream.
 */
export function parseEventMessage(msg: EventMessage, now: Date = new Date()): ParsedEventMessage {
  let body: unknown;
  try {
    body = decodeJson(msg.data);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = storedEventSchema.safeParse(withoutNul(body));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `not a valid event: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` };
  }
  const envelope = parsed.data as StoredEvent;
  if (!isUuid(envelope.conversationId) || !isUuid(envelope.runId)) {
    return { ok: false, reason: 'conversationId and runId must be UUIDs' };
  }
  const userId = userOf(msg);
  if (!userId) return { ok: false, reason: 'no user: neither a Herald-User header nor an event subject' };
  if (userId.includes('\u0000')) return { ok: false, reason: 'user id contains NUL' };
  const ts = Date.parse(envelope.ts);
  return {
    ok: true,
    event: {
      id: msg.seq,
      userId,
      conversationId: envelope.conversationId.toLowerCase(),
      runId: envelope.runId.toLowerCase(),
      type: envelope.type,
      envelope,
      at: Number.isNaN(ts) ? now.toISOString() : new Date(ts).toISOString(),
    },
  };
}

function userOf(msg: EventMessage): string | undefined {
  try {
    const fromHeader = readHeader(msg.headers, HEADER.user);
    if (fromHeader) return fromHeader;
  } catch {
    // A header that is not valid percent-encoding: fall back to the subject.
  }
  return parseEventSubject(msg.subject)?.userId || undefined;
}

/** Postgres text and jsonb cannot hold U+0000: drop it from every string of the event. */
export function withoutNul(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replace(/\u0000/g, '') : value;
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutNul(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/\u0000/g, '')] = withoutNul(v, depth + 1);
  return out;
}
