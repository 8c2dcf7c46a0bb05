import { type DataTable, DEMO_SCHEMA, ErrorCode, HeraldError } from '@herald/contracts';
import type { Pool, PoolClient, QueryArrayConfig, QueryArrayResult } from 'pg';
import { type DataWarehouse, MAX_RESULT_BYTES, MAX_RESULT_ROWS } from './data-warehouse';
import { DEMO_TABLES } from './demo-schema';

export const DATA_STATEMENT_TIMEOUT_MS = 5_000;

/** Where the real database errors go (they never reach the user): pino's shape. */
export interface WarehouseLogger {
  warn(fields: object, message: string): void;
}

/**
 * The demo dataset in Postgres, through a pool that logs in as the read-only demo role.
 * Every query runs in a READ ONLY transaction with a statement timeout and the demo schema
 * as search path, through the extended protocol (which refuses more than one statement), and
 * is rolled back. A result is cut at the row limit (known from a LIMIT one above it) and at
 * MAX_RESULT_BYTES, measured in Postgres, so a short query that builds a huge value sends
 * none of it. A database error becomes a fixed message per SQLSTATE: its own text, which may
 * name internals, only goes to the log.
 */
export class PgDataWarehouse implements DataWarehouse {
  constructor(
    private readonly pool: Pool,
    private readonly statementTimeoutMs = DATA_STATEMENT_TIMEOUT_MS,
    private readonly logger?: WarehouseLogger,
  ) {}

  async explain(sql: string, signal: AbortSignal): Promise<void> {
    const prefix = 'EXPLAIN SELECT * FROM (';
    await this.inReadOnly(sql, prefix.length, signal, (client) => client.query(extended(`${prefix}${sql}) AS result`)));
  }

  async query(sql: string, rowLimit: number, signal: AbortSignal): Promise<DataTable> {
    const limit = Math.min(MAX_RESULT_ROWS, Math.max(1, Math.floor(rowLimit)));
    // The rows with a running total of their size (as text), in their order; only those
    // within MAX_RESULT_BYTES come back, then three columns of ours: the running size, the
    // row number, and how many rows there were (the one-row `counted` side of the LEFT JOIN
    // says so even when not one row fits).
    const prefix = 'WITH result AS (SELECT * FROM (';
    const text = `${prefix}${sql}) AS result LIMIT ${limit + 1}),
      sized AS (SELECT result.*, sum(octet_length(result::text)) OVER w AS "herald bytes", count(*) OVER w AS "herald row"
                FROM result WINDOW w AS (ROWS UNBOUNDED PRECEDING))
      SELECT sized.*, counted."herald rows"
      FROM (SELECT count(*) AS "herald rows" FROM sized) AS counted
      LEFT JOIN sized ON sized."herald bytes" <= ${MAX_RESULT_BYTES}
      ORDER BY sized."herald row"`;
    const res: QueryArrayResult<unknown[]> = await this.inReadOnly(sql, prefix.length, signal, (client) => client.query(extended(text)));

    const width = res.fields.length - 3;
    const matched = Number(res.rows[0]?.[width + 2] ?? 0);
    const rows: DataTable['rows'] = [];
    let bytes = 0;
    for (const raw of res.rows) {
      if (raw[width + 1] === null || rows.length === limit) break; // no row fitted / the row limit
      const row = raw.slice(0, width).map(cell);
      bytes += Buffer.byteLength(JSON.stringify(row)) + 1;
      if (bytes > MAX_RESULT_BYTES) break; // as JSON, a little larger than as text: cut again
      rows.push(row);
    }
    const columns = res.fields.slice(0, width).map((f) => f.name);
    return { columns, rows, rowCount: rows.length, truncated: matched > rows.length, sql };
  }

  private async inReadOnly<T>(sql: string, offset: number, signal: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = await this.pool.connect().catch((err: Error) => {
      this.logger?.warn({ err: err.message }, 'data warehouse: no connection');
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'The dataset is unavailable right now.');
    });
    let broken = false;
    const onAbort = () => {
      broken = true;
      client.release(true); // drops the connection: the server ends the query
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const timeout = Math.max(1, Math.floor(this.statementTimeoutMs));
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeout}; SET LOCAL search_path = ${DEMO_SCHEMA}`);
      return await work(client);
    } catch (err) {
      signal.throwIfAborted();
      const pg = err as { code?: string; message?: string; position?: string };
      this.logger?.warn({ code: pg.code, err: pg.message, position: pg.position, sql }, 'data warehouse: the query failed');
      throw toQueryError(pg, sql, offset);
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

const COLUMNS_HINT = () =>
  `the columns are ${Object.entries(DEMO_TABLES)
    .map(([t, cols]) => `${DEMO_SCHEMA}.${t}(${cols.map((c) => c.split(' ')[0]).join(', ')})`)
    .join(', ')}`;

/**
 * A database error as a fixed message for its SQLSTATE, fit for the model and the user: never
 * the database's own text. Where Postgres points at a name in the query, that name (the
 * model's own words, and only if it is a plain identifier) may be quoted back.
 */
export function toQueryError(pg: { code?: string; position?: string }, sql: string, offset: number): HeraldError {
  const code = typeof pg.code === 'string' ? pg.code : '';
  const invalid = (message: string) => new HeraldError(ErrorCode.INVALID_INPUT, message);
  const at = Number(pg.position) - 1 - offset; // 1-based, in the text sent (the query wrapped)
  const name = at >= 0 ? /^[a-z_]\w*(?:\.[a-z_]\w*)?(?![\w.])/i.exec(sql.slice(at, at + 130))?.[0] : undefined;
  switch (code) {
    case '57014':
      return new HeraldError(ErrorCode.TIMEOUT, 'The query took too long and was stopped.');
    case '42501':
    case '25006':
      return invalid('The query tried to do something it may not: only reading the demo tables is allowed.');
    case '42703':
      return invalid(`${name ? `column "${name}" does not exist` : 'A column of the query does not exist'}; ${COLUMNS_HINT()}.`);
    case '42P01':
      return invalid(`${name ? `table "${name}" does not exist` : 'A table of the query does not exist'}; ${COLUMNS_HINT()}.`);
    case '42702':
      return invalid(`${name ? `The column "${name}" is` : 'A column is'} ambiguous: prefix it with its table's alias.`);
    case '42803':
      return invalid('A column must appear in GROUP BY or be used in an aggregate function.');
    case '42883':
      return invalid('A function or operator does not exist for these argument types: a cast may be missing.');
    case '42804':
    case '42846':
    case '42P18':
      return invalid('Types do not match in the query: a cast may be missing.');
    case '42601':
      return invalid('The query has a syntax error.');
    case '22012':
      return invalid('The query divides by zero: guard the divisor with NULLIF(…, 0).');
    case '21000':
      return invalid('A subquery used as a value returned more than one row.');
  }
  if (code.startsWith('22')) return invalid('A value in the query is not valid for its type (a date, a number…).');
  if (code.startsWith('42')) return invalid('The database refused the query as invalid.');
  if (code.startsWith('53') || code.startsWith('54')) return invalid('The query needs more resources than it may use: make it simpler.');
  return new HeraldError(ErrorCode.UNAVAILABLE, 'The dataset is unavailable right now.');
}

function cell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && /^-?\d+(?:\.\d+)?$/.test(value) && value.length < 16) return Number(value);
  return String(value);
}
