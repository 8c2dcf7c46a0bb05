import 'reflect-metadata';
import { ConfigError } from '@herald/config';
import { createLogger, installProcessGuards } from '@herald/observability';
import { bootstrap } from './bootstrap';

/** Unhandled rejections are logged and counted; an uncaught exception is logged and ends the process. */
installProcessGuards(createLogger('orchestrator'));

bootstrap().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
