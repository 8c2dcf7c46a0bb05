import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Config, loadConfig } from '@herald/contracts';
import { createLogger, PinoNestLogger } from '@herald/messaging';
import { AppModule } from './app.module';

/** Starts a worker (no HTTP server: it takes BullMQ jobs and publishes to NATS). */
export async function bootstrap(config: Config = loadConfig()): Promise<INestApplicationContext> {
  const logger = createLogger('worker', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  logger.info({ instanceId: config.INSTANCE_ID, namespace: config.HERALD_NAMESPACE }, 'worker started');
  return app;
}
