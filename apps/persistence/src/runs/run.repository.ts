import { Injectable } from '@nestjs/common';
import { ACTIVE_RUN_STATUSES, type RunOptions, type RunStatus } from '@herald/contracts';
import { RunEntity } from '@herald/db';
import type { EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';

/** Constraint names of the runs table that an admit may run into (see the schema migration). */
export const RUN_CONSTRAINT = {
  primaryKey: 'runs_pkey',
  clientMessageId: 'runs_user_client_message_uidx',
} as const;

export interface NewRun {
  id: string;
  userId: string;
  conversationId: string;
  messageId: string;
  userMessageId: string;
  clientMessageId: string | null;
  content: string;
  options: RunOptions;
  /** The parent of the run's user message (null: a first message), when `pinned`. */
  parentMessageId: string | null;
  /** The branch is fixed at admission (an edit, a regenerate, a new conversation's first message); otherwise when the run starts. */
  pinned: boolean;
}

/** SQL for runs. Every method takes the manager to run in. */
@Injectable()
export class RunRepository {
  async findOwned(db: EntityManager, id: string, userId: string): Promise<RunEntity | null> {
    const { rows } = await sql<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 AND user_id = $2`, [id, userId]);
    return rows[0] ? toEntity(db, rows[0]) : null;
  }

  async findByClientMessageId(db: EntityManager, userId: string, clientMessageId: string): Promise<RunEntity | null> {
    const { rows } = await sql<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM runs WHERE user_id = $1 AND client_message_id = $2`, [
      userId,
      clientMessageId,
    ]);
    return rows[0] ? toEntity(db, rows[0]) : null;
  }

  /** Frees an expired idempotency key so that it may start a new run. */
  async releaseClientMessageId(db: EntityManager, id: string): Promise<void> {
    await sql(db, `UPDATE runs SET client_message_id = NULL WHERE id = $1`, [id]);
  }

  async hasActiveRun(db: EntityManager, conversationId: string): Promise<boolean> {
    const { rows } = await sql<{ active: boolean }>(
      db,
      `SELECT EXISTS (SELECT 1 FROM runs WHERE conversation_id = $1 AND status = ANY($2::text[])) AS active`,
      [conversationId, [...ACTIVE_RUN_STATUSES]],
    );
    return rows[0]?.active === true;
  }

  /**
   * Creates the conversation and inserts the run `queued` in it, in one statement (atomic
   * without a transaction); null, with nothing written, if the conversation exists already.
   */
  async insertWithNewConversation(db: EntityManager, run: NewRun, title: string): Promise<RunEntity | null> {
    const { rows } = await sql<{ created_at: Date; branch_pinned_at: Date | null }>(
      db,
      `WITH conversation AS (
         INSERT INTO conversations (id, user_id, title) VALUES ($3, $2, $11) ON CONFLICT (id) DO NOTHING RETURNING id
       )
       INSERT INTO runs (id, user_id, conversation_id, message_id, user_message_id, client_message_id, content, options, status,
                         parent_message_id, branch_pinned_at)
       SELECT $1::uuid, $2::text, conversation.id, $4::uuid, $5::uuid, $6::text, $7::text, $8::jsonb, 'queued', $9::uuid,
              CASE WHEN $10::boolean THEN now() END
         FROM conversation
       RETURNING created_at, branch_pinned_at`,
      [...insertParams(run), title],
    );
    return rows[0] ? runEntityOf(db, run, rows[0]) : null;
  }

  /** Inserts the run `queued` and returns its row, in one round trip. */
  async insert(db: EntityManager, run: NewRun): Promise<RunEntity> {
    const { rows } = await sql<{ created_at: Date; branch_pinned_at: Date | null }>(
      db,
      `INSERT INTO runs (id, user_id, conversation_id, message_id, user_message_id, client_message_id, content, options, status,
                         parent_message_id, branch_pinned_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, 'queued', $9, CASE WHEN $10::boolean THEN now() END)
       RETURNING created_at, branch_pinned_at`,
      insertParams(run),
    );
    return runEntityOf(db, run, rows[0]);
  }

  /** A run still `queued` becomes `failed`; resolves true if it did. */
  async abandon(db: EntityManager, id: string, userId: string): Promise<boolean> {
    const { count } = await sql(
      db,
      `UPDATE runs SET status = 'failed', ended_at = now() WHERE id = $1 AND user_id = $2 AND status = 'queued'`,
      [id, userId],
    );
    return count > 0;
  }
}

/** The runs table's columns as RunEntity holds them (prepared statements, not TypeORM's query builder: see sql()). */
const RUN_COLUMNS = `id, user_id, conversation_id, message_id, user_message_id, parent_message_id, branch_pinned_at, client_message_id,
  content, options, status, progress, last_event_id::text AS last_event_id, created_at, started_at, ended_at`;

interface RunRow {
  id: string;
  user_id: string;
  conversation_id: string;
  message_id: string;
  user_message_id: string;
  parent_message_id: string | null;
  branch_pinned_at: Date | null;
  client_message_id: string | null;
  content: string;
  options: RunOptions;
  status: RunStatus;
  progress: number;
  last_event_id: string | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

function toEntity(db: EntityManager, r: RunRow): RunEntity {
  return db.create(RunEntity, {
    id: r.id,
    userId: r.user_id,
    conversationId: r.conversation_id,
    messageId: r.message_id,
    userMessageId: r.user_message_id,
    parentMessageId: r.parent_message_id,
    branchPinnedAt: r.branch_pinned_at,
    clientMessageId: r.client_message_id,
    content: r.content,
    options: r.options,
    status: r.status,
    progress: r.progress,
    lastEventId: r.last_event_id,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  });
}

function insertParams(run: NewRun): unknown[] {
  return [
    run.id,
    run.userId,
    run.conversationId,
    run.messageId,
    run.userMessageId,
    run.clientMessageId,
    run.content,
    JSON.stringify(run.options),
    run.parentMessageId,
    run.pinned,
  ];
}

/** The row just inserted, from what was inserted and what Postgres filled in. */
function runEntityOf(db: EntityManager, run: NewRun, row: { created_at: Date; branch_pinned_at: Date | null }): RunEntity {
  return db.create(RunEntity, {
    id: run.id,
    userId: run.userId,
    conversationId: run.conversationId,
    messageId: run.messageId,
    userMessageId: run.userMessageId,
    clientMessageId: run.clientMessageId,
    content: run.content,
    options: run.options,
    parentMessageId: run.parentMessageId,
    branchPinnedAt: row.branch_pinned_at,
    status: 'queued',
    progress: 0,
    lastEventId: null,
    createdAt: row.created_at,
    startedAt: null,
    endedAt: null,
  });
}
