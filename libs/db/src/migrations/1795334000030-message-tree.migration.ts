import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversations backfilled per statement: each batch commits on its own, so locks and WAL stay small. */
export const MESSAGE_TREE_BACKFILL_BATCH = 1000;

/**
 * Conversations become trees of messages (PROTOCOL.md §10): a message has a parent (NULL for a
 * first message), a conversation has the leaf of its active branch, a run records where its
 * messages go. Every existing conversation becomes a single branch: each message's parent is
 * the one before it (created_at, id), the active leaf the last one.
 *
 * Safe on a large table, and restartable: it runs outside one big transaction (each statement
 * commits by itself); columns are added without a default (no table rewrite); indexes are
 * built CONCURRENTLY (writes go on) and foreign keys added NOT VALID then validated (no long
 * exclusive lock); the backfill is set-based, one statement per batch of conversations (keyset
 * on id), and only touches rows still missing a parent, so a second run finishes the job.
 */
export class MessageTree1795334000030 implements MigrationInterface {
  name = 'MessageTree1795334000030';
  /** CREATE INDEX CONCURRENTLY cannot run in a transaction; the runner's mode is 'each'. */
  transaction = false as const;

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE messages ADD COLUMN IF NOT EXISTS parent_id uuid NULL`);
    await db.query(`ALTER TABLE conversations ADD COLUMN IF NOT EXISTS active_leaf_id uuid NULL`);
    // When the user last switched branch (PUT /v1/conversations/:id/branch): a run whose branch
    // was fixed before that does not take the active branch away from the user's choice.
    await db.query(`ALTER TABLE conversations ADD COLUMN IF NOT EXISTS branch_switched_at timestamptz NULL`);
    // Where a run's user message goes: under parent_message_id (NULL: a first message), fixed
    // at branch_pinned_at (admission for an edit or a regenerate, run start for a continuation).
    await db.query(`ALTER TABLE runs ADD COLUMN IF NOT EXISTS parent_message_id uuid NULL`);
    await db.query(`ALTER TABLE runs ADD COLUMN IF NOT EXISTS branch_pinned_at timestamptz NULL`);

    // (conversation_id, id) is unique already (id is); the index lets foreign keys name both,
    // so that a parent or a leaf is always a message of the same conversation.
    await createIndexConcurrently(
      db,
      'messages_conversation_id_uidx',
      `CREATE UNIQUE INDEX CONCURRENTLY messages_conversation_id_uidx ON messages (conversation_id, id)`,
    );
    // Walking down (children, siblings: WHERE conversation_id = $1 AND parent_id = $2 ORDER BY created_at, id).
    await createIndexConcurrently(
      db,
      'messages_conversation_parent_idx',
      `CREATE INDEX CONCURRENTLY messages_conversation_parent_idx ON messages (conversation_id, parent_id, created_at, id)`,
    );

    await this.backfill(db);

    await addConstraint(
      db,
      'messages',
      'messages_parent_fk',
      `FOREIGN KEY (conversation_id, parent_id) REFERENCES messages (conversation_id, id) ON DELETE CASCADE`,
    );
    await addConstraint(
      db,
      'conversations',
      'conversations_active_leaf_fk',
      `FOREIGN KEY (id, active_leaf_id) REFERENCES messages (conversation_id, id)`,
    );
    // A message is not its own parent (longer cycles cannot arise: a parent exists before its children).
    await addConstraint(db, 'messages', 'messages_parent_not_self', `CHECK (parent_id IS DISTINCT FROM id)`);
  }

  /** One set-based statement per batch of conversations, in id order, until none is left. */
  private async backfill(db: QueryRunner): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: Array<{ last: string | null }> = await db.query(
        `WITH batch AS (
           SELECT id FROM conversations WHERE id > $1::uuid ORDER BY id LIMIT $2
         ),
         linear AS (
           SELECT m.id, lag(m.id) OVER (PARTITION BY m.conversation_id ORDER BY m.created_at, m.id) AS parent_id
             FROM messages m JOIN batch b ON b.id = m.conversation_id
         ),
         parents AS (
           UPDATE messages SET parent_id = linear.parent_id
             FROM linear
            WHERE messages.id = linear.id AND linear.parent_id IS NOT NULL AND messages.parent_id IS NULL
         ),
         leaves AS (
           UPDATE conversations SET active_leaf_id = last.id
             FROM (SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.id
                     FROM messages m JOIN batch b ON b.id = m.conversation_id
                    ORDER BY m.conversation_id, m.created_at DESC, m.id DESC) last
            WHERE conversations.id = last.conversation_id AND conversations.active_leaf_id IS NULL
         )
         SELECT max(id::text) AS last FROM batch`,
        [after, MESSAGE_TREE_BACKFILL_BATCH],
      );
      const last = rows[0]?.last;
      if (!last) return;
      after = last;
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE conversations DROP CONSTRAINT IF EXISTS conversations_active_leaf_fk`);
    await db.query(`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_parent_fk`);
    await db.query(`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_parent_not_self`);
    await db.query(`DROP INDEX IF EXISTS messages_conversation_parent_idx`);
    await db.query(`DROP INDEX IF EXISTS messages_conversation_id_uidx`);
    await db.query(`ALTER TABLE runs DROP COLUMN IF EXISTS branch_pinned_at, DROP COLUMN IF EXISTS parent_message_id`);
    await db.query(`ALTER TABLE conversations DROP COLUMN IF EXISTS branch_switched_at, DROP COLUMN IF EXISTS active_leaf_id`);
    await db.query(`ALTER TABLE messages DROP COLUMN IF EXISTS parent_id`);
  }
}

/** Builds an index without blocking writes; an invalid one left by an interrupted build is dropped first. */
async function createIndexConcurrently(db: QueryRunner, name: string, statement: string): Promise<void> {
  const [state]: Array<{ valid: boolean }> = await db.query(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
    [name],
  );
  if (state?.valid) return;
  if (state) await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await db.query(statement);
}

/** A constraint added NOT VALID (a brief lock), then validated without blocking writes; skipped when there. */
async function addConstraint(db: QueryRunner, table: string, name: string, definition: string): Promise<void> {
  const [existing]: Array<{ valid: boolean }> = await db.query(
    `SELECT convalidated AS valid FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass`,
    [name, table],
  );
  if (!existing) await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${definition} NOT VALID`);
  if (!existing?.valid) await db.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`);
}
