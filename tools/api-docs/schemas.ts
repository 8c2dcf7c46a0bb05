import {
  type ChatSendResult,
  chatSendFieldsSchema,
  type ErrorBody,
  ErrorCode,
  EVENT_ID_RE,
  type EventsResumeResult,
  EVENT_TYPES,
  type EventType,
  type RunCancelResult,
  type SessionReady,
  storedEventSchema,
} from '@herald/contracts';
import { z } from 'zod';

/**
 * Shapes that libs/contracts declares as TypeScript interfaces only (acks, session info,
 * errors): written here as zod schemas that the compiler holds to those interfaces
 * (`satisfies z.ZodType<…>`), so a change there fails the build until the docs follow.
 */
export const errorBodySchema = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
}) satisfies z.ZodType<ErrorBody>;

export const chatSendResultSchema = z.object({
  conversationId: z.string(),
  runId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
}) satisfies z.ZodType<ChatSendResult>;

export const runCancelResultSchema = z.object({ alreadyFinished: z.boolean().optional() }) satisfies z.ZodType<RunCancelResult>;

export const eventsResumeResultSchema = z.object({
  replayed: z.number().int().nonnegative(),
  lastId: z.string(),
  more: z.boolean(),
}) satisfies z.ZodType<EventsResumeResult>;

export const sessionReadySchema = z.object({
  userId: z.string(),
  serverTime: z.string(),
  instanceId: z.string(),
}) satisfies z.ZodType<SessionReady>;

export const sessionExpiredSchema = z.object({ reason: z.string() });

/** An ack of PROTOCOL.md §2: `{ ok: true, …result }` or `{ ok: false, error }`. */
export function ackSchema(result: z.ZodObject = z.object({})) {
  return z.union([result.extend({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: errorBodySchema })]);
}

/** The envelope of one event type as clients receive it (PROTOCOL.md §3): the stored event plus its `id`. */
function agentEventSchema(type: EventType) {
  const stored = storedEventSchema.options.find((o) => o.shape.type.value === type);
  if (!stored) throw new Error(`no envelope for ${type}`);
  return stored.extend({ id: z.string().regex(EVENT_ID_RE) });
}

export const agentEventSchemas: Record<EventType, z.ZodObject> = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, agentEventSchema(t) as z.ZodObject]),
) as Record<EventType, z.ZodObject>;

/** `chat:send` with the default MAX_MESSAGE_CHARS (the documents name the variable). */
export const chatSendDocSchema = chatSendFieldsSchema(8000);
