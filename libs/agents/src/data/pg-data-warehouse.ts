import { type DataTable, ErrorCode, HeraldError } from '@herald/contracts';
import type { Pool, PoolClient, QueryArrayConfig, QueryArrayResult } from 'pg';
import type { DataWarehouse } from './data-warehouse';

export const DATA_STATEMENT_TIMEOUT_MS = 5_000;

/**
 * The demo dataset in Postgres, through a pool that logs in as the read-only demo role.
 * Every query runs in a READ ONLY transaction with a statement timeout, through the
 * extended protocol (which refuses more than one statement), wrapped as a subquery with a
 * LIMIT one above the row limit (so truncation is known), and is rolled back.
 */
export class PgDataWarehouse implements DataWarehouse {
  constructor(
    private readonly pool: Pool,
    private readonly statementTimeoutMs = DATA_STATEMENT_TIMEOUT_MS,
  ) {}

  async explain(sql: string, signal: AbortSignal): Promise<void> {
    await this.inReadOnly(signal, (client) => client.query(extended(`EXPLAIN SELECT * FROM (${sql}) AS result`)));
  }

  async query(sql: string, rowLimit: number, signal: AbortSignal): Promise<DataTable> {
    const limit = Math.max(1, Math.floor(rowLimit));
    const res: QueryArrayResult<unknown[]> = await this.inReadOnly(signal, (client) =>
      client.query(extended(`SELECT * FROM (${sql}) AS result LIMIT ${limit + 1}`)),
    );
    const rows = res.rows.slice(0, limit).map((row) => row.map(cell));
    return { columns: res.fields.map((f) => f.name), rows, rowCount: rows.length, truncated: res.rows.length > limit, sql };
  }

  private async inReadOnly<T>(signal: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = await this.pool.connect().catch((err: Error) => {
      void err;
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'The dataset is unavailable right now.');
    });
    let broken = false;
    const onAbort = () => {
      broken = true;
      client.release(true); // drops the connection: the server ends the query
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.statementTimeoutMs))}`);
      return await work(client);
    } catch (err) {
      signal.throwIfAborted();
      throw toQueryError(err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!broken) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        client.release(broken);
      }
    }
  }
}

/** The extended query protocol (pg's `queryMode`, missing from its types): one statement only. */
function extended(text: string): QueryArrayConfig {
  return { text, rowMode: 'array', queryMode: 'extended' } as QueryArrayConfig;
}

/** Database errors as messages fit for the model and the user (no internals beyond the database's own words). */
function toQueryError(err: unknown): HeraldError {
  const pg = err as { code?: string; message?: string };
  if (pg.code === '57014') return new HeraldError(ErrorCode.TIMEOUT, 'The query took too long and was stopped.');
  if (pg.code === '42501' || pg.code === '25006')
    return new HeraldError(ErrorCode.INVALID_INPUT, 'The query tried to do something it may not: only reading the demo tables is allowed.');
  if (typeof pg.code === 'string' && /^(42|22|21)/.test(pg.code))
    return new HeraldError(ErrorCode.INVALID_INPUT, `The database refused the query: ${pg.message}`);
  return new HeraldError(ErrorCode.UNAVAILABLE, 'The dataset is unavailable right now.');
}

function cell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) && value.length < 16) return Number(value);
  return String(value);
}
