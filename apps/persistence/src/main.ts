import 'reflect-metadata';
import { ConfigError } from '@herald/contracts';
import { DatabaseUnreachableError } from '@herald/db';
import { bootstrap } from './bootstrap';

bootstrap().catch((err) => {
  const known = err instanceof ConfigError || err instanceof DatabaseUnreachableError;
  console.error(known ? err.message : err);
  process.exit(1);
});
