import { z } from 'zod';
import { type ErrorBody, ErrorCode } from './herald-error';
import { isValidUserId, USER_ID_RULE, UUID_RE } from './ids';
import { characterCount, MAX_CLIENT_MESSAGE_ID, runOptionsSchema } from './socket';
import { RUN_STATUSES, runSnapshotSchema } from './runs';
import { sourceSchema } from './events';
import {
  listFeedbackReplySchema,
  listFeedbackRequestSchema,
  messageFeedbackStateSchema,
  setFeedbackReplySchema,
  setFeedbackRequestSchema,
} from './feedback';
import { PERSISTENCE_RPC, type PersistenceRpc } from './subjects';
import { dayUsageReplySchema, dayUsageRequestSchema, userUsageReplySchema, userUsageRequestSchema } from './usage';

/**
 * Why a request/reply call failed, when it did not get the server's own answer (or got an
 * answer it could not use). Users see UNAVAILABLE, INVALID_INPUT or INTERNAL; logs and
 * metrics see the reason.
 */
export const RPC_FAILURE = {
  /** No answer within the call's timeout (the server is slow, stuck or gone mid-request). */
  timeout: 'timeout',
  /** Nobody serves the subject (no instance is running). */
  noResponders: 'no_responders',
  /** The connection failed otherwise (closed, draining, …). */
  transport: 'transport',
  /** The request does not satisfy its schema: the caller's bug, or a user's input it did not check. */
  badRequest: 'bad_request',
  /** The encoded request is larger than the connection's max_payload. */
  requestTooLarge: 'request_too_large',
  /** The answer is not JSON, or does not satisfy the reply schema. */
  badReply: 'bad_reply',
  /** The server's answer would have been larger than max_payload: it sent this error instead. */
  replyTooLarge: 'reply_too_large',
} as const;
export type RpcFailureReason = (typeof RPC_FAILURE)[keyof typeof RPC_FAILURE];

/** The error of an RPC reply: a client-safe ErrorBody, and the reason when the transport is to blame. */
export const rpcErrorBodySchema = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  reason: z.enum(Object.values(RPC_FAILURE) as [RpcFailureReason, ...RpcFailureReason[]]).optional(),
});
export type RpcErrorBody = ErrorBody & { reason?: RpcFailureReason };

/** Every reply of a request/reply call: a result or a client-safe error. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: RpcErrorBody };

/** Ids are UUIDs (the columns are), in any case; they travel lower-cased. */
const uuid = z
  .string()
  .regex(UUID_RE, 'must be a UUID')
  .transform((s) => s.toLowerCase());
