import { Injectable } from '@nestjs/common';
import { ErrorCode, HeraldError, PERSISTENCE_RPC, runOptionsSchema, type AdmitRunReply, type RpcRequest } from '@herald/contracts';
import { isUniqueViolation, type RunEntity } from '@herald/db';
import { DataSource, type EntityManager } from 'typeorm';
import { conversationNotFound } from '../conversations/conversation-not-found';
import { ConversationRepository } from '../conversations/conversation.repository';
import { deriveConversationTitle } from '../conversations/conversation-title';
import { DailyQuotaCheck } from '../usage/daily-quota-check';
import { RUN_CONSTRAINT, RunRepository, type NewRun } from './run.repository';

/** How long a clientMessageId keeps answering with its first run (PROTOCOL.md §2). */
const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * A request as admitRunRequestSchema gives it (serveRpc validated it): ids are lower-cased
 * UUIDs, `conversationId` is "new" or one of them, the content is trimmed and not empty.
 */
type AdmitInput = RpcRequest<typeof PERSISTENCE_RPC.admitRun>;

/**
 * `run.admit`: everything that decides whether a `chat:send` starts a run, in one
 * transaction: idempotency, the daily quota, the conversation (created, or locked and
 * owned), `onBusy: reject`, and the run row itself.
 */
@Injectable()
export class RunAdmission {
  constructor(
    private readonly dataSource: DataSource,
    private readonly runs: RunRepository,
    private readonly conversations: ConversationRepository,
    private readonly quota: DailyQuotaCheck,
  ) {}

  async admit(input: AdmitInput): Promise<AdmitRunReply> {
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
    // A repeat (above) still gets its first answer; only a new run counts against the quota.
    await this.quota.check(db, input.userId);
    const conversationId = await this.resolveConversation(db, input);
    if (input.options.onBusy === 'reject' && (await this.runs.hasActiveRun(db, conversationId))) {
      throw new HeraldError(ErrorCode.RUN_IN_PROGRESS, 'This conversation already has a run in progress.');
    }
    const run = await this.runs.insert(db, newRun(input, conversationId));
    return toReply(run, false);
  }

  /** Creates the conversation for "new"; otherwise locks the user's own conversation. */
  private async resolveConversation(db: EntityManager, input: AdmitInput): Promise<string> {
    const id = input.conversationId === 'new' ? input.newConversationId : input.conversationId;
    // A conversation this transaction just created is the user's and already locked by it.
    if (input.conversationId === 'new') {
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
    return byKey ?? this.runs.findOwned(db, input.runId, input.userId);
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

function newRun(input: AdmitInput, conversationId: string): NewRun {
  return {
    id: input.runId,
    userId: input.userId,
    conversationId,
    messageId: input.messageId,
    userMessageId: input.userMessageId,
    clientMessageId: input.clientMessageId ?? null,
    content: input.content,
    options: input.options,
  };
}
