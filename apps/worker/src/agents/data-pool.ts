import { DEMO_READER_ROLE, DEMO_SCHEMA } from '@herald/contracts';
import { type Config } from '@herald/config';
import type { Logger } from '@herald/observability';
import { Pool } from 'pg';

const MAX_CONNECTIONS = 5;

/** DATA_DATABASE_URL, or DATABASE_URL logged in as the read-only demo role (no password: local trust setups). */
function dataDatabaseUrl(config: Pick<Config, 'DATABASE_URL' | 'DATA_DATABASE_URL'>): string {
  if (config.DATA_DATABASE_URL) return config.DATA_DATABASE_URL;
  const url = new URL(config.DATABASE_URL);
  url.username = DEMO_READER_ROLE;
  url.password = '';
  return url.toString();
}

/**
 * The data agent's pool: logged in as the demo role (SELECT on the `demo` schema only), every
 * session read-only with `demo` as its search path. PgDataWarehouse adds a READ ONLY
 * transaction and a statement timeout per query.
 */
export function createDataPool(config: Pick<Config, 'DATABASE_URL' | 'DATA_DATABASE_URL'>, logger: Logger): Pool {
  const pool = new Pool({
    connectionString: dataDatabaseUrl(config),
    options: `-c default_transaction_read_only=on -c search_path=${DEMO_SCHEMA}`,
    application_name: 'herald-data-agent',
    max: MAX_CONNECTIONS,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'data pool error'));
  return pool;
}
