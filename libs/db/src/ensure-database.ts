import { Client } from 'pg';
import { PG_ERROR, pgErrorCode } from './database-errors';
import { databaseNameOf, quoteIdentifier, withDatabase } from './database-url';

const CONNECT_TIMEOUT_MS = 5000;

/**
 * Creates the database DATABASE_URL names if it does not exist yet, through the `postgres`
 * maintenance database. Safe when several processes do it at once. Resolves true when this
 * call created it.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseNameOf(databaseUrl);
  if (!name || (await databaseExists(databaseUrl))) return false;
  return withClient(withDatabase(databaseUrl, 'postgres'), async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (err) {
      // Another process created it between our check and our CREATE.
      const code = pgErrorCode(err);
      if (code === PG_ERROR.duplicateDatabase || code === PG_ERROR.uniqueViolation) return false;
      throw err;
    }
  });
}

async function databaseExists(databaseUrl: string): Promise<boolean> {
  try {
    await withClient(databaseUrl, async () => undefined);
    return true;
  } catch (err) {
    if (pgErrorCode(err) === PG_ERROR.invalidCatalogName) return false;
    throw err;
  }
}

async function withClient<T>(connectionString: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined); // a dropped connection surfaces as the query's error
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
