import 'reflect-metadata';
import { ConfigError } from '@herald/contracts';
import { bootstrap } from './bootstrap';

bootstrap().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
