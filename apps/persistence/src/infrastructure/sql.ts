import type { EntityManager } from 'typeorm';

export interface SqlResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted. */
  count: number;
}

/**
 * Runs one parameterized statement and returns its rows and row count, whatever the
 * statement (TypeORM's `query()` changes its answer's shape for UPDATE and DELETE).
 */
export async function sql<T = Record<string, unknown>>(db: EntityManager, text: string, params: unknown[] = []): Promise<SqlResult<T>> {
  const runner = db.queryRunner ?? db.connection.createQueryRunner();
  try {
    const result = await runner.query(text, params, true);
    return { rows: (result.records ?? []) as T[], count: result.affected ?? 0 };
  } finally {
    if (!db.queryRunner) await runner.release();
  }
}