/** The user-id rule of PROTOCOL.md §1 (libs/contracts ids.ts), the one the token verifier applies. */
const userId = z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`);
/** A cursor or id we handed out earlier, echoed back: short and printable. */
const cursor = z.string().min(1).max(256);

/**
 * The most characters a message's content may have on the wire: MAX_MESSAGE_CHARS's upper
 * bound (libs/config config.ts); the gateway applies the deployment's own, lower, limit.
 */
export const MAX_CONTENT_CHARS = 1_000_000;

/**
 * An edit (`messageId`: the user message edited; the new one becomes its sibling) or a
 * regenerate (`messageId`: the user message answered again; absent: the last user message of
 * the active branch; `byAnswer`: `messageId` may name an answer, whose user message is meant).
 */
export const runBranchSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('edit'), messageId: uuid }),
  z.strictObject({ mode: z.literal('regenerate'), messageId: uuid.optional(), byAnswer: z.boolean().optional() }),
]);
export type RunBranch = z.infer<typeof runBranchSchema>;

/** run.admit: resolve or create the conversation, apply idempotency and `onBusy: reject`, insert the run. */
export const admitRunRequestSchema = z
  .strictObject({
    userId,
    /** `"new"` or the id of one of the user's conversations. */
    conversationId: z.union([z.literal('new'), uuid]),
    newConversationId: uuid,
    runId: uuid,
    messageId: uuid,
    userMessageId: uuid,
    /** The user's message; absent (and ignored) for a regenerate, which answers a stored message again. */
    content: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
      .refine((s) => characterCount(s) <= MAX_CONTENT_CHARS, `must be at most ${MAX_CONTENT_CHARS} characters`)
      .optional(),
    clientMessageId: z.string().min(1).max(MAX_CLIENT_MESSAGE_ID).optional(),
    options: runOptionsSchema,
    /** Where the run's messages go in the conversation's tree (PROTOCOL.md §10); absent: the active branch goes on. */
    branch: runBranchSchema.optional(),
    /**
     * Only acknowledge the earlier run of `clientMessageId` (the sender is over its rate limit,
     * and a repeat must still get its first answer): start nothing; NOT_FOUND when there is none.
     */
    duplicateOnly: z.boolean().optional(),
  })
  .refine((r) => r.content !== undefined || r.branch?.mode === 'regenerate', { message: 'must not be empty', path: ['content'] });
export type AdmitRunRequest = z.input<typeof admitRunRequestSchema>;

export const admitRunReplySchema = z.object({
  conversationId: z.string(),
  runId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
  /** True when clientMessageId matched an earlier run: nothing new was started. */
  duplicate: z.boolean(),
  status: z.enum(RUN_STATUSES),
  content: z.string(),
  options: runOptionsSchema,
  acceptedAt: z.string(),
});
export type AdmitRunReply = z.infer<typeof admitRunReplySchema>;

/** run.abandon: the run request could not be handed on; mark it failed so it does not block. */
export const abandonRunRequestSchema = z.strictObject({ userId, runId: uuid });
export const abandonRunReplySchema = z.object({ abandoned: z.boolean() });

export const getRunRequestSchema = z.strictObject({ userId, runId: uuid });
export const getRunReplySchema = runSnapshotSchema;

export const MAX_CONVERSATIONS_PAGE = 100;
export const listConversationsRequestSchema = z.strictObject({
  userId,
  limit: z.number().int().min(1).max(MAX_CONVERSATIONS_PAGE),
  before: cursor.optional(),
});
export const conversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof conversationSchema>;
export const listConversationsReplySchema = z.object({
  conversations: z.array(conversationSchema),
  nextBefore: z.string().nullable(),
});
export type ListConversationsReply = z.infer<typeof listConversationsReplySchema>;

/** `GET /v1/conversations/:id/messages` (PROTOCOL.md §6): a page is at most this many messages. */
export const MAX_MESSAGES_PAGE = 200;
export const DEFAULT_MESSAGES_PAGE = 50;

/**
 * conversation.messages: the newest `limit` stored messages of a branch (the active one, the
 * one ending at `leaf`) older than message `before` (its ancestors), oldest first. NOT_FOUND
 * when the conversation is not the user's, or `before` or `leaf` is not one of its messages.
 */
export const listMessagesRequestSchema = z.strictObject({
  userId,
  conversationId: uuid,
  limit: z.number().int().min(1).max(MAX_MESSAGES_PAGE),
  before: uuid.optional(),
  /** The branch ending at this message instead of the active one (`before` alone names its branch too). */
  leaf: uuid.optional(),
});
export type ListMessagesRequest = z.input<typeof listMessagesRequestSchema>;
export const storedMessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  runId: z.string().nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  /** The message before this one in its branch; null for a first message. */
  parentId: z.string().nullable(),
  /** This message and the others of the same parent, oldest first (PROTOCOL.md §10). */
  siblingIds: z.array(z.string()),
  /** On assistant messages: the user's rating (PROTOCOL.md §6), null when none. */
  feedback: messageFeedbackStateSchema.nullable().optional(),
});
export type StoredMessage = z.infer<typeof storedMessageSchema>;
/**
 * One page, oldest first; `nextBefore` is the id of its oldest message when older ones
 * remain (pass it as `before` for the previous page), else null. Over NATS a page also
 * stops short of `limit` once it holds a few hundred KiB (a reply must fit max_payload):
 * `nextBefore` then says where to go on.
 */
export const listMessagesReplySchema = z.object({
  messages: z.array(storedMessageSchema),
  nextBefore: z.string().nullable(),
});
export type ListMessagesReply = z.infer<typeof listMessagesReplySchema>;

/**
 * conversation.history: the last N messages of a branch, oldest first, for the model's
 * context. With `runId`, the answer waits (briefly) until the runs of the conversation that
 * started before that run have been written, so a run queued behind another sees its answer,
 * and the branch is the run's: where its user message goes (fixed now, on the active branch,
 * unless an edit or a regenerate fixed it when admitted). Without, the active branch. The
 * oldest of them are left out when together they would not fit one reply.
 */
export const historyRequestSchema = z.strictObject({
  conversationId: uuid,
  limit: z.number().int().min(1).max(50),
  runId: uuid.optional(),
});
export const historyMessageSchema = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });
export type HistoryMessage = z.infer<typeof historyMessageSchema>;
export const historyReplySchema = z.object({ messages: z.array(historyMessageSchema) });

/**
 * conversation.branch (`PUT /v1/conversations/:id/branch`): the branch through message
 * `leafMessageId` becomes the active one, down to the newest message under it (switching to
 * a sibling shows that sibling's latest continuation); `leafMessageId` in the reply is where
 * it now ends. NOT_FOUND when the conversation is not the user's or the message not one of its.
 */
export const switchBranchRequestSchema = z.strictObject({ userId, conversationId: uuid, leafMessageId: uuid });
export const switchBranchReplySchema = z.object({ leafMessageId: z.string() });
export type SwitchBranchReply = z.infer<typeof switchBranchReplySchema>;

/**
 * events.after: one page of a user's event log (oldest first) with ids in (`after`, `before`),
 * for replaying what the EVENTS stream no longer holds. `events` are the stored envelopes
 * with their ids; `more` is true when the page was cut short (ask again after its last id).
 */
export const eventsAfterRequestSchema = z.strictObject({
  userId,
  after: z.string().regex(/^\d{1,19}$/),
  before: z.string().regex(/^\d{1,19}$/),
  conversationId: uuid.optional(),
  limit: z.number().int().min(1).max(1000),
});
export type EventsAfterRequest = z.input<typeof eventsAfterRequestSchema>;
export const eventsAfterReplySchema = z.object({
  events: z.array(z.looseObject({ id: z.string() })),
  more: z.boolean(),
});
export type EventsAfterReply = z.infer<typeof eventsAfterReplySchema>;

/** ping: readiness; answers once the database answers. */
export const pingRequestSchema = z.strictObject({});
export const pingReplySchema = z.object({ ok: z.literal(true) });

export { sourceSchema };

/** knowledge.ingest (`POST /v1/knowledge`): Markdown or text documents added to the knowledge base. */
export const MAX_KNOWLEDGE_DOCUMENTS = 20;
export const knowledgeDocumentSchema = z.strictObject({
  /** File-like name; the document id is derived from it, so posting the same name again replaces it. */
  name: z.string().trim().min(1).max(200),
  content: z
    .string()
    .refine((s) => s.trim().length > 0, 'must not be empty')
    .pipe(z.string().max(1_000_000)),
});
export const ingestKnowledgeRequestSchema = z.strictObject({
  documents: z.array(knowledgeDocumentSchema).min(1).max(MAX_KNOWLEDGE_DOCUMENTS),
});
export type IngestKnowledgeRequest = z.infer<typeof ingestKnowledgeRequestSchema>;
export const ingestKnowledgeReplySchema = z.object({
  documents: z.array(z.object({ id: z.string(), title: z.string(), chunks: z.number().int().nonnegative() })),
});
export type IngestKnowledgeReply = z.infer<typeof ingestKnowledgeReplySchema>;

/** One request/reply operation: what its request must satisfy, and what its answer does. */
export interface RpcSchemas {
  request: z.ZodType;
  reply: z.ZodType;
}

/**
 * Every persistence operation, by subject name, with its request and reply schemas: the
 * one place both sides read. RpcClient.call validates the request before sending and the
 * reply on receipt; serveRpc validates the request before the handler sees it; the API
 * docs (tools/api-docs) are generated from it.
 */
export const RPC_SCHEMAS = {
  [PERSISTENCE_RPC.admitRun]: { request: admitRunRequestSchema, reply: admitRunReplySchema },
  [PERSISTENCE_RPC.abandonRun]: { request: abandonRunRequestSchema, reply: abandonRunReplySchema },
  [PERSISTENCE_RPC.getRun]: { request: getRunRequestSchema, reply: getRunReplySchema },
  [PERSISTENCE_RPC.listConversations]: { request: listConversationsRequestSchema, reply: listConversationsReplySchema },
  [PERSISTENCE_RPC.listMessages]: { request: listMessagesRequestSchema, reply: listMessagesReplySchema },
  [PERSISTENCE_RPC.switchBranch]: { request: switchBranchRequestSchema, reply: switchBranchReplySchema },
  [PERSISTENCE_RPC.history]: { request: historyRequestSchema, reply: historyReplySchema },
  [PERSISTENCE_RPC.eventsAfter]: { request: eventsAfterRequestSchema, reply: eventsAfterReplySchema },
  [PERSISTENCE_RPC.ingestKnowledge]: { request: ingestKnowledgeRequestSchema, reply: ingestKnowledgeReplySchema },
  [PERSISTENCE_RPC.userUsage]: { request: userUsageRequestSchema, reply: userUsageReplySchema },
  [PERSISTENCE_RPC.dayUsage]: { request: dayUsageRequestSchema, reply: dayUsageReplySchema },
  [PERSISTENCE_RPC.setFeedback]: { request: setFeedbackRequestSchema, reply: setFeedbackReplySchema },
  [PERSISTENCE_RPC.listFeedback]: { request: listFeedbackRequestSchema, reply: listFeedbackReplySchema },
  [PERSISTENCE_RPC.ping]: { request: pingRequestSchema, reply: pingReplySchema },
} as const satisfies Record<PersistenceRpc, RpcSchemas>;

/** What a caller passes for `op` (before the schema's defaults and transforms). */
export type RpcRequestInput<Op extends PersistenceRpc> = z.input<(typeof RPC_SCHEMAS)[Op]['request']>;
/** What the server's handler gets for `op` (validated). */
export type RpcRequest<Op extends PersistenceRpc> = z.output<(typeof RPC_SCHEMAS)[Op]['request']>;
/** What the server's handler answers for `op`. */
export type RpcReplyInput<Op extends PersistenceRpc> = z.input<(typeof RPC_SCHEMAS)[Op]['reply']>;
/** What a caller gets for `op` (validated). */
export type RpcResult<Op extends PersistenceRpc> = z.output<(typeof RPC_SCHEMAS)[Op]['reply']>;
