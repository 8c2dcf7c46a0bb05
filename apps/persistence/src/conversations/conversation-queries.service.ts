import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import {
  type HistoryMessage,
  type ListConversationsReply,
  type ListMessagesReply,
  type PERSISTENCE_RPC,
  type RpcRequest,
  type SwitchBranchReply,
} from '@herald/contracts';
import { DataSource } from 'typeorm';
import { decodeConversationCursor, encodeConversationCursor } from './conversation-cursor';
import { conversationNotFound, messageNotFound } from './conversation-not-found';
import { ConversationRepository } from './conversation.repository';

/** How long a history request waits for the previous run of its conversation to be stored. */
const HISTORY_SETTLE_MS = 3000;
const HISTORY_POLL_MS = 15;

/**
 * A page of messages, or the model's context, holds messages whose content and metadata add
 * up to at most this many bytes (the newest one always, whatever its size): a reply must fit
 * NATS's max_payload (1 MiB by default), JSON and all. Fewer messages than asked for then,
 * and `nextBefore` says where the rest begins.
 */
export const MESSAGES_PAGE_MAX_BYTES = 256 * 1024;

/** Read-only questions about conversations: listing, their messages, the model's context. */
@Injectable()
export class ConversationQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationRepository,
  ) {}

  async list(req: RpcRequest<typeof PERSISTENCE_RPC.listConversations>): Promise<ListConversationsReply> {
    const before = req.before === undefined ? undefined : decodeConversationCursor(req.before);
    // One row more than asked tells whether there is a next page.
    const rows = await this.conversations.page(this.dataSource.manager, req.userId, req.limit + 1, before);
    const page = rows.slice(0, req.limit);
    const last = page[page.length - 1];
    return {
      conversations: page.map(({ cursorAt: _cursor, ...c }) => c),
      nextBefore: rows.length > req.limit && last ? encodeConversationCursor({ updatedAt: last.cursorAt, id: last.id }) : null,
    };
  }

  /**
   * One page of a branch of the user's conversation (the active one, the one ending at
   * `leaf`, or the one above `before`): its newest `limit` messages older than `before`,
   * oldest first, cut short at MESSAGES_PAGE_MAX_BYTES. NOT_FOUND when the conversation is
   * not the user's or `before` or `leaf` is not one of its messages.
   */
  async messages(req: RpcRequest<typeof PERSISTENCE_RPC.listMessages>): Promise<ListMessagesReply> {
    const db = this.dataSource.manager;
    if (!(await this.conversations.isOwnedBy(db, req.conversationId, req.userId))) throw conversationNotFound();
    const named = [req.before, req.leaf].filter((id) => id !== undefined);
    if (named.length > 0 && (await this.conversations.countMessages(db, req.conversationId, named)) !== new Set(named).size) {
      throw messageNotFound();
    }
    const from = await this.conversations.pageStart(db, req.conversationId, req);
    // One key more than asked tells whether an older page remains.
    const keys = await this.conversations.branchKeys(db, req.conversationId, from, req.limit + 1);
    const page: string[] = [];
    let bytes = 0;
    for (const key of keys.slice(0, req.limit)) {
      bytes += key.bytes;
      if (page.length > 0 && bytes > MESSAGES_PAGE_MAX_BYTES) break;
      page.push(key.id);
    }
    const messages = await this.conversations.messagesByIds(db, req.conversationId, page.reverse());
    return { messages, nextBefore: keys.length > page.length && messages.length > 0 ? messages[0].id : null };
  }

  /** `PUT /v1/conversations/:id/branch`: the same NOT_FOUND for another user's conversation and a message not of it. */
  async switchBranch(req: RpcRequest<typeof PERSISTENCE_RPC.switchBranch>): Promise<SwitchBranchReply> {
    const leaf = await this.conversations.switchBranch(this.dataSource.manager, req.conversationId, req.userId, req.leafMessageId);
    if (leaf === null) {
      const owned = await this.conversations.isOwnedBy(this.dataSource.manager, req.conversationId, req.userId);
      throw owned ? messageNotFound() : conversationNotFound();
    }
    return { leafMessageId: leaf };
  }

  /**
   * The model's context: the last messages of the run's branch (fixed now if admission did
   * not). No owner check: only trusted services (the orchestrator) ask, for a run they hold.
   */
  async history(req: RpcRequest<typeof PERSISTENCE_RPC.history>): Promise<{ messages: HistoryMessage[] }> {
    const db = this.dataSource.manager;
    const { conversationId, runId, limit } = req;
    if (runId === undefined) {
      const leaf = await this.conversations.pageStart(db, conversationId, {});
      return { messages: await this.conversations.history(db, conversationId, leaf, limit, MESSAGES_PAGE_MAX_BYTES) };
    }
    // The event writer may still be storing the run that ran just before this one: wait for
    // it, at most HISTORY_SETTLE_MS, then go on without it.
    const deadline = Date.now() + HISTORY_SETTLE_MS;
    for (;;) {
      const messages = await this.conversations.runHistory(
        db,
        conversationId,
        runId,
        limit,
        MESSAGES_PAGE_MAX_BYTES,
        Date.now() >= deadline,
      );
      if (messages) return { messages };
      await sleep(HISTORY_POLL_MS);
    }
  }
}
