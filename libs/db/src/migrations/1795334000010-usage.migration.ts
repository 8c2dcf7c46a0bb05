import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage per user and UTC day (PROTOCOL.md §6, §10). `run_usage` is the ledger: one row per
 * run that ended, keyed by the run, written with the run's terminal event in the event
 * writer's transaction (so a redelivered event or a re-driven run counts once). `usage_daily`
 * is its sum per user and day, updated in that same transaction by the rows that were new:
 * `GET /v1/usage`, the admin report and the quota check read one row per day from it.
 */
export class Usage1795334000010 implements MigrationInterface {
  name = 'Usage1795334000010';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE run_usage (
        run_id             uuid          PRIMARY KEY,
        user_id            text          NOT NULL,
        day                date          NOT NULL,
        outcome            text          NOT NULL CHECK (outcome IN ('completed', 'failed', 'cancelled')),
        prompt_tokens      bigint        NOT NULL CHECK (prompt_tokens >= 0),
        completion_tokens  bigint        NOT NULL CHECK (completion_tokens >= 0),
        cost_usd           numeric(20,8) NOT NULL CHECK (cost_usd >= 0),
        ended_at           timestamptz   NOT NULL
      )`);
    await db.query(`
      CREATE TABLE usage_daily (
        user_id            text          NOT NULL,
        day                date          NOT NULL,
        runs               integer       NOT NULL,
        prompt_tokens      bigint        NOT NULL,
        completion_tokens  bigint        NOT NULL,
        cost_usd           numeric(20,8) NOT NULL,
        PRIMARY KEY (user_id, day)
      )`);
    // The admin report reads one day's users in user-id order.
    await db.query(`CREATE INDEX usage_daily_day_user_idx ON usage_daily (day, user_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS usage_daily`);
    await db.query(`DROP TABLE IF EXISTS run_usage`);
  }
}
