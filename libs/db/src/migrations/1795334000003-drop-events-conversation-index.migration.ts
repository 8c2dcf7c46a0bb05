import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log's (conversation_id, id) index goes: no query needs it (a replay filtered by
 * conversation reads the user's events through (user_id, id), which bounds it), and every
 * event written paid for it — about a sixth of Postgres's CPU per inserted event in the
 * bench's backlog drain (bench/RESULTS.md).
 */
export class DropEventsConversationIndex1795334000003 implements MigrationInterface {
  name = 'DropEventsConversationIndex1795334000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS events_conversation_id_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX IF NOT EXISTS events_conversation_id_idx ON events (conversation_id, id)`);
  }
}
