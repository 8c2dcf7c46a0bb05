import { Injectable } from '@nestjs/common';
import type { FeedbackEntry, FeedbackRating, MessageFeedbackState } from '@herald/contracts';
import type { EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';
import type { ConversationCursor } from '../conversations/conversation-cursor';

/** The most passage ids one rating keeps (an answer cites a handful). */
const MAX_RATED_SOURCES = 50;
/** The question's characters that make its lexemes (a question is at most MAX_MESSAGE_CHARS). */
const MAX_QUESTION_CHARS = 8000;

/**
 * The user's assistant message `$1` of user `$2`, with the ids of the passages its answer cited
 * (metadata.sources) and the lexemes of the question it answered (the run's user message).
 */
const TARGET_CTE = `
  target AS (
    SELECT m.id,
           ARRAY(SELECT s->>'id'
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.metadata->'sources') = 'array'
                                                  THEN m.metadata->'sources' ELSE '[]'::jsonb END) s
                  WHERE jsonb_typeof(s->'id') = 'string'
                  LIMIT ${MAX_RATED_SOURCES}) AS source_ids,
           tsvector_to_array(to_tsvector('english', left(COALESCE(um.content, r.content, ''), ${MAX_QUESTION_CHARS}))) AS question_lexemes
      FROM messages m
      JOIN conversations c ON c.id = m.conversation_id
      LEFT JOIN runs r ON r.id = m.run_id
      LEFT JOIN messages um ON um.id = r.user_message_id
     WHERE m.id = $1 AND m.role = 'assistant' AND c.user_id = $2
  )`;

/** `updated_at` to the microsecond, for cursors. */
const AT_MICROS = `to_char(f.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface FeedbackPageRow extends FeedbackEntry {
  /** `updated_at` to the microsecond, for the next page's cursor. */
  cursorAt: string;
  /** Bytes of the message's content. */
  bytes: number;
}

interface StateRow {
  message_id: string;
  rating: FeedbackRating;
  comment: string | null;
  updated_at: Date;
}

function toState(row: StateRow): MessageFeedbackState {
  return { rating: row.rating, ...(row.comment !== null ? { comment: row.comment } : {}), updatedAt: row.updated_at.toISOString() };
}

/** SQL for users' ratings of assistant messages. Every method takes the manager to run in. */
@Injectable()
export class FeedbackRepository {
  /**
   * Stores or replaces the user's rating of their assistant message. Null when the message is
   * not one (unknown, a user message, another user's): nothing is written then.
   */
  async upsert(
    db: EntityManager,
    f: { userId: string; messageId: string; rating: FeedbackRating; comment: string | null },
  ): Promise<MessageFeedbackState | null> {
    const { rows } = await sql<StateRow>(
      db,
      `WITH ${TARGET_CTE}
       INSERT INTO message_feedback AS f (message_id, user_id, rating, comment, source_ids, question_lexemes)
       SELECT id, $2, $3, $4, source_ids, question_lexemes FROM target
       ON CONFLICT (message_id, user_id)
       DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = now()
       RETURNING f.message_id, f.rating, f.comment, f.updated_at`,
      [f.messageId, f.userId, f.rating, f.comment],
    );
    return rows[0] ? toState(rows[0]) : null;
  }

  /** Removes the user's rating of their assistant message; false when the message is not one (a removed rating is no error). */
  async remove(db: EntityManager, f: { userId: string; messageId: string }): Promise<boolean> {
    const { rows } = await sql<{ found: boolean }>(
      db,
      `WITH ${TARGET_CTE},
            -- A data-modifying CTE runs whether or not the query reads it.
            removed AS (DELETE FROM message_feedback f USING target WHERE f.message_id = target.id AND f.user_id = $2 RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM target) AS found`,
      [f.messageId, f.userId],
    );
    return rows[0]?.found === true;
  }

  /** The user's ratings of these messages, by message id. */
  async statesOf(db: EntityManager, userId: string, messageIds: readonly string[]): Promise<Map<string, MessageFeedbackState>> {
    if (messageIds.length === 0) return new Map();
    const { rows } = await sql<StateRow>(
      db,
      `SELECT message_id, rating, comment, updated_at FROM message_feedback WHERE user_id = $1 AND message_id = ANY($2::uuid[])`,
      [userId, [...messageIds]],
    );
    return new Map(rows.map((r) => [r.message_id, toState(r)]));
  }

  /** Current ratings changed at or after `since`, oldest change first, after the cursor; with their messages. */
  async page(db: EntityManager, since: string, limit: number, after?: ConversationCursor): Promise<FeedbackPageRow[]> {
    const params: unknown[] = [since, limit];
    let keyset = '';
    if (after) {
      params.push(after.updatedAt, after.id);
      keyset = 'AND (f.updated_at, f.message_id) > ($3::timestamptz, $4::uuid)';
    }
    const { rows } = await sql<{
      message_id: string;
      user_id: string;
      rating: FeedbackRating;
      comment: string | null;
      updated_at: Date;
      cursor_at: string;
      conversation_id: string;
      content: string;
      bytes: number;
    }>(
      db,
      `SELECT f.message_id, f.user_id, f.rating, f.comment, f.updated_at, ${AT_MICROS} AS cursor_at,
              m.conversation_id, m.content, octet_length(m.content) + COALESCE(octet_length(f.comment), 0) AS bytes
         FROM message_feedback f
         JOIN messages m ON m.id = f.message_id
        WHERE f.updated_at >= $1::timestamptz ${keyset}
        ORDER BY f.updated_at, f.message_id
        LIMIT $2`,
      params,
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      userId: r.user_id,
      rating: r.rating,
      comment: r.comment,
      at: r.updated_at.toISOString(),
      message: { id: r.message_id, conversationId: r.conversation_id, content: r.content },
      cursorAt: r.cursor_at,
      bytes: Number(r.bytes),
    }));
  }
}
