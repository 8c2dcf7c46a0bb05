import { Injectable } from '@nestjs/common';
import {
  ErrorCode,
  HeraldError,
  type ListFeedbackReply,
  type ListMessagesReply,
  type PERSISTENCE_RPC,
  type RpcRequest,
  type SetFeedbackReply,
} from '@herald/contracts';
import { DataSource } from 'typeorm';
import { decodeConversationCursor, encodeConversationCursor } from '../conversations/conversation-cursor';
import { MESSAGES_PAGE_MAX_BYTES } from '../conversations/conversation-queries.service';
import { FeedbackRepository } from './feedback.repository';

/** The same answer for an unknown message, a user message and another user's message. */
const messageNotFound = () => new HeraldError(ErrorCode.NOT_FOUND, 'Message not found');

/** Users' ratings of assistant messages: set, shown with the messages, exported to admins. */
@Injectable()
export class FeedbackService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly feedback: FeedbackRepository,
  ) {}

  /** Stores, replaces or (rating null) removes the user's rating; NOT_FOUND unless it is the user's assistant message. */
  async set(req: RpcRequest<typeof PERSISTENCE_RPC.setFeedback>): Promise<SetFeedbackReply> {
    const db = this.dataSource.manager;
    if (req.rating === null) {
      if (!(await this.feedback.remove(db, req))) throw messageNotFound();
      return { feedback: null };
    }
    const state = await this.feedback.upsert(db, { ...req, rating: req.rating, comment: req.comment ?? null });
    if (!state) throw messageNotFound();
    return { feedback: state };
  }

  /** The page with the user's rating on each assistant message (null when none). */
  async withFeedback(userId: string, page: ListMessagesReply): Promise<ListMessagesReply> {
    const answers = page.messages.filter((m) => m.role === 'assistant').map((m) => m.id);
    const states = await this.feedback.statesOf(this.dataSource.manager, userId, answers);
    return {
      ...page,
      messages: page.messages.map((m) => (m.role === 'assistant' ? { ...m, feedback: states.get(m.id) ?? null } : m)),
    };
  }

  /**
   * Current ratings changed since `since`, oldest change first: `limit` at most, cut short once
   * the messages' content adds up to MESSAGES_PAGE_MAX_BYTES (the first always), `nextAfter`
   * set when more remain.
   */
  async list(req: RpcRequest<typeof PERSISTENCE_RPC.listFeedback>): Promise<ListFeedbackReply> {
    const after = req.after === undefined ? undefined : decodeConversationCursor(req.after, 'after');
    // One row more than asked tells whether there is a next page.
    const rows = await this.feedback.page(this.dataSource.manager, req.since, req.limit + 1, after);
    const page: typeof rows = [];
    let bytes = 0;
    for (const row of rows.slice(0, req.limit)) {
      bytes += row.bytes;
      if (page.length > 0 && bytes > MESSAGES_PAGE_MAX_BYTES) break;
      page.push(row);
    }
    const last = page[page.length - 1];
    return {
      feedback: page.map(({ cursorAt: _at, bytes: _bytes, ...entry }) => entry),
      nextAfter: rows.length > page.length && last ? encodeConversationCursor({ updatedAt: last.cursorAt, id: last.messageId }) : null,
    };
  }
}
