import 'reflect-metadata';
import { ConfigError } from '@herald/config';
import { DatabaseUnreachableError } from '@herald/db';
import { createLogger, installProcessGuards } from '@herald/observability';
import { bootstrap } from './bootstrap';

/** Unhandled rejections are logged and counted; an uncaught exception is logged and ends the process. */
installProcessGuards(createLogger('persistence'));

bootstrap().catch((err) => {
  const known = err instanceof ConfigError || err instanceof DatabaseUnreachableError;
  console.error(known ? err.message : err);
  process.exit(1);
});
