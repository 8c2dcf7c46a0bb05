import { NestFactory } from '@nestjs/core';
import { type Config, loadConfig } from '@herald/contracts';
import { createLogger, PinoNestLogger } from '@herald/messaging';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from './app.module';

/**
 * Starts a persistence instance (no HTTP server: it only talks NATS and Postgres): migrates
 * the database, connects NATS, then serves RPC and writes events. `app.close()` stops it.
 */
export async function bootstrap(config: Config = loadConfig()): Promise<INestApplicationContext> {
  const logger = createLogger('persistence', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  logger.info({ instanceId: config.INSTANCE_ID, namespace: config.HERALD_NAMESPACE }, 'persistence started');
  return app;
}
