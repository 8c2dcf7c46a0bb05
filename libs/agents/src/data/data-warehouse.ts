import type { DataTable } from '@herald/contracts';

/** Where the data agent's SQL runs: read-only, one statement, bounded in time and rows. */
export interface DataWarehouse {
  /** Plans the query (EXPLAIN) without running it; rejects with the database's message when it is invalid. */
  explain(sql: string, signal: AbortSignal): Promise<void>;
  /** Runs it and returns at most `rowLimit` rows. */
  query(sql: string, rowLimit: number, signal: AbortSignal): Promise<DataTable>;
}
