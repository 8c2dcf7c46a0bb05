import { DEMO_READER_ROLE, DEMO_SCHEMA } from '@herald/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data agent's role (`herald_demo_reader`) reaches the demo schema and nothing else of
 * this database, even with SQL that got past the guard:
 *
 * - its sessions here get `search_path = demo`, read-only transactions, a statement timeout
 *   (5 s, the pool sets its own per transaction too), an idle-in-transaction timeout and,
 *   when the migration runs as a superuser (the only one who may set it), a 64 MB limit on
 *   temporary files: per database (`ALTER ROLE … IN DATABASE`), as the role is cluster-wide;
 * - PUBLIC loses every right on the `public` schema (Herald's tables: conversations,
 *   messages, runs, events, the knowledge base) and TEMPORARY on this database, so the
 *   role can neither name those tables nor create temporary ones. The migrating user, which
 *   Herald's services all connect as (DATABASE_URL), is granted them back explicitly first;
 *   a superuser or the database's owner needs neither. Another role that used `public`
 *   through PUBLIC (say a monitoring user) must now be granted USAGE on it by hand. When
 *   the migrating user owns neither the schema nor the database, Postgres grants and
 *   revokes nothing here (a warning each) and the table rights alone keep the role out;
 * - any right granted to the role itself outside the demo schema is revoked.
 *
 * What stays, by Postgres's design: CONNECT through PUBLIC (restrict it in pg_hba.conf), the
 * system catalogs and PUBLIC's EXECUTE on built-in functions (names and server facts, not
 * Herald's data; the SQL guard's allowlist keeps the agent's queries away from them).
 * Superuser-only functions (pg_read_file, COPY … PROGRAM…) and pg_authid stay denied.
 */
export class DemoReaderLockdown1795334000004 implements MigrationInterface {
  name = 'DemoReaderLockdown1795334000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      DO $$
      DECLARE
        setting text;
      BEGIN
        FOREACH setting IN ARRAY ARRAY[
          'search_path = ${DEMO_SCHEMA}',
          'default_transaction_read_only = on',
          'statement_timeout = ''5s''',
          'idle_in_transaction_session_timeout = ''10s'''
        ] LOOP
          EXECUTE format('ALTER ROLE %I IN DATABASE %I SET %s', '${DEMO_READER_ROLE}', current_database(), setting);
        END LOOP;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          EXECUTE format('ALTER ROLE %I IN DATABASE %I SET temp_file_limit = ''64MB''', '${DEMO_READER_ROLE}', current_database());
        END IF;
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO CURRENT_USER', current_database());
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
      END $$`);
    await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO CURRENT_USER`);
    await db.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
    for (const objects of ['TABLES', 'SEQUENCES', 'FUNCTIONS'])
      await db.query(`REVOKE ALL ON ALL ${objects} IN SCHEMA public FROM ${DEMO_READER_ROLE}`);
    await db.query(`REVOKE ALL ON SCHEMA public FROM ${DEMO_READER_ROLE}`);
    await db.query(`REVOKE CREATE ON SCHEMA ${DEMO_SCHEMA} FROM ${DEMO_READER_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`GRANT USAGE ON SCHEMA public TO PUBLIC`);
    await db.query(`
      DO $$ BEGIN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
        EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', '${DEMO_READER_ROLE}', current_database());
      END $$`);
  }
}
