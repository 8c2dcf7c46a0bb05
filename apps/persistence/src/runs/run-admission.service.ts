import { Injectable } from '@nestjs/common';
import {
  ErrorCode,
  HeraldError,
  isUuid,
  MAX_CLIENT_MESSAGE_ID,
  runOptionsSchema,
  type AdmitRunReply,
  type AdmitRunRequest,
} from '@herald/contracts';
import { isUniqueViolation, type RunEntity } from '@herald/db';
import { DataSource, type EntityManager } from 'typeorm';
import { conversationNotFound } from '../conversations/conversation-not-found';
import { ConversationRepository } from '../conversations/conversation.repository';
import { deriveConversationTitle } from '../conversations/conversation-title';
import { RUN_CONSTRAINT, RunRepository, type NewRun } from './run.repository';

/** How long a clientMessageId keeps answering with its first run (PROTOCOL.md §2). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/** A validated request: `target` is "new" or the (lower-cased) id of an existing conversation. */
type AdmitInput = Omit<NewRun, 'conversationId'> & { target: string; newConversationId: string; duplicateOnly: boolean };

/**
 * `run.admit`: everything that decides whether a `chat:send` starts a run, in one
 * transaction: idempotency, the conversation (created, or locked and owned), `onBusy:
 * reject`, and the run row itself.
 */
@Injectable()
export class RunAdmission {
  constructor(
    private readonly dataSource: DataSource,
    private readonly runs: RunRepository,
    private readonly conversations: ConversationRepository,
  ) {}

  async admit(request: AdmitRunRequest): Promise<AdmitRunReply> {
    const input = validate(request);
    try {
      return await this.dataSource.transaction((db) => this.admitIn(db, input));
    } catch (err) {
      // The same request admitted concurrently (same clientMessageId or same runId) won the
      // race; its transaction has committed, so answer with its run.
      if (isUniqueViolation(err, RUN_CONSTRAINT.clientMessageId) || isUniqueViolation(err, RUN_CONSTRAINT.primaryKey)) {
        const winner = await this.findEarlier(this.dataSource.manager, input);
        if (winner) return toReply(winner, true);
      }
      throw err;
    }
  }

  private async admitIn(db: EntityManager, input: AdmitInput): Promise<AdmitRunReply> {
    if (input.clientMessageId) {
      const earlier = await this.runs.findByClientMessageId(db, input.userId, input.clientMessageId);
      if (earlier && Date.now() - earlier.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) return toReply(earlier, true);
      if (earlier && !input.duplicateOnly) await this.runs.releaseClientMessageId(db, earlier.id);
    }
    if (input.duplicateOnly) throw new HeraldError(ErrorCode.NOT_FOUND, 'No earlier run with this clientMessageId.');
    const conversationId = await this.resolveConversation(db, input);
    if (input.options.onBusy === 'reject' && (await this.runs.hasActiveRun(db, conversationId))) {
      throw new HeraldError(ErrorCode.RUN_IN_PROGRESS, 'This conversation already has a run in progress.');
    }
    const run = await this.runs.insert(db, { ...input, conversationId });
    return toReply(run, false);
  }

  /** Creates the conversation for "new"; otherwise locks the user's own conversation. */
  private async resolveConversation(db: EntityManager, input: AdmitInput): Promise<string> {
    const id = input.target === 'new' ? input.newConversationId : input.target;
    // A conversation this transaction just created is the user's and already locked by it.
    if (input.target === 'new') {
      const created = await this.conversations.insertIfAbsent(db, {
        id,
        userId: input.userId,
        title: deriveConversationTitle(input.content),
      });
      if (created) return id;
    }
    const conversation = await this.conversations.findOwnedForUpdate(db, id, input.userId);
    if (!conversation) throw conversationNotFound();
    return conversation.id;
  }

  private async findEarlier(db: EntityManager, input: AdmitInput): Promise<RunEntity | null> {
    const byKey = input.clientMessageId ? await this.runs.findByClientMessageId(db, input.userId, input.clientMessageId) : null;
    return byKey ?? this.runs.findOwned(db, input.id, input.userId);
  }
}

function toReply(run: RunEntity, duplicate: boolean): AdmitRunReply {
  return {
    conversationId: run.conversationId,
    runId: run.id,
    messageId: run.messageId,
    userMessageId: run.userMessageId,
    duplicate,
    status: run.status,
    content: run.content,
    options: runOptionsSchema.parse(run.options),
    acceptedAt: run.createdAt.toISOString(),
  };
}

/** The request's ids must be UUIDs (the columns are); a target that is not one cannot exist. */
function validate(req: AdmitRunRequest): AdmitInput {
  const invalid = (message: string) => new HeraldError(ErrorCode.INVALID_INPUT, message);
  if (req.userId === '') throw invalid('userId: must not be empty');
  const target = req.conversationId === 'new' ? 'new' : req.conversationId.toLowerCase();
  if (target !== 'new' && !isUuid(target)) throw conversationNotFound();
  for (const field of ['newConversationId', 'runId', 'messageId', 'userMessageId'] as const) {
    if (!isUuid(req[field])) throw invalid(`${field}: must be a UUID`);
  }
  const content = req.content.trim();
  if (content === '') throw invalid('content: must not be empty');
  const clientMessageId = req.clientMessageId ?? null;
  if (clientMessageId !== null && (clientMessageId.length === 0 || clientMessageId.length > MAX_CLIENT_MESSAGE_ID)) {
    throw invalid(`clientMessageId: must be 1 to ${MAX_CLIENT_MESSAGE_ID} characters`);
  }
  return {
    target,
    newConversationId: req.newConversationId.toLowerCase(),
    id: req.runId.toLowerCase(),
    userId: req.userId,
    messageId: req.messageId.toLowerCase(),
    userMessageId: req.userMessageId.toLowerCase(),
    clientMessageId,
    content,
    options: req.options,
    duplicateOnly: req.duplicateOnly === true,
  };
}
