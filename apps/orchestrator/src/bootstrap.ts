import { NestFactory } from '@nestjs/core';
import { type Config, loadConfig } from '@herald/contracts';
import { createLogger, PinoNestLogger } from '@herald/messaging';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from './app.module';

/** Starts an orchestrator (no HTTP server: it only talks NATS and Redis). */
export async function bootstrap(config: Config = loadConfig()): Promise<INestApplicationContext> {
  const logger = createLogger('orchestrator', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  logger.info({ instanceId: config.INSTANCE_ID, namespace: config.HERALD_NAMESPACE }, 'orchestrator started');
  return app;
}
