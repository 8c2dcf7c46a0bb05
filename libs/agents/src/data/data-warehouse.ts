import type { DataTable } from '@herald/contracts';

/** Rows a result may ever have, whatever row limit the caller asks for. */
export const MAX_RESULT_ROWS = 1_000;
/** Bytes a result may ever have (its rows as JSON): a result is cut there, and says so (`truncated`). */
export const MAX_RESULT_BYTES = 256 * 1024;

/** Where the data agent's SQL runs: read-only, one statement, bounded in time, rows and bytes. */
export interface DataWarehouse {
  /** Plans the query (EXPLAIN) without running it; rejects with a fixed message per error class when it is invalid. */
  explain(sql: string, signal: AbortSignal): Promise<void>;
  /** Runs it and returns at most `rowLimit` rows (and MAX_RESULT_ROWS, MAX_RESULT_BYTES). */
  query(sql: string, rowLimit: number, signal: AbortSignal): Promise<DataTable>;
}
