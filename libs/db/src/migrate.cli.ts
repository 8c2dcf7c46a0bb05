import 'reflect-metadata';
import { ConfigError, loadConfig } from '@herald/config';
import { redactDatabaseUrl } from './database-url';
import { runMigrations } from './run-migrations';

/** `npm run db:migrate`: creates the database if needed and applies pending migrations. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { tokens: false });
  const target = redactDatabaseUrl(config.DATABASE_URL);
  const started = Date.now();
  const applied = await runMigrations(config.DATABASE_URL);
  const what = applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'already up to date';
  console.log(`db:migrate: ${target} ${what} (${Date.now() - started} ms)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    console.error(`db:migrate failed: ${message}`);
    process.exit(1);
  },
);
