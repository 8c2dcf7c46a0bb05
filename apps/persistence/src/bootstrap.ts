import { type Config, loadConfig } from '@herald/config';
import { bootstrapContext } from '@herald/messaging';
import { AppModule } from './app.module';
import { openDatabase } from './infrastructure/database';

/**
 * Starts a persistence instance (no HTTP server: it only talks NATS and Postgres). The
 * database is migrated and open before anything connects to NATS, so an instance that
 * cannot migrate never takes work. `app.close()` stops it.
 */
export function bootstrap(config: Config = loadConfig()) {
  return bootstrapContext('persistence', config, async (cfg, logger) => AppModule.forRoot(cfg, logger, await openDatabase(cfg, logger)));
}
