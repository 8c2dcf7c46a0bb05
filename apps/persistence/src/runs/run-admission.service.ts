import { Injectable } from '@nestjs/common';
import { ErrorCode, HeraldError, PERSISTENCE_RPC, runOptionsSchema, type AdmitRunReply, type RpcRequest } from '@herald/contracts';
import { isUniqueViolation, type RunEntity } from '@herald/db';
import { DataSource, type EntityManager } from 'typeorm';
import { conversationNotFound, messageNotFound } from '../conversations/conversation-not-found';
import { ConversationRepository } from '../conversations/conversation.repository';
import { deriveConversationTitle } from '../conversations/conversation-title';
import { DailyQuotaCheck } from '../usage/daily-quota-check.service';
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
      const first = this.isPlainFirstMessage(input) ? await this.admitFirstMessage(input) : null;
      return first ?? (await this.dataSource.transaction((db) => this.admitIn(db, input)));
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

  /**
   * A new conversation's first message with no idempotency key, no quota and no branch: only
   * the two rows to write, in one statement (one round trip, no transaction around it).
   */
  private isPlainFirstMessage(input: AdmitInput): boolean {
    return input.conversationId === 'new' && !input.clientMessageId && !input.duplicateOnly && !input.branch && !this.quota.enabled;
  }

  /** Null when the conversation exists already (a retried admit): the full admission answers it. */
  private async admitFirstMessage(input: AdmitInput): Promise<AdmitRunReply | null> {
    const run = await this.runs.insertWithNewConversation(
      this.dataSource.manager,
      newRun(input, input.newConversationId, firstMessage(input)),
      deriveConversationTitle(input.content ?? ''),
    );
    return run && toReply(run, false);
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
    const { conversationId, created } = await this.resolveConversation(db, input);
    // A conversation this transaction created has no messages and no runs: its first message
    // is the root, fixed now (at the run's start it would be the same, at the cost of a write).
    const place = created && !input.branch ? firstMessage(input) : await this.placeInTree(db, conversationId, input);
    if (!created && input.options.onBusy === 'reject' && (await this.runs.hasActiveRun(db, conversationId))) {
      throw new HeraldError(ErrorCode.RUN_IN_PROGRESS, 'This conversation already has a run in progress.');
    }
    const run = await this.runs.insert(db, newRun(input, conversationId, place));
    return toReply(run, false);
  }

  /**
   * Where the run's messages go (PROTOCOL.md §10). An edit: a new user message beside the one
   * edited (same parent). A regenerate: a new answer to a stored user message, whose content is
   * the question again. Otherwise the active branch goes on, fixed when the run starts.
   */
  private async placeInTree(db: EntityManager, conversationId: string, input: AdmitInput): Promise<TreePlace> {
    const branch = input.branch;
    if (!branch) return { userMessageId: input.userMessageId, content: input.content ?? '', parentMessageId: null, pinned: false };
    const named = branch.messageId
      ? await this.conversations.findMessage(db, conversationId, branch.messageId)
      : await this.conversations.lastUserMessageOfActiveBranch(db, conversationId);
    if (!named) throw messageNotFound();
    let target = named;
    if (named.role !== 'user') {
      const regenerateByAnswer = branch.mode === 'regenerate' && branch.byAnswer === true && named.parentId !== null;
      const question = regenerateByAnswer ? await this.conversations.findMessage(db, conversationId, named.parentId!) : null;
      if (!question || question.role !== 'user') {
        throw new HeraldError(
          ErrorCode.INVALID_INPUT,
          `parentMessageId: must be a user message to ${branch.mode === 'edit' ? 'edit' : 'answer again'}`,
        );
      }
      target = question;
    }
    if (branch.mode === 'edit') {
      return { userMessageId: input.userMessageId, content: input.content ?? '', parentMessageId: target.parentId, pinned: true };
    }
    return { userMessageId: target.id, content: target.content, parentMessageId: target.parentId, pinned: true };
  }

  /** Creates the conversation for "new"; otherwise locks the user's own conversation. */
  private async resolveConversation(db: EntityManager, input: AdmitInput): Promise<{ conversationId: string; created: boolean }> {
    const id = input.conversationId === 'new' ? input.newConversationId : input.conversationId;
    // A conversation this transaction just created is the user's and already locked by it.
    if (input.conversationId === 'new') {
      const created = await this.conversations.insertIfAbsent(db, {
        id,
        userId: input.userId,
        title: deriveConversationTitle(input.content ?? ''),
      });
      if (created) return { conversationId: id, created };
    }
    if (!(await this.conversations.lockOwned(db, id, input.userId))) throw conversationNotFound();
    return { conversationId: id, created: false };
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

/** The run's user message (a new one, or the stored one a regenerate answers) and where it hangs. */
interface TreePlace {
  userMessageId: string;
  content: string;
  parentMessageId: string | null;
  /** Whether the parent is fixed now (an edit or a regenerate) or when the run starts. */
  pinned: boolean;
}

function firstMessage(input: AdmitInput): TreePlace {
  return { userMessageId: input.userMessageId, content: input.content ?? '', parentMessageId: null, pinned: true };
}

function newRun(input: AdmitInput, conversationId: string, place: TreePlace): NewRun {
  return {
    id: input.runId,
    userId: input.userId,
    conversationId,
    messageId: input.messageId,
    clientMessageId: input.clientMessageId ?? null,
    options: input.options,
    ...place,
  };
}
