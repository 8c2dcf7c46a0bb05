import { Injectable } from '@nestjs/common';
import type { Conversation, HistoryMessage, StoredMessage } from '@herald/contracts';
import type { MessageRole } from '@herald/db';
import type { EntityManager } from 'typeorm';
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

  /** The user's conversation, row-locked until the transaction ends: whether it is theirs. */
  async lockOwned(db: EntityManager, id: string, userId: string): Promise<boolean> {
    const { rows } = await sql(db, `SELECT 1 FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, userId]);
    return rows.length > 0;
  }

  async isOwnedBy(db: EntityManager, id: string, userId: string): Promise<boolean> {
    const { rows } = await sql<{ owned: boolean }>(
      db,
      `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1 AND user_id = $2) AS owned`,
      [id, userId],
    );
    return rows[0]?.owned === true;
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

  /** A message of the conversation (id, role, parent, content); null if it is not one of its. */
  async findMessage(db: EntityManager, conversationId: string, id: string): Promise<TreeMessage | null> {
    const { rows } = await sql<TreeMessageRow>(
      db,
      `SELECT id, role, parent_id, content FROM messages WHERE id = $1 AND conversation_id = $2`,
      [id, conversationId],
    );
    return rows[0] ? toTreeMessage(rows[0]) : null;
  }

  /** The last user message of the conversation's active branch; null when it has none. */
  async lastUserMessageOfActiveBranch(db: EntityManager, conversationId: string): Promise<TreeMessage | null> {
    const { rows } = await sql<TreeMessageRow>(
      db,
      `SELECT m.id, m.role, m.parent_id, m.content
         FROM conversations c
         JOIN messages leaf ON leaf.conversation_id = c.id AND leaf.id = c.active_leaf_id
         JOIN messages m ON m.conversation_id = c.id AND m.id = CASE WHEN leaf.role = 'user' THEN leaf.id ELSE leaf.parent_id END
        WHERE c.id = $1`,
      [conversationId],
    );
    return rows[0] ? toTreeMessage(rows[0]) : null;
  }

  /** How many of these ids are messages of the conversation. */
  async countMessages(db: EntityManager, conversationId: string, ids: readonly string[]): Promise<number> {
    const { rows } = await sql<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND id = ANY($2::uuid[])`,
      [conversationId, [...new Set(ids)]],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * The keys and sizes of the newest `limit` messages of a branch, newest first, walking up
   * from message `from` (included) through the parents: what a page will hold is decided on
   * these before any content is read. A recursive walk of at most `limit` steps, each an
   * index lookup, whatever the depth of the tree. `from` null: none.
   */
  async branchKeys(db: EntityManager, conversationId: string, from: string | null, limit: number): Promise<MessageKey[]> {
    if (from === null) return [];
    const { rows } = await sql<{ id: string; bytes: string }>(
      db,
      `WITH RECURSIVE branch (id, parent_id, bytes, depth) AS (
         SELECT id, parent_id, octet_length(content) + COALESCE(octet_length(metadata::text), 0), 1
           FROM messages WHERE id = $2 AND conversation_id = $1
         UNION ALL
         SELECT m.id, m.parent_id, octet_length(m.content) + COALESCE(octet_length(m.metadata::text), 0), b.depth + 1
           FROM branch b JOIN messages m ON m.id = b.parent_id AND m.conversation_id = $1
          WHERE b.depth < $3
       )
       SELECT id, bytes FROM branch ORDER BY depth`,
      [conversationId, from, limit],
    );
    return rows.map((r) => ({ id: r.id, bytes: Number(r.bytes) }));
  }

  /** Where a page of a branch starts (newest message): above `before`, else at `leaf`, else the active leaf. */
  async pageStart(db: EntityManager, conversationId: string, at: { before?: string; leaf?: string }): Promise<string | null> {
    if (at.before !== undefined) return (await this.findMessage(db, conversationId, at.before))?.parentId ?? null;
    if (at.leaf !== undefined) return at.leaf;
    const { rows } = await sql<{ active_leaf_id: string | null }>(db, `SELECT active_leaf_id FROM conversations WHERE id = $1`, [
      conversationId,
    ]);
    return rows[0]?.active_leaf_id ?? null;
  }

  /** These messages of the conversation, in the order of `ids`, each with its parent and its siblings (oldest first). */
  async messagesByIds(db: EntityManager, conversationId: string, ids: readonly string[]): Promise<StoredMessage[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<{
      id: string;
      conversation_id: string;
      run_id: string | null;
      role: MessageRole;
      content: string;
      metadata: Record<string, unknown> | null;
      created_at: Date;
      parent_id: string | null;
      sibling_ids: string[];
    }>(
      db,
      `SELECT m.id, m.conversation_id, m.run_id, m.role, m.content, m.metadata, m.created_at, m.parent_id,
              -- Two forms, so that each one walks the (conversation_id, parent_id, created_at, id) index
              -- (one query with an OR would read the whole conversation once per message).
              CASE WHEN m.parent_id IS NULL
                THEN ARRAY(SELECT s.id FROM messages s WHERE s.conversation_id = m.conversation_id AND s.parent_id IS NULL
                            ORDER BY s.created_at, s.id)
                ELSE ARRAY(SELECT s.id FROM messages s WHERE s.conversation_id = m.conversation_id AND s.parent_id = m.parent_id
                            ORDER BY s.created_at, s.id)
              END AS sibling_ids
         FROM unnest($2::uuid[]) WITH ORDINALITY AS page(id, n)
         JOIN messages m ON m.id = page.id AND m.conversation_id = $1
        ORDER BY page.n`,
      [conversationId, [...ids]],
    );
    return rows.map((m) => ({
      id: m.id,
      conversationId: m.conversation_id,
      runId: m.run_id,
      role: m.role,
      content: m.content,
      metadata: m.metadata,
      createdAt: m.created_at.toISOString(),
      parentId: m.parent_id,
      siblingIds: m.sibling_ids,
    }));
  }

  /**
   * A run's context, in one statement: unless `settled`, null while a run of the conversation
   * accepted before it is still running or waiting (its messages are not stored yet: ask
   * again). Otherwise fixes where the run's user message goes, if admission did not (it
   * continues the branch active now), and resolves with the last `limit` messages of the
   * branch ending at that parent, oldest first, cut at `maxBytes` (see history()). Asked
   * again (a redelivered run), the same branch. One snapshot serves the check, the pin and
   * the read: an earlier run seen ended has its messages stored (the same transaction).
   */
  async runHistory(
    db: EntityManager,
    conversationId: string,
    runId: string,
    limit: number,
    maxBytes: number,
    settled: boolean,
  ): Promise<HistoryMessage[] | null> {
    const { rows } = await sql<{ waiting: boolean; messages: HistoryMessage[] }>(
      db,
      `WITH RECURSIVE waiting AS (
         SELECT NOT $5::boolean AND EXISTS (
                  SELECT 1 FROM runs r, runs me
                   WHERE me.id = $2::uuid AND r.conversation_id = $1 AND r.id <> me.id
                     AND r.created_at <= me.created_at AND r.status IN ('running', 'waiting')
                ) AS active
       ),
       pinned AS (
         UPDATE runs r SET parent_message_id = c.active_leaf_id, branch_pinned_at = now()
           FROM conversations c, waiting w
          WHERE NOT w.active AND r.id = $2 AND r.conversation_id = $1 AND c.id = r.conversation_id AND r.branch_pinned_at IS NULL
          RETURNING r.parent_message_id
       ),
       leaf AS (
         SELECT parent_message_id FROM pinned
         UNION ALL
         SELECT r.parent_message_id FROM runs r, waiting w
          WHERE NOT w.active AND r.id = $2 AND r.conversation_id = $1 AND r.branch_pinned_at IS NOT NULL
       ),
       branch (id, parent_id, role, content, depth) AS (
         SELECT m.id, m.parent_id, m.role, m.content, 1 FROM leaf JOIN messages m ON m.id = leaf.parent_message_id AND m.conversation_id = $1
         UNION ALL
         SELECT m.id, m.parent_id, m.role, m.content, b.depth + 1
           FROM branch b JOIN messages m ON m.id = b.parent_id AND m.conversation_id = $1
          WHERE b.depth < $3
       )
       SELECT (SELECT active FROM waiting) AS waiting,
              COALESCE((SELECT json_agg(json_build_object('role', role, 'content', content) ORDER BY depth DESC)
                          FROM (SELECT role, content, depth, sum(octet_length(content)) OVER (ORDER BY depth) AS running_bytes FROM branch) latest
                         WHERE depth = 1 OR running_bytes <= $4), '[]'::json) AS messages`,
      [conversationId, runId, limit, maxBytes, settled],
    );
    return rows[0]?.waiting ? null : (rows[0]?.messages ?? []);
  }

  /**
   * The last `limit` messages of the branch ending at `leaf`, oldest first (the model's
   * context), the oldest left out once their content adds up to more than `maxBytes` (the
   * newest is always in).
   */
  async history(
    db: EntityManager,
    conversationId: string,
    leaf: string | null,
    limit: number,
    maxBytes: number,
  ): Promise<HistoryMessage[]> {
    if (leaf === null) return [];
    const { rows } = await sql<{ messages: HistoryMessage[] }>(
      db,
      `WITH RECURSIVE branch (id, parent_id, role, content, depth) AS (
         SELECT id, parent_id, role, content, 1 FROM messages WHERE id = $2 AND conversation_id = $1
         UNION ALL
         SELECT m.id, m.parent_id, m.role, m.content, b.depth + 1
           FROM branch b JOIN messages m ON m.id = b.parent_id AND m.conversation_id = $1
          WHERE b.depth < $3
       )
       SELECT COALESCE(json_agg(json_build_object('role', role, 'content', content) ORDER BY depth DESC), '[]'::json) AS messages
         FROM (SELECT role, content, depth, sum(octet_length(content)) OVER (ORDER BY depth) AS running_bytes FROM branch) latest
        WHERE depth = 1 OR running_bytes <= $4`,
      [conversationId, leaf, limit, maxBytes],
    );
    return rows[0]?.messages ?? [];
  }

  /**
   * Makes the branch through message `through` the user's active one, down to the newest
   * message under it that has no answer below it, and notes when (a run whose branch was
   * fixed before then leaves it alone). Resolves with the new leaf; null when the
   * conversation is not the user's or the message not one of its.
   */
  async switchBranch(db: EntityManager, conversationId: string, userId: string, through: string): Promise<string | null> {
    const { rows } = await sql<{ active_leaf_id: string }>(
      db,
      `WITH RECURSIVE below (id, created_at) AS (
         SELECT m.id, m.created_at FROM messages m
           JOIN conversations c ON c.id = m.conversation_id AND c.user_id = $2
          WHERE m.id = $3 AND m.conversation_id = $1
         UNION ALL
         SELECT m.id, m.created_at FROM below b JOIN messages m ON m.conversation_id = $1 AND m.parent_id = b.id
       ),
       leaf AS (
         SELECT b.id FROM below b
          WHERE NOT EXISTS (SELECT 1 FROM messages child WHERE child.conversation_id = $1 AND child.parent_id = b.id)
          ORDER BY b.created_at DESC, b.id DESC LIMIT 1
       )
       UPDATE conversations c SET active_leaf_id = leaf.id, branch_switched_at = clock_timestamp()
         FROM leaf WHERE c.id = $1 AND c.user_id = $2
       RETURNING c.active_leaf_id`,
      [conversationId, userId, through],
    );
    return rows[0]?.active_leaf_id ?? null;
  }
}

interface TreeMessageRow {
  id: string;
  role: MessageRole;
  parent_id: string | null;
  content: string;
}

/** A message as the tree sees it. */
export interface TreeMessage {
  id: string;
  role: MessageRole;
  parentId: string | null;
  content: string;
}

function toTreeMessage(r: TreeMessageRow): TreeMessage {
  return { id: r.id, role: r.role, parentId: r.parent_id, content: r.content };
}
