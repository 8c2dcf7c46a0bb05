import { z } from 'zod';
import type { ErrorBody } from './errors';
import { runOptionsSchema } from './socket';
import { RUN_STATUSES, runSnapshotSchema } from './runs';
import { sourceSchema } from './events';

/** Every reply of a request/reply call: a result or a client-safe error. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** run.admit: resolve or create the conversation, apply idempotency and `onBusy: reject`, insert the run. */
export const admitRunRequestSchema = z.object({
  userId: z.string(),
  conversationId: z.string(),
  newConversationId: z.string(),
  runId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
  content: z.string(),
  clientMessageId: z.string().optional(),
  options: runOptionsSchema,
  /**
   * Only acknowledge the earlier run of `clientMessageId` (the sender is over its rate limit,
   * and a repeat must still get its first answer): start nothing; NOT_FOUND when there is none.
   */
  duplicateOnly: z.boolean().optional(),
});
export type AdmitRunRequest = z.infer<typeof admitRunRequestSchema>;

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
export const abandonRunRequestSchema = z.object({ userId: z.string(), runId: z.string() });

export const getRunRequestSchema = z.object({ userId: z.string(), runId: z.string() });
export const getRunReplySchema = runSnapshotSchema;

export const listConversationsRequestSchema = z.object({
  userId: z.string(),
  limit: z.number().int().min(1).max(100),
  before: z.string().optional(),
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

export const listMessagesRequestSchema = z.object({ userId: z.string(), conversationId: z.string() });
export const storedMessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  runId: z.string().nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});
export type StoredMessage = z.infer<typeof storedMessageSchema>;
export const listMessagesReplySchema = z.object({ messages: z.array(storedMessageSchema) });

/**
 * conversation.history: the last N messages, oldest first, for the model's context. With
 * `runId`, the answer waits (briefly) until the runs of the conversation that started
 * before that run have been written, so a run queued behind another sees its answer.
 */
export const historyRequestSchema = z.object({
  conversationId: z.string(),
  limit: z.number().int().min(1).max(50),
  runId: z.string().optional(),
});
export const historyMessageSchema = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });
export type HistoryMessage = z.infer<typeof historyMessageSchema>;
export const historyReplySchema = z.object({ messages: z.array(historyMessageSchema) });

/**
 * events.after: one page of a user's event log (oldest first) with ids in (`after`, `before`),
 * for replaying what the EVENTS stream no longer holds. `events` are the stored envelopes
 * with their ids; `more` is true when the page was cut short (ask again after its last id).
 */
export const eventsAfterRequestSchema = z.object({
  userId: z.string(),
  after: z.string().regex(/^\d{1,19}$/),
  before: z.string().regex(/^\d{1,19}$/),
  conversationId: z.string().optional(),
  limit: z.number().int().min(1).max(1000),
});
export type EventsAfterRequest = z.infer<typeof eventsAfterRequestSchema>;
export const eventsAfterReplySchema = z.object({
  events: z.array(z.looseObject({ id: z.string() })),
  more: z.boolean(),
});
export type EventsAfterReply = z.infer<typeof eventsAfterReplySchema>;

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
