import { setTimeout as sleep } from 'node:timers/promises';
import type { QueryRunner } from 'typeorm';
import { createDataSource } from './data-source';
import { isDatabaseUnavailable, pgErrorCode } from './database-errors';
import { redactDatabaseUrl } from './database-url';
import { ensureDatabase } from './ensure-database';

/** Postgres could not be reached at all: the message names where it was looked for. */
export class DatabaseUnreachableError extends Error {
  constructor(databaseUrl: string, cause: unknown) {
    const why = pgErrorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot reach Postgres at ${redactDatabaseUrl(databaseUrl)} (${why}). Is it running? Check DATABASE_URL.`, { cause });
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * Key of the Postgres advisory lock that serializes migrations: any number of instances may
 * start at once, one migrates and the others then find nothing left to do.
 */
export const MIGRATION_LOCK_KEY = 0x6865_7261_6c64; // "herald"

/**
 * Creates the database if needed and applies pending migrations; resolves with their names.
 * Rejects with a DatabaseUnreachableError when Postgres cannot be reached.
 */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  try {
    return await migrate(databaseUrl);
  } catch (err) {
    throw isDatabaseUnavailable(err) ? new DatabaseUnreachableError(databaseUrl, err) : err;
  }
}

async function migrate(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const dataSource = await createDataSource(databaseUrl, { poolSize: 3, applicationName: 'herald-migrate' }).initialize();
  try {
    const lock = dataSource.createQueryRunner();
    await lock.connect();
    try {
      await acquire(lock);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await lock.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

/** How often an instance that waits for another's migrations asks for the lock again. */
const LOCK_POLL_MS = 200;

/**
 * Takes the migration lock, asking again until it is free rather than waiting inside
 * `pg_advisory_lock`: a waiting statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` in
 * the lock holder's migration waits for every such snapshot to end, so two instances starting at
 * once would wait for each other forever (Postgres sees no deadlock there).
 */
async function acquire(lock: QueryRunner): Promise<void> {
  for (;;) {
    const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])) as [{ locked: boolean }];
    if (locked) return;
    await sleep(LOCK_POLL_MS);
  }
}
