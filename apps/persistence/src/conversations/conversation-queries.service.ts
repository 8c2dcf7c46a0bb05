import { Injectable } from '@nestjs/common';
import { isUuid, type HistoryMessage, type ListConversationsReply, type StoredMessage } from '@herald/contracts';
import { DataSource } from 'typeorm';
import { decodeConversationCursor, encodeConversationCursor } from './conversation-cursor';
import { conversationNotFound } from './conversation-not-found';
import { ConversationRepository } from './conversation.repository';

/** How long a history request waits for the previous run of its conversation to be stored. */
const HISTORY_SETTLE_MS = 3000;
const HISTORY_POLL_MS = 15;

/** Read-only questions about conversations: listing, their messages, the model's context. */
@Injectable()
export class ConversationQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationRepository,
  ) {}

  async list(req: { userId: string; limit: number; before?: string }): Promise<ListConversationsReply> {
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

  async messages(req: { userId: string; conversationId: string }): Promise<{ messages: StoredMessage[] }> {
    if (!isUuid(req.conversationId)) throw conversationNotFound();
    const db = this.dataSource.manager;
    const conversationId = req.conversationId.toLowerCase();
    if (!(await this.conversations.isOwnedBy(db, conversationId, req.userId))) throw conversationNotFound();
    return { messages: await this.conversations.messages(db, conversationId) };
  }

  /** No owner check: only trusted services (the orchestrator) ask, for a run they hold. */
  async history(req: { conversationId: string; limit: number; runId?: string }): Promise<{ messages: HistoryMessage[] }> {
    if (!isUuid(req.conversationId)) return { messages: [] };
    const conversationId = req.conversationId.toLowerCase();
    const db = this.dataSource.manager;
    const runId = req.runId && isUuid(req.runId) ? req.runId.toLowerCase() : null;
    // The event writer may still be storing the run that ran just before this one.
    const deadline = Date.now() + HISTORY_SETTLE_MS;
    for (;;) {
      const { earlierRunActive, messages } = await this.conversations.history(db, conversationId, req.limit, runId);
      if (!earlierRunActive || Date.now() >= deadline) return { messages };
      await new Promise((r) => setTimeout(r, HISTORY_POLL_MS));
    }
  }
}
