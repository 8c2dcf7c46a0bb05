import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users' ratings of assistant messages (PROTOCOL.md §2 `message:feedback`), one per user and
 * message, with what the learning loop needs to rank passages without reading messages: the
 * ids of the passages the answer cited and the lexemes of the question it answered.
 */
export class MessageFeedback1795334000020 implements MigrationInterface {
  name = 'MessageFeedback1795334000020';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE message_feedback (
        message_id        uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        user_id           text        NOT NULL,
        rating            text        NOT NULL CHECK (rating IN ('up', 'down')),
        comment           text        NULL,
        source_ids        text[]      NOT NULL DEFAULT '{}',
        question_lexemes  text[]      NOT NULL DEFAULT '{}',
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, user_id)
      )`);
    // The admin export: changed since a time, oldest change first, keyset-paged.
    await db.query(`CREATE INDEX message_feedback_updated_idx ON message_feedback (updated_at, message_id)`);
    // The learning loop: the ratings of answers that cited any of a search's candidate passages,
    // for questions sharing a lexeme with the search's (Postgres picks the more selective one).
    await db.query(`CREATE INDEX message_feedback_sources_idx ON message_feedback USING GIN (source_ids)`);
    await db.query(`CREATE INDEX message_feedback_lexemes_idx ON message_feedback USING GIN (question_lexemes)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS message_feedback`);
  }
}
