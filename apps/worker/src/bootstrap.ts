import { type Config, loadConfig } from '@herald/config';
import { bootstrapContext } from '@herald/messaging';
import { AppModule } from './app.module';

/** Starts a worker (no HTTP server: it takes BullMQ jobs and publishes to NATS). */
export function bootstrap(config: Config = loadConfig()) {
  return bootstrapContext('worker', config, AppModule.forRoot);
}
