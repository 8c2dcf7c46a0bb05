import { z } from 'zod';
import type { ErrorBody } from './herald-error';
import { TRACE_LEVELS, type AgentEvent } from './events';
import type { SetFeedbackReply } from './feedback';
import { EVENT_ID_RE, UUID_RE } from './ids';

export const ON_BUSY = ['enqueue', 'reject', 'interrupt'] as const;
export type OnBusy = (typeof ON_BUSY)[number];

export const MAX_CLIENT_MESSAGE_ID = 64;

const uuid = z
  .string()
  .regex(UUID_RE, 'must be a UUID')
  .transform((s) => s.toLowerCase());

export const runOptionsSchema = z.strictObject({
  traceLevel: z.enum(TRACE_LEVELS).default('none'),
  stream: z.boolean().default(false),
  onBusy: z.enum(ON_BUSY).default('enqueue'),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** Characters as a person counts them (code points), not UTF-16 units: an emoji is one, not two. */
export function characterCount(s: string): number {
  return [...s].length;
}

/** `chat:send`'s fields (PROTOCOL.md §2), without the rule that ties them (for the API docs). */
export function chatSendFieldsSchema(maxMessageChars: number) {
  return z.strictObject({
    conversationId: z.union([z.literal('new'), uuid], { error: 'must be "new" or a conversation UUID' }),
    content: z
      .string({ error: 'must be a string' })
      .transform((s) => s.trim())
      .pipe(
        z
          .string()
          .min(1, 'must not be empty')
          // Postgres text cannot store NUL: refused here, not by the run.admit request it would break.
          .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
          .refine((s) => characterCount(s) <= maxMessageChars, `must be at most ${maxMessageChars} characters`),
      )
      .optional(),
    clientMessageId: z.string().min(1).max(MAX_CLIENT_MESSAGE_ID, `must be at most ${MAX_CLIENT_MESSAGE_ID} characters`).optional(),
    options: runOptionsSchema.default({ traceLevel: 'none', stream: false, onBusy: 'enqueue' }),
    /** With `content`: the user message edited; with `regenerate`: the user message answered again (PROTOCOL.md §10). */
    parentMessageId: z
      .string()
      .regex(UUID_RE, 'must be a message id')
      .transform((s) => s.toLowerCase())
      .optional(),
    /** Answer `parentMessageId` (or the active branch's last user message) again; `content` is then ignored. */
    regenerate: z.boolean({ error: 'must be a boolean' }).optional(),
  });
}

/** `chat:send` (PROTOCOL.md §2); also the body of `POST /v1/conversations/:id/messages`. `content` is required unless `regenerate`. */
export function chatSendSchema(maxMessageChars: number) {
  return chatSendFieldsSchema(maxMessageChars).refine((input) => input.regenerate === true || input.content !== undefined, {
    message: 'must be a string',
    path: ['content'],
  });
}
export type ChatSendInput = z.infer<ReturnType<typeof chatSendSchema>>;

export const runCancelSchema = z.strictObject({ runId: uuid });
export type RunCancelInput = z.infer<typeof runCancelSchema>;

export const runRespondSchema = z.strictObject({
  runId: uuid,
  requestId: z.string().min(1).max(128),
  response: z.union([z.string().min(1).max(8000), z.strictObject({ approved: z.boolean(), comment: z.string().max(2000).optional() })]),
});
export type RunRespondInput = z.infer<typeof runRespondSchema>;

export const eventIdSchema = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(EVENT_ID_RE, 'must be an event id (decimal digits)'));

export const eventsResumeSchema = z.strictObject({
  after: eventIdSchema,
  conversationId: uuid.optional(),
});
export type EventsResumeInput = z.infer<typeof eventsResumeSchema>;

/** Client → server event names (PROTOCOL.md §2). */
export const CLIENT_EVENTS = {
  chatSend: 'chat:send',
  runCancel: 'run:cancel',
  runRespond: 'run:respond',
  messageFeedback: 'message:feedback',
  eventsResume: 'events:resume',
} as const;

/** Server → client event names. */
export const SERVER_EVENTS = {
  agentEvent: 'agent:event',
  sessionReady: 'session:ready',
  sessionExpired: 'session:expired',
} as const;

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface ChatSendResult {
  conversationId: string;
  runId: string;
  /** Id of the assistant message this run produces (`message_delta` / `message`). */
  messageId: string;
  /** Id under which the user's message is stored. */
  userMessageId: string;
}
export interface RunCancelResult {
  alreadyFinished?: boolean;
}
/** The ack of `events:resume` (PROTOCOL.md §2). */
export interface EventsResumeResult {
  /** Events this call re-delivered (at most REPLAY_MAX_EVENTS). */
  replayed: number;
  /** The id of the last event replayed; `after` when nothing was. */
  lastId: string;
  /**
   * True when the call stopped at REPLAY_MAX_EVENTS with more to replay: call again with
   * `after: lastId`. Until then, no live event later than `lastId` reaches that socket.
   */
  more: boolean;
}

export interface SessionReady {
  userId: string;
  serverTime: string;
  instanceId: string;
}

/** The typed event maps of the socket, for the gateway and for clients. */
export interface ServerToClientEvents {
  'agent:event': (event: AgentEvent) => void;
  'session:ready': (info: SessionReady) => void;
  'session:expired': (info: { reason: string }) => void;
}
export interface ClientToServerEvents {
  'chat:send': (payload: unknown, ack?: (res: Ack<ChatSendResult>) => void) => void;
  'run:cancel': (payload: unknown, ack?: (res: Ack<RunCancelResult>) => void) => void;
  'run:respond': (payload: unknown, ack?: (res: Ack) => void) => void;
  'message:feedback': (payload: unknown, ack?: (res: Ack<SetFeedbackReply>) => void) => void;
  'events:resume': (payload: unknown, ack?: (res: Ack<EventsResumeResult>) => void) => void;
}
