import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Config } from '@herald/config';
import { createLogger, initTracing, type Logger, PinoNestLogger } from '@herald/observability';

/**
 * Starts a service that has no HTTP server (orchestrator, worker, persistence) as a Nest
 * application context, logging through pino, tracing (initTracing), stopping gracefully on SIGTERM/SIGINT.
 */
export async function bootstrapContext(
  service: string,
  config: Config,
  root: (config: Config, logger: Logger) => DynamicModule | Promise<DynamicModule>,
): Promise<INestApplicationContext> {
  const logger = createLogger(service, config.LOG_LEVEL);
  initTracing(service, config, logger);
  const app = await NestFactory.createApplicationContext(await root(config, logger), {
    logger: new PinoNestLogger(logger),
    // Errors at start reach the caller (main.ts prints them and exits; tests see them).
    abortOnError: false,
  });
  app.enableShutdownHooks();
  logger.info({ instanceId: config.INSTANCE_ID, namespace: config.HERALD_NAMESPACE }, `${service} started`);
  return app;
}
