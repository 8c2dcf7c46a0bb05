import type { Config } from '@herald/config';
import type { Logger } from '@herald/observability';
import { Pool } from 'pg';

const STATEMENT_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 10;

/**
 * The worker's own Postgres pool for the agents' data sources. Every session is read-only
 * (`default_transaction_read_only`): a tool can never write Herald's state.
 */
export function createKnowledgePool(config: Pick<Config, 'DATABASE_URL' | 'WORKER_CONCURRENCY'>, logger: Logger): Pool {
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    options: '-c default_transaction_read_only=on',
    application_name: 'herald-worker',
    max: Math.min(MAX_CONNECTIONS, config.WORKER_CONCURRENCY),
    statement_timeout: STATEMENT_TIMEOUT_MS,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'knowledge base pool error'));
  return pool;
}
