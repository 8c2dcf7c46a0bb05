import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { type EntityManager, QueryFailedError } from 'typeorm';

export interface SqlResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted. */
  count: number;
}

/** Each statement's name, by its text (the texts are this app's own, a fixed set). */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `herald_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs one parameterized statement and returns its rows and row count, whatever the
 * statement (TypeORM's `query()` changes its answer's shape for UPDATE and DELETE).
 * Every statement is a named prepared statement on its connection: Postgres parses and
 * analyses it once per connection, not once per call, and after a few calls plans it once
 * (a generic plan) when that costs no more than planning each call; parsing, analysis and
 * planning were most of the server's CPU per statement. Errors are TypeORM's, as before.
 */
export async function sql<T = Record<string, unknown>>(db: EntityManager, text: string, params: unknown[] = []): Promise<SqlResult<T>> {
  const runner = db.queryRunner ?? db.connection.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    const result = await client.query({ name: statementName(text), text, values: params }).catch((err: unknown) => {
      throw new QueryFailedError(text, params, err as Error);
    });
    return { rows: result.rows as T[], count: result.rowCount ?? 0 };
  } finally {
    if (!db.queryRunner) await runner.release();
  }
}
