import { Injectable } from '@nestjs/common';
import type { Conversation, HistoryMessage, StoredMessage } from '@herald/contracts';
import { ConversationEntity, MessageEntity } from '@herald/db';
import { In, type EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';
import type { ConversationCursor } from './conversation-cursor';

/** A message's id and how many bytes its content and metadata take. */
export interface MessageKey {
  id: string;
  bytes: number;
}

export interface ConversationPageRow extends Conversation {
  /** `updated_at` to the microsecond, for the next page's cursor. */
  cursorAt: string;
}

/** SQL for conversations and their stored messages. Every method takes the manager to run in. */
@Injectable()
export class ConversationRepository {
  /**
   * Inserts a new conversation; does nothing if the id exists (a retried admit). Resolves true
   * if this call created it (the row is then this transaction's until it ends).
   */
  async insertIfAbsent(db: EntityManager, c: { id: string; userId: string; title: string }): Promise<boolean> {
    const { count } = await sql(db, `INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
      c.id,
      c.userId,
      c.title,
    ]);
    return count > 0;
  }

  /** The user's conversation, row-locked until the transaction ends; null if missing or not theirs. */
  findOwnedForUpdate(db: EntityManager, id: string, userId: string): Promise<ConversationEntity | null> {
    return db.findOne(ConversationEntity, { where: { id, userId }, lock: { mode: 'pessimistic_write' } });
  }

  isOwnedBy(db: EntityManager, id: string, userId: string): Promise<boolean> {
    return db.exists(ConversationEntity, { where: { id, userId } });
  }

  /** One page of the user's conversations, newest `updated_at` first, after `before`. */
  async page(db: EntityManager, userId: string, limit: number, before?: ConversationCursor): Promise<ConversationPageRow[]> {
    const params: unknown[] = [userId, limit];
    let after = '';
    if (before) {
      params.push(before.updatedAt, before.id);
      after = 'AND (updated_at, id) < ($3::timestamptz, $4::uuid)';
    }
    const { rows } = await sql<{ id: string; title: string; created_at: Date; updated_at: Date; cursor_at: string }>(
      db,
      `SELECT id, title, created_at, updated_at,
              to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
         FROM conversations
        WHERE user_id = $1 ${after}
        ORDER BY updated_at DESC, id DESC
        LIMIT $2`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      cursorAt: r.cursor_at,
    }));
  }

  /**
   * The keys and sizes of the newest `limit` messages of a conversation older than message
   * `before` (by created_at, then id), newest first: what a page will hold is decided on these
   * before any content is read. Null when `before` is not a message of that conversation.
   */
  async messageKeysBefore(db: EntityManager, conversationId: string, limit: number, before?: string): Promise<MessageKey[] | null> {
    if (before !== undefined) {
      const { rows } = await sql(db, `SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2`, [before, conversationId]);
      if (rows.length === 0) return null;
    }
    const { rows } = await sql<{ id: string; bytes: string }>(
      db,
      `SELECT id, octet_length(content) + COALESCE(octet_length(metadata::text), 0) AS bytes
         FROM messages
        WHERE conversation_id = $1
          AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM messages WHERE id = $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $2`,
      [conversationId, limit, before ?? null],
    );
    return rows.map((r) => ({ id: r.id, bytes: Number(r.bytes) }));
  }

  /** These messages of the conversation, oldest first. */
  async messagesByIds(db: EntityManager, conversationId: string, ids: readonly string[]): Promise<StoredMessage[]> {
    if (ids.length === 0) return [];
    const rows = await db.find(MessageEntity, { where: { conversationId, id: In([...ids]) }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map((m) => ({
      id: m.id,
      conversationId: m.conversationId,
      runId: m.runId,
      role: m.role,
      content: m.content,
      metadata: m.metadata,
      createdAt: m.createdAt.toISOString(),
    }));
  }

  /**
   * The last `limit` messages, oldest first (the model's context), the oldest left out once
   * their content adds up to more than `maxBytes` (the newest is always in), and whether a run of the
   * conversation accepted before `runId` is still running or waiting (its messages are not
   * stored yet), in one round trip.
   */
  async history(
    db: EntityManager,
    conversationId: string,
    limit: number,
    runId: string | null,
    maxBytes: number,
  ): Promise<{ earlierRunActive: boolean; messages: HistoryMessage[] }> {
    const { rows } = await sql<{ earlier_run_active: boolean; messages: HistoryMessage[] }>(
      db,
      `SELECT $3::uuid IS NOT NULL AND EXISTS (
                SELECT 1 FROM runs r, runs me
                 WHERE me.id = $3::uuid AND r.conversation_id = $1 AND r.id <> me.id
                   AND r.created_at <= me.created_at AND r.status IN ('running', 'waiting')
              ) AS earlier_run_active,
              COALESCE((
                SELECT json_agg(json_build_object('role', role, 'content', content) ORDER BY created_at, id)
                  FROM (SELECT role, content, created_at, id,
                               sum(octet_length(content)) OVER (ORDER BY created_at DESC, id DESC) AS running_bytes,
                               row_number() OVER (ORDER BY created_at DESC, id DESC) AS n
                          FROM messages
                         WHERE conversation_id = $1
                         ORDER BY created_at DESC, id DESC
                         LIMIT $2) latest
                 WHERE n = 1 OR running_bytes <= $4
              ), '[]'::json) AS messages`,
      [conversationId, limit, runId, maxBytes],
    );
    return { earlierRunActive: rows[0]?.earlier_run_active === true, messages: rows[0]?.messages ?? [] };
  }
}
