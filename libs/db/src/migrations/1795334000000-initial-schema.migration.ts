import type { MigrationInterface, QueryRunner } from 'typeorm';
import { KB_CHUNK_TSV_EXPRESSION } from '../entities/kb-chunk.entity';

/** Herald's tables: conversations, messages, runs, the event log and the knowledge base. */
export class InitialSchema1795334000000 implements MigrationInterface {
  name = 'InitialSchema1795334000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE conversations (
        id          uuid        PRIMARY KEY,
        user_id     text        NOT NULL,
        title       text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // Keyset pagination: WHERE user_id = $1 AND (updated_at, id) < ($2, $3) ORDER BY updated_at DESC, id DESC.
    await db.query(`CREATE INDEX conversations_user_updated_idx ON conversations (user_id, updated_at DESC, id DESC)`);

    await db.query(`
      CREATE TABLE messages (
        id               uuid        PRIMARY KEY,
        conversation_id  uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        run_id           uuid        NULL,
        role             text        NOT NULL CHECK (role IN ('user', 'assistant')),
        content          text        NOT NULL,
        metadata         jsonb       NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at, id)`);

    await db.query(`
      CREATE TABLE runs (
        id                 uuid        PRIMARY KEY,
        user_id            text        NOT NULL,
        conversation_id    uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        message_id         uuid        NOT NULL,
        user_message_id    uuid        NOT NULL,
        client_message_id  text        NULL,
        content            text        NOT NULL,
        options            jsonb       NOT NULL,
        status             text        NOT NULL DEFAULT 'queued'
                           CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
        progress           real        NOT NULL DEFAULT 0,
        last_event_id      bigint      NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        started_at         timestamptz NULL,
        ended_at           timestamptz NULL
      )`);
    await db.query(
      `CREATE UNIQUE INDEX runs_user_client_message_uidx ON runs (user_id, client_message_id) WHERE client_message_id IS NOT NULL`,
    );
    await db.query(`CREATE INDEX runs_conversation_status_idx ON runs (conversation_id, status)`);

    await db.query(`
      CREATE TABLE events (
        id               bigint      PRIMARY KEY,
        user_id          text        NOT NULL,
        conversation_id  uuid        NOT NULL,
        run_id           uuid        NOT NULL,
        type             text        NOT NULL,
        envelope         jsonb       NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX events_user_id_idx ON events (user_id, id)`);
    await db.query(`CREATE INDEX events_conversation_id_idx ON events (conversation_id, id)`);
    await db.query(`CREATE INDEX events_run_idx ON events (run_id)`);

    await db.query(`
      CREATE TABLE kb_documents (
        id          text        PRIMARY KEY,
        title       text        NOT NULL,
        source      text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE kb_chunks (
        id           text     PRIMARY KEY,
        document_id  text     NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
        title        text     NOT NULL,
        content      text     NOT NULL,
        tsv          tsvector GENERATED ALWAYS AS (${KB_CHUNK_TSV_EXPRESSION}) STORED
      )`);
    await db.query(`CREATE INDEX kb_chunks_tsv_idx ON kb_chunks USING GIN (tsv)`);
    await db.query(`CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS kb_chunks, kb_documents, events, runs, messages, conversations`);
  }
}
