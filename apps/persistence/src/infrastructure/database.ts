import type { Config } from '@herald/config';
import { createDataSource, redactDatabaseUrl, runMigrations } from '@herald/db';
import type { Logger } from '@herald/observability';
import type { DataSource } from 'typeorm';

/** Brings the schema up to date (several instances may do this at once), then opens the pool. */
export async function openDatabase(config: Config, logger: Logger): Promise<DataSource> {
  const applied = await runMigrations(config.DATABASE_URL);
  logger.info({ database: redactDatabaseUrl(config.DATABASE_URL), applied }, applied.length ? 'database migrated' : 'database up to date');
  return createDataSource(config.DATABASE_URL, { applicationName: `herald-persistence-${config.INSTANCE_ID}` }).initialize();
}
